/** Confidence intervals for what a phase measured: a latency percentile's, and an error rate's lower bound. */
import { probit } from 'simple-statistics';

import type { LatencyHistogram } from './histogram';

export interface PercentileInterval {
  readonly estimateMs: number;
  readonly lowerMs: number;
  readonly upperMs: number;
}

/**
 * A distribution-free confidence interval for a percentile: the order statistics whose ranks
 * bound `n·q ± z·√(n·q·(1-q))` (the binomial count of samples below the true quantile).
 */
export function percentileInterval(histogram: LatencyHistogram, percentile: number, confidence = 0.95): PercentileInterval {
  const n = histogram.count;
  const q = percentile / 100;
  const z = probit(1 - (1 - confidence) / 2);
  const spread = z * Math.sqrt(n * q * (1 - q));
  const lowerRank = Math.max(1, Math.floor(n * q - spread));
  const upperRank = Math.min(n, Math.ceil(n * q + spread));
  return {
    estimateMs: histogram.percentileMs(percentile),
    lowerMs: histogram.percentileMs((100 * lowerRank) / n),
    upperMs: histogram.percentileMs((100 * upperRank) / n),
  };
}

/**
 * A confidence interval for a percentile that holds when consecutive latencies are correlated (a
 * stall delays every request behind it, so samples are not independent and the order-statistic
 * interval above is far too narrow). Batching: the percentile of each equal time window of the
 * phase varies from window to window as much as the correlation makes it, so the whole phase's
 * percentile ± Student's t × their standard error is the interval (centred on the whole phase's
 * estimate: the mean of windows' high percentiles is biased when windows are small), widened to
 * include the independent-sample one. With fewer than 3 windows it is the independent-sample one.
 */
export function robustPercentileInterval(
  histogram: LatencyHistogram,
  percentile: number,
  windowPercentilesMs: readonly number[] | undefined,
  confidence = 0.95,
): PercentileInterval {
  const iid = percentileInterval(histogram, percentile, confidence);
  const k = windowPercentilesMs?.length ?? 0;
  if (!windowPercentilesMs || k < 3) return iid;
  const mean = windowPercentilesMs.reduce((a, b) => a + b, 0) / k;
  const variance = windowPercentilesMs.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (k - 1);
  const half = studentT(1 - (1 - confidence) / 2, k - 1) * Math.sqrt(variance / k);
  return {
    estimateMs: iid.estimateMs,
    lowerMs: Math.max(0, Math.min(iid.lowerMs, iid.estimateMs - half)),
    upperMs: Math.max(iid.upperMs, iid.estimateMs + half),
  };
}

/** Student's t quantile (Cornish-Fisher expansion from the normal's: within 1% for 3 degrees of freedom or more). */
function studentT(p: number, df: number): number {
  const z = probit(p);
  return (
    z +
    (z ** 3 + z) / (4 * df) +
    (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df) +
    (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3)
  );
}

/** The Wilson score interval's lower bound for a proportion. */
export function wilsonLowerBound(failures: number, total: number, confidence = 0.95): number {
  if (total === 0) return 0;
  const z = probit(1 - (1 - confidence) / 2);
  const p = failures / total;
  const denominator = 1 + (z * z) / total;
  const centre = p + (z * z) / (2 * total);
  const margin = z * Math.sqrt((p * (1 - p)) / total + (z * z) / (4 * total * total));
  return Math.max(0, (centre - margin) / denominator);
}
