/** How selections and reports write money, latencies and percentiles, so they read the same everywhere. */
export const formatUsd = (usd: number) => `$${usd.toFixed(2)}`;
export const formatMs = (v: number) => `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ms`;
export const percentileLabel = (p: number) => `p${String(p).replace(/\.0$/, '')}`;
