/** How selections and reports write money, latencies and percentiles, so they read the same everywhere. */
export const formatUsd = (usd: number) => `$${usd.toFixed(2)}`;
/** Money that may be cents or less (a batch job's cost): two significant digits below a dollar. */
export const formatUsdPrecise = (usd: number) => (Math.abs(usd) >= 1 || usd === 0 ? formatUsd(usd) : `$${+usd.toPrecision(2)}`);
export const formatMs = (v: number) => `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ms`;
export const percentileLabel = (p: number) => `p${String(p).replace(/\.0$/, '')}`;

/** Failed requests by kind, most frequent first: `http_500=12 timeout=3`. */
export const errorKinds = (errors: Readonly<Record<string, number>>): string =>
  Object.entries(errors)
    .sort(([, a], [, b]) => b - a)
    .map(([kind, n]) => `${kind}=${n}`)
    .join(' ');

/** A short human form of a duration in ms: `850ms`, `12.5s`, `3m 20s`. */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  // Rounded before it is split, so 479.6 s is 8m, not 7m 60s.
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) {
    const minutes = Math.floor(totalSeconds / 60);
    const seconds = totalSeconds % 60;
    return seconds ? `${minutes}m ${seconds}s` : `${minutes}m`;
  }
  const totalMinutes = Math.round(ms / 60_000);
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  return minutes ? `${hours}h ${minutes}m` : `${hours}h`;
}

/** A quality figure (a share of right answers, or an error): three decimals, two significant digits for a small error. */
export function formatQuality(value: number): string {
  if (value !== 0 && Math.abs(value) < 0.001) return value.toPrecision(2);
  return value.toFixed(3);
}
