/**
 * The rate search: the highest open-loop rate that still meets the SLO, found with few probes.
 * It probes the bottom of the range, then the top, then bisects geometrically (rates span orders
 * of magnitude, so the middle of 10 and 1000 rps is 100, not 505). Pure functions: the workflow's
 * search step runs each probe and records it, the plan counts probes for the cost estimate.
 */

/** A search's range, as the spec gives it. */
export interface CapacitySearchRange {
  /** The lowest rate probed (requests/s). */
  readonly from: number;
  /** The highest rate probed (requests/s). */
  readonly to: number;
  /** Stop when the bracket `[low, high]` is this narrow, relative to `low`. */
  readonly precision: number;
}

/** Where a search stands between probes (plain JSON: it travels between workflow steps). */
export interface CapacitySearchState {
  /** Nothing more to probe. */
  readonly done: boolean;
  /** The highest rate known to pass (or `from` before it is known). */
  readonly low: number;
  /** The lowest rate known to fail (or `to` before it is known). */
  readonly high: number;
  /** Probes run so far. */
  readonly probes: number;
  /** Once the bracket is narrow, its ends are probed once more: which one is being confirmed. */
  readonly confirming?: 'low' | 'high';
  /** Ends whose second probe disagreed with the first (low failed, or high passed): capacity is less certain there. */
  readonly unconfirmed?: Array<'low' | 'high'>;
}

/** Index of the first probe among a candidate's recorded phases (after the spec's own). */
export const SEARCH_PHASE_BASE = 1000;

/** The state before the first probe; a spec without a search is done at once. */
export function firstProbe(range: CapacitySearchRange | undefined): CapacitySearchState {
  return range ? { done: false, low: range.from, high: range.to, probes: 0 } : { done: true, low: 1, high: 1, probes: 0 };
}

/** The rate of the next probe: the bottom of the range, then the top, then the geometric middle; at the end, the bracket's ends again. */
export function probeRate(range: CapacitySearchRange, state: CapacitySearchState): number {
  if (state.confirming) return state[state.confirming];
  if (state.probes === 0) return range.from;
  if (state.probes === 1) return range.to;
  return Math.sqrt(state.low * state.high);
}

/**
 * The state after a probe at `probeRate(range, state)` passed or failed. A failing bottom ends the
 * search (nothing in range passes), as does a passing top (everything does). A bracket narrow
 * enough is confirmed before the search ends: its passing end probed again, then its failing end,
 * so one lucky or unlucky probe cannot set the capacity alone; an end whose second probe disagrees
 * is reported `unconfirmed` (and the recorded phases carry both verdicts).
 */
export function nextProbe(range: CapacitySearchRange, state: CapacitySearchState, passed: boolean): CapacitySearchState {
  const probes = state.probes + 1;
  if (state.confirming === 'low') return { ...state, probes, confirming: 'high', unconfirmed: passed ? [] : ['low'] };
  if (state.confirming === 'high') {
    const { confirming: _, ...rest } = state;
    return { ...rest, probes, done: true, unconfirmed: [...(state.unconfirmed ?? []), ...(passed ? (['high'] as const) : [])] };
  }
  if (state.probes === 0) return { done: !passed, low: range.from, high: range.to, probes };
  if (state.probes === 1) return { done: passed, low: range.from, high: range.to, probes };
  const rate = probeRate(range, state);
  const next = passed ? { low: rate, high: state.high } : { low: state.low, high: rate };
  const narrow = (next.high - next.low) / next.low <= range.precision;
  return narrow ? { ...next, probes, done: false, confirming: 'low' } : { ...next, probes, done: false };
}

/** The most probes a search of `range` runs: the two ends, bisections until the bracket is narrow enough, and its two ends again. */
export function maxProbes(range: CapacitySearchRange): number {
  return 4 + Math.ceil(Math.log2(Math.max(1, Math.log(range.to / range.from) / Math.log(1 + range.precision))));
}

/** The index a probe is recorded under among the candidate's phases, and its seed offset. */
export const probePhaseIndex = (state: CapacitySearchState): number => SEARCH_PHASE_BASE + state.probes;
