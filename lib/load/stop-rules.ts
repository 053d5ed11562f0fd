import { probit } from 'simple-statistics';

import { formatMs, percentileLabel } from '../format/format';
import type { LatencyHistogram } from './histogram';

/** A token latency the SLO bounds at a percentile (generative models). */
export interface TokenLatencyBound {
  /** 50 to 99.9. */
  readonly percentile: number;
  readonly ms: number;
}

/** The SLO a phase is measured against. */
export interface PhaseSlo {
  /** 50 to 99.9. */
  readonly percentile: number;
  /** End-to-end latency at that percentile. */
  readonly latencyMs: number;
  /** 0 to 1. */
  readonly maxErrorRate: number;
  /** Streaming targets: time from the intended send to the first token. */
  readonly timeToFirstToken?: TokenLatencyBound;
  /** Streaming targets: time between consecutive tokens. */
  readonly interTokenLatency?: TokenLatencyBound;
}

/** What a latency bound of the SLO measures: whole responses, or (streams) the first token or the gaps between tokens. */
export type SloMetric = 'latency' | 'timeToFirstToken' | 'interTokenLatency';

/** One latency the SLO bounds at a percentile. */
export interface SloBound {
  readonly metric: SloMetric;
  readonly percentile: number;
  readonly ms: number;
}

/** The metrics of streamed responses a bound may be on. */
export type TokenMetric = Exclude<SloMetric, 'latency'>;

/** The SLO's bounds on tokens (none unless it has some), time to first token first. */
export function tokenBounds(slo: Pick<PhaseSlo, TokenMetric>): Array<SloBound & { readonly metric: TokenMetric }> {
  return [
    ...(slo.timeToFirstToken ? [{ metric: 'timeToFirstToken' as const, ...slo.timeToFirstToken }] : []),
    ...(slo.interTokenLatency ? [{ metric: 'interTokenLatency' as const, ...slo.interTokenLatency }] : []),
  ];
}

/** Every latency the SLO bounds, end-to-end latency first. */
export function sloBounds(slo: PhaseSlo): SloBound[] {
  return [{ metric: 'latency', percentile: slo.percentile, ms: slo.latencyMs }, ...tokenBounds(slo)];
}

const METRIC_NAMES: Record<SloMetric, string> = { latency: '', timeToFirstToken: ' time to first token', interTokenLatency: ' inter-token latency' };

/** `p99`, `p95 time to first token`: how reasons name a bound. */
export const boundLabel = (bound: Pick<SloBound, 'metric' | 'percentile'>) => `${percentileLabel(bound.percentile)}${METRIC_NAMES[bound.metric]}`;

/** `p95 time to first token ≤ 500 ms`. */
export const boundText = (bound: SloBound) => `${boundLabel(bound)} ≤ ${formatMs(bound.ms)}`;

/** A bound with what a phase measured for it so far: the latencies, and their percentile per batch of time windows. */
export interface BoundSample {
  readonly bound: SloBound;
  readonly histogram: LatencyHistogram;
  readonly windowsMs: readonly number[];
}

export interface StopRuleOptions {
  /** Width of the percentile's confidence interval, relative to its estimate, that counts as known. @default 0.05 */
  readonly tolerance?: number;
  /** Two-sided confidence of the interval. @default 0.95 */
  readonly confidence?: number;
  /** No early stop before this many completed requests. @default 300 */
  readonly minSamples?: number;
  /**
   * No early stop on latency before this many of the phase's time windows are complete: the
   * interval that survives correlated latencies is made from them. @default 5
   */
  readonly minWindows?: number;
}

export type StopReason = 'percentile-known' | 'violates-latency' | 'violates-errors';

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

/**
 * Whether a phase can end early: every bounded percentile is known closely enough, or the target
 * clearly fails the SLO (one bound's whole confidence interval is over it, or the error rate's
 * lower bound is over the limit). Undefined while neither is certain. The latency rules use the
 * interval made from the completed time windows (see {@link robustPercentileInterval}), never
 * the independent-sample one alone: a stall early in a phase would otherwise end it as a failure.
 * `samples` holds end-to-end latency first; its count with `failures` is the completed requests.
 */
export function shouldStop(
  samples: readonly BoundSample[],
  failures: number,
  maxErrorRate: number,
  options: StopRuleOptions = {},
): StopReason | undefined {
  const confidence = options.confidence ?? 0.95;
  const completed = (samples[0]?.histogram.count ?? 0) + failures;
  if (completed < (options.minSamples ?? 300)) return undefined;
  if (wilsonLowerBound(failures, completed, confidence) > maxErrorRate) return 'violates-errors';
  let allKnown = true;
  for (const { bound, histogram, windowsMs } of samples) {
    if (histogram.count === 0 || windowsMs.length < (options.minWindows ?? 5)) {
      allKnown = false;
      continue;
    }
    const interval = robustPercentileInterval(histogram, bound.percentile, windowsMs, confidence);
    if (sloCall([interval.lowerMs, interval.upperMs], bound.ms) === 'over') return 'violates-latency';
    if (interval.upperMs - interval.lowerMs > (options.tolerance ?? 0.05) * interval.estimateMs) allKnown = false;
  }
  return allKnown && samples.length > 0 ? 'percentile-known' : undefined;
}

/** Where a percentile's interval stands against the SLO's latency: wholly within it, wholly over it, or astride it. */
export type SloCall = 'within' | 'over' | 'too close to call';

/** The one rule for reading an interval against the SLO: a pass needs its upper bound within, a fail its lower bound over. */
export function sloCall([lowerMs, upperMs]: readonly [number, number], sloMs: number): SloCall {
  return upperMs <= sloMs ? 'within' : lowerMs > sloMs ? 'over' : 'too close to call';
}

/**
 * Whether the phase cannot be called yet: some bound's interval has the SLO inside it, and none is
 * wholly over (that one alone fails the phase, so running on would settle nothing).
 */
export function tooCloseToCall(samples: readonly BoundSample[], confidence = 0.95): boolean {
  const calls = samples
    .filter((s) => s.histogram.count > 0)
    .map(({ bound, histogram, windowsMs }) => {
      const interval = robustPercentileInterval(histogram, bound.percentile, windowsMs, confidence);
      return sloCall([interval.lowerMs, interval.upperMs], bound.ms);
    });
  return !calls.includes('over') && calls.includes('too close to call');
}
