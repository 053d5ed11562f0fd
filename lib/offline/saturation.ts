/**
 * The saturation search of an offline (batch) sweep: closed-loop probes at rising concurrency,
 * doubling from `from`, until throughput stops growing (two doublings in a row add less than
 * `minGain` to the best so far: one noisy probe cannot end it), errors pass the SLO's rate, or
 * `to` is reached. Pure functions over plain JSON: the workflow's search step runs each probe and
 * records it, as it does the rate search's (see lib/load/capacity-search).
 */
import { MAX_LONGER_PROBES } from '../spec/expand';
import type { Throughput } from './throughput';

/** The ladder, as the spec gives it. */
export interface SaturationSettings {
  /** The first concurrency probed. */
  readonly from: number;
  /** The highest concurrency probed. */
  readonly to: number;
  /** A doubling that adds less than this share of throughput means saturated (0.1: under 10% more). */
  readonly minGain: number;
  /** A probe's own length. */
  readonly stepDuration: number;
  /**
   * A probe whose 95% interval's half-width is more than this share of its throughput is measured
   * again, twice as long (at most {@link MAX_LONGER_PROBES} times).
   */
  readonly precision: number;
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
  /** Why it stopped, in words: "throughput stopped growing: 2 doublings past concurrency 8 each added under 10%". */
  readonly stoppedBecause?: string;
  /** It stopped at `to`, still growing: the throughput is a lower bound on what the target can do. */
  readonly unsaturated?: boolean;
  /** Probes in a row, up to the last, that added less than `minGain` to the best before them. */
  readonly flat?: number;
  /** The last probe's interval was too wide: it is measured again, this many times longer. */
  readonly longer?: number;
  /** How many times a probe was measured again, longer, for its interval was too wide. */
  readonly remeasured?: number;
}

/** Doublings in a row that must add less than `minGain` before the search calls the target saturated. */
export const FLAT_PROBES_TO_STOP = 2;

/** The ladder for a candidate that takes at most `maxConcurrency` requests at once: it stops there. */
export function saturationFor(settings: SaturationSettings, maxConcurrency: number | undefined): SaturationSettings {
  if (maxConcurrency === undefined || maxConcurrency >= settings.to) return settings;
  const to = Math.max(1, Math.floor(maxConcurrency));
  return { ...settings, to, from: Math.min(settings.from, to) };
}

export const firstSaturationState = (): SaturationState => ({ done: false, probes: [] });

/** The next probe: `from`, then double the last, never past `to`; or the last again, longer, where its interval was too wide. */
export function nextSaturationProbe(settings: SaturationSettings, state: SaturationState): { concurrency: number; durationMs: number } {
  const last = state.probes.at(-1);
  if (state.longer && last) return { concurrency: last.concurrency, durationMs: settings.stepDuration * state.longer };
  return { concurrency: last ? Math.min(settings.to, last.concurrency * 2) : settings.from, durationMs: settings.stepDuration };
}

/**
 * The state after a probe. A probe whose interval is wider than `precision` allows is measured
 * again, twice as long (up to four times the step), and the longer measurement takes its place.
 * The search stops when the probe's errors pass `maxErrorRate` (the target is
 * overloaded there: its throughput does not count), when two doublings in a row each added less
 * than `minGain` to the best throughput before them, or at `to`.
 */
export function afterSaturationProbe(
  settings: SaturationSettings,
  state: SaturationState,
  probe: SaturationProbe,
  maxErrorRate: number,
): SaturationState {
  // A probe measured again, longer, takes its first measurement's place.
  const remeasure = state.longer !== undefined;
  const earlier = remeasure ? state.probes.slice(0, -1) : state.probes;
  const before = { ...state, probes: earlier };
  const probes = [...earlier, probe];
  const half = (probe.interval[1] - probe.interval[0]) / 2;
  const times = remeasure ? state.longer! : 1;
  const remeasured = (state.remeasured ?? 0) + (remeasure ? 1 : 0);
  if (probe.errorRate <= maxErrorRate && half > settings.precision * probe.rowsPerSecond && times < 2 ** MAX_LONGER_PROBES)
    return { done: false, probes, flat: state.flat ?? 0, longer: times * 2, remeasured };
  return { ...judgeProbe(settings, before, probe, maxErrorRate), remeasured };
}

function judgeProbe(settings: SaturationSettings, state: SaturationState, probe: SaturationProbe, maxErrorRate: number): SaturationState {
  const probes = [...state.probes, probe];
  const pct = (share: number) => `${Math.round(share * 100)}%`;
  if (probe.errorRate > maxErrorRate)
    return {
      done: true,
      probes,
      stoppedBecause: `error rate ${pct(probe.errorRate)} at concurrency ${probe.concurrency}, above ${pct(maxErrorRate)}`,
    };
  const best = bestProbe(state.probes, maxErrorRate);
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
  /** How many times a probe was measured again, longer, for its interval was too wide. */
  readonly remeasured?: number;
}

/**
 * The search's result: the highest throughput of a probe within the error SLO (past the knee,
 * the target's queue keeps it busy, so that is its capacity), and the knee. Undefined when no
 * probe kept its errors within the SLO.
 */
export function saturationOf(settings: SaturationSettings, state: SaturationState, maxErrorRate: number): Saturation | undefined {
  const best = bestProbe(state.probes, maxErrorRate);
  if (!best) return undefined;
  const knee = state.probes.find((p) => p.errorRate <= maxErrorRate && p.rowsPerSecond >= (1 - settings.minGain) * best.rowsPerSecond)!;
  return {
    rowsPerSecond: best.rowsPerSecond,
    interval: best.interval,
    concurrency: best.concurrency,
    knee: knee.concurrency,
    curve: state.probes,
    stoppedBecause: state.stoppedBecause ?? 'not finished',
    ...(state.unsaturated ? { unsaturated: true } : {}),
    ...(state.remeasured ? { remeasured: state.remeasured } : {}),
  };
}

/** The probe of highest throughput among those within the error SLO, the first of equals. */
function bestProbe(probes: readonly SaturationProbe[], maxErrorRate: number): SaturationProbe | undefined {
  return probes.reduce<SaturationProbe | undefined>(
    (best, p) => (p.errorRate <= maxErrorRate && (!best || p.rowsPerSecond > best.rowsPerSecond) ? p : best),
    undefined,
  );
}
