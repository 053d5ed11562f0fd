/**
 * The SLO as the load generator measures against it: its bounds (end-to-end latency, and for
 * streams time to first token and inter-token latency), how they are named, and the one rule for
 * reading a percentile's interval against a bound.
 */
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

/** Where a percentile's interval stands against the SLO's latency: wholly within it, wholly over it, or astride it. */
export type SloCall = 'within' | 'over' | 'too close to call';

/** The one rule for reading an interval against the SLO: a pass needs its upper bound within, a fail its lower bound over. */
export function sloCall([lowerMs, upperMs]: readonly [number, number], sloMs: number): SloCall {
  return upperMs <= sloMs ? 'within' : lowerMs > sloMs ? 'over' : 'too close to call';
}
