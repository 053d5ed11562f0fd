/** When a phase may stop early, and when it runs on because the SLO cannot be called yet. */
import { robustPercentileInterval, wilsonLowerBound } from './percentile-interval';
import { type BoundSample, sloCall } from './slo-bounds';

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

/**
 * Whether the phase cannot be called yet: some bound's interval has the SLO inside it, and none is
 * wholly over (that one alone fails the phase, so running on would settle nothing).
 */
export function sloUndecided(samples: readonly BoundSample[], confidence = 0.95): boolean {
  const calls = samples
    .filter((s) => s.histogram.count > 0)
    .map(({ bound, histogram, windowsMs }) => {
      const interval = robustPercentileInterval(histogram, bound.percentile, windowsMs, confidence);
      return sloCall([interval.lowerMs, interval.upperMs], bound.ms);
    });
  return !calls.includes('over') && calls.includes('too close to call');
}
