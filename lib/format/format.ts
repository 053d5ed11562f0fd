/** How selections and reports write money, latencies and percentiles, so they read the same everywhere. */
export const formatUsd = (usd: number) => `$${usd.toFixed(2)}`;
export const formatMs = (v: number) => `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ms`;
export const percentileLabel = (p: number) => `p${String(p).replace(/\.0$/, '')}`;

/** Failed requests by kind, most frequent first: `http_500=12 timeout=3`. */
export const errorKinds = (errors: Readonly<Record<string, number>>): string =>
  Object.entries(errors)
    .sort(([, a], [, b]) => b - a)
    .map(([kind, n]) => `${kind}=${n}`)
    .join(' ');
