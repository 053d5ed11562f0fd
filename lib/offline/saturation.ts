/**
 * The saturation search of an offline (batch) sweep: closed-loop probes at rising concurrency,
 * doubling from `from`, until throughput stops growing (two doublings in a row add less than
 * `minGain` to the best so far: one noisy probe cannot end it), errors pass the SLO's rate, or
 * `to` is reached. Pure functions over plain JSON: the workflow's search step runs each probe and
 * records it, as it does the rate search's (see lib/load/capacity-search).
 */
import type { Throughput } from './throughput';

/** The ladder, as the spec gives it. */
export interface SaturationSettings {
  /** The first concurrency probed. */
  readonly from: number;
  /** The highest concurrency probed. */
  readonly to: number;
  /** A doubling that adds less than this share of throughput means saturated (0.1: under 10% more). */
  readonly minGain: number;
}

/** One probe: its concurrency, its throughput and interval, and its error rate. */
export interface SaturationProbe extends Throughput {
  readonly concurrency: number;
  readonly errorRate: number;
}

/** Where a saturation search stands between probes. */
export interface SaturationState {
  readonly done: boolean;
  readonly probes: readonly SaturationProbe[];
  /** Why it stopped, in words: "throughput grew 2% from concurrency 8 to 16". */
  readonly stoppedBecause?: string;
  /** It stopped at `to`, still growing: the throughput is a lower bound on what the target can do. */
  readonly unsaturated?: boolean;
  /** Probes in a row, up to the last, that added less than `minGain` to the best before them. */
  readonly flat?: number;
}

/** Doublings in a row that must add less than `minGain` before the search calls the target saturated. */
const FLAT_PROBES_TO_STOP = 2;

export const firstSaturationState = (): SaturationState => ({ done: false, probes: [] });

/** The concurrency of the next probe: `from`, then double the last, never past `to`. */
export function nextConcurrency(settings: SaturationSettings, state: SaturationState): number {
  const last = state.probes.at(-1);
  return last ? Math.min(settings.to, last.concurrency * 2) : settings.from;
}

/**
 * The state after a probe. It stops when the probe's errors pass `maxErrorRate` (the target is
 * overloaded there: its throughput does not count), when two doublings in a row each added less
 * than `minGain` to the best throughput before them, or at `to`.
 */
export function afterSaturationProbe(
  settings: SaturationSettings,
  state: SaturationState,
  probe: SaturationProbe,
  maxErrorRate: number,
): SaturationState {
  const probes = [...state.probes, probe];
  const pct = (share: number) => `${Math.round(share * 100)}%`;
  if (probe.errorRate > maxErrorRate)
    return {
      done: true,
      probes,
      stoppedBecause: `error rate ${pct(probe.errorRate)} at concurrency ${probe.concurrency}, above ${pct(maxErrorRate)}`,
    };
  const best = state.probes
    .filter((p) => p.errorRate <= maxErrorRate)
    .reduce<SaturationProbe | undefined>((a, b) => (a && a.rowsPerSecond >= b.rowsPerSecond ? a : b), undefined);
  const grew = !best || probe.rowsPerSecond >= (1 + settings.minGain) * best.rowsPerSecond;
  const flat = grew ? 0 : (state.flat ?? 0) + 1;
  if (flat >= FLAT_PROBES_TO_STOP)
    return {
      done: true,
      probes,
      flat,
      stoppedBecause: `throughput stopped growing: ${flat} doublings past concurrency ${probes[probes.length - flat - 1]!.concurrency} each added under ${pct(settings.minGain)}`,
    };
  if (probe.concurrency >= settings.to)
    return {
      done: true,
      probes,
      flat,
      ...(grew
        ? { unsaturated: true, stoppedBecause: `still growing at concurrency ${settings.to}, the most probed` }
        : { stoppedBecause: `reached concurrency ${settings.to}, the most probed` }),
    };
  return { done: false, probes, flat };
}

/** What the search found: the throughput at saturation and its interval, the knee, and the curve. */
export interface Saturation extends Throughput {
  /** The lowest concurrency within `minGain` of the highest throughput: what a job should run at. */
  readonly knee: number;
  /** The concurrency whose throughput is the highest measured. */
  readonly concurrency: number;
  readonly curve: readonly SaturationProbe[];
  readonly stoppedBecause: string;
  readonly unsaturated?: boolean;
}

/**
 * The search's result: the highest throughput of a probe within the error SLO (past the knee,
 * the target's queue keeps it busy, so that is its capacity), and the knee. Undefined when no
 * probe kept its errors within the SLO.
 */
export function saturationOf(settings: SaturationSettings, state: SaturationState, maxErrorRate: number): Saturation | undefined {
  const within = state.probes.filter((p) => p.errorRate <= maxErrorRate);
  if (within.length === 0) return undefined;
  const best = within.reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a));
  const knee = within.find((p) => p.rowsPerSecond >= (1 - settings.minGain) * best.rowsPerSecond)!;
  return {
    rowsPerSecond: best.rowsPerSecond,
    interval: best.interval,
    concurrency: best.concurrency,
    knee: knee.concurrency,
    curve: state.probes,
    stoppedBecause: state.stoppedBecause ?? 'not finished',
    ...(state.unsaturated ? { unsaturated: true } : {}),
  };
}
