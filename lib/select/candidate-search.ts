import type { CostFloor } from '../cost/candidate-cost';
import { formatUsd } from '../format/format';
import type { CandidateSize } from '../targets/kind-rules';
import type { CandidateVerdict, Selection, SelectionStrategy } from './select';

/** How a grid is searched (the spec's `candidateSearch`). */
export interface SearchSettings {
  /** `prune`: skip what cannot win; `exhaustive`: deploy everything; `guided`: also skip what a prediction says will lose. */
  readonly mode: 'prune' | 'exhaustive' | 'guided';
  /** Deploy at most this many candidates. */
  readonly maxDeployments?: number;
  /** guided: how far a prediction may be off, as a factor on the predicted capacity. */
  readonly margin: number;
}

/** A candidate the search has not decided on yet. */
export interface SearchItem {
  readonly id: string;
  readonly floor: CostFloor;
  /**
   * guided: the lowest monthly cost a prediction from measured siblings allows (their capacity
   * scaled by size, times the margin), with the siblings named; none where there is no sibling.
   */
  readonly predicted?: { readonly usd: number; readonly basis: string };
}

/** Why a candidate was never deployed. */
export interface SkipDecision {
  readonly id: string;
  readonly reason: string;
  /** `cannot-win`: proven; `predicted-to-lose`: guided's heuristic; `cap`: maxDeployments was reached. */
  readonly why: 'cannot-win' | 'predicted-to-lose' | 'cap';
}

export interface WavePlan {
  /** The next candidates to deploy and measure, side by side. */
  readonly wave: readonly string[];
  readonly skipped: readonly SkipDecision[];
}

/**
 * guided: the least a candidate is predicted to cost from its nearest measured sibling (same
 * family, the size closest by ratio; of two as close, the more optimistic): that sibling's capacity
 * at the top of its range, scaled by size, times `margin`, sized at the forecast peak on the
 * candidate's own one-instance floor. The nearest, because its measurement already holds how the
 * family scales up to it: a farther sibling only adds extrapolation (a family whose capacity grows
 * slower than size looks cheaper at every size when seen from its smallest). A sibling at least as
 * large that misses the SLO even at its lightest rate predicts a miss where no sibling met it (no
 * more cores or accelerators make no faster request). A heuristic: capacity need not grow in proportion to
 * size, which `margin` only allows for.
 */
export function predictFromSiblings(
  candidate: { readonly size?: CandidateSize; readonly floor: CostFloor },
  measured: ReadonlyArray<{ readonly size?: CandidateSize; readonly verdict: CandidateVerdict }>,
  peakRps: number,
  margin: number,
): SearchItem['predicted'] {
  const size = candidate.size;
  if (!size) return undefined;
  let miss: string | undefined;
  let best: { usd: number; basis: string; distance: number } | undefined;
  for (const sibling of measured) {
    const { verdict } = sibling;
    if (sibling.size?.family !== size.family) continue;
    const missesAtLightest =
      verdict.status === 'measured' && !verdict.feasible && !verdict.inconclusive && !verdict.tooCloseToCall && !verdict.tooShortToSize;
    if (missesAtLightest && sibling.size.units >= size.units) {
      miss ??= `${verdict.id}, as large or larger, misses the SLO at its lightest rate`;
      continue;
    }
    if (!verdict.feasible || !verdict.maxRpsWithinSloRange) continue;
    const top = verdict.maxRpsWithinSloRange[1];
    const ratio = size.units / sibling.size.units;
    const distance = Math.abs(Math.log(ratio));
    const capacity = top * ratio * margin;
    const instances = Math.max(1, Math.ceil(peakRps / capacity - 1e-9));
    const usd = instances * candidate.floor.usd;
    const nearer = !best || distance < best.distance - 1e-9 || (Math.abs(distance - best.distance) <= 1e-9 && usd < best.usd);
    if (nearer)
      best = {
        usd,
        distance,
        basis: `${verdict.id} sustained up to ${top.toFixed(0)} rps; at ${size.units}/${sibling.size.units} its size and ×${margin}, ${capacity.toFixed(0)} rps: ${instances} instance${instances > 1 ? 's' : ''}`,
      };
  }
  if (best) return { usd: best.usd, basis: best.basis };
  return miss === undefined ? undefined : { usd: Infinity, basis: miss };
}

/**
 * The order candidates are measured in: cheapest floor first, so that the first measured are
 * those most likely to win and every later floor is compared with the best bound so far; guided
 * search puts a prediction above the floor where it has one (a predicted miss last). Ties keep the
 * spec's order (the sort is stable).
 */
export function searchOrder<T extends SearchItem>(items: readonly T[], mode: SearchSettings['mode'] = 'prune'): T[] {
  const key = (i: T) => (mode === 'guided' ? Math.max(i.floor.usd, i.predicted?.usd ?? 0) : i.floor.usd);
  return [...items].sort((a, b) => (key(a) === key(b) ? 0 : key(a) < key(b) ? -1 : 1));
}

/**
 * The best upper bound on monthly cost among the candidates measured so far: the lowest top of a
 * feasible candidate's cost range (its cost at the lowest capacity the measurements allow). A
 * candidate whose floor is above it cannot be the cheapest, whatever it measures.
 */
export function bestUpperBound(selection: Selection | undefined): { usd: number; id: string } | undefined {
  let best: { usd: number; id: string } | undefined;
  for (const v of selection?.candidates ?? []) {
    const upper = upperCost(v);
    if (upper !== undefined && (!best || upper < best.usd)) best = { usd: upper, id: v.id };
  }
  return best;
}

const upperCost = (v: CandidateVerdict): number | undefined =>
  v.feasible && v.monthlyCostUsd !== undefined ? (v.monthlyCostRangeUsd?.[1] ?? v.monthlyCostUsd) : undefined;

/**
 * The next wave: walks the undecided candidates in search order, skipping each that cannot win
 * (its floor above the best measured upper bound; `cost` strategy only, since a faster candidate
 * can be worth more under `speed` and `balanced`, and nothing unmeasured is provably dominated),
 * under `guided` each that its prediction says will lose, and, once `maxDeployments` is reached,
 * the rest. Sound: a skipped `cannot-win` candidate's every possible cost is above a cost some
 * measured candidate is certain to have at most, so the exhaustive search would not pick it either.
 */
export function planWave(input: {
  readonly pending: readonly SearchItem[];
  readonly selection: Selection | undefined;
  readonly strategy: SelectionStrategy;
  readonly settings: SearchSettings;
  /** Candidates already deployed (sent to a wave) in this sweep. */
  readonly deployed: number;
  /** Most candidates one wave measures side by side. */
  readonly waveSize: number;
  /** The lane a candidate is measured in: a wave takes one candidate per lane (those of a lane take turns). */
  readonly laneOf?: (id: string) => string;
  /**
   * Candidates the others' verdicts wait on (the reference variant's, whose answers the others'
   * quality is compared with): the cheapest of them goes first, ahead of the search order.
   */
  readonly needed?: ReadonlySet<string>;
}): WavePlan {
  const { settings, strategy } = input;
  const best = bestUpperBound(input.selection);
  const prunes = settings.mode !== 'exhaustive' && strategy.type === 'cost' && best !== undefined;
  const bestName = best ? `${best.id} at ${formatUsd(best.usd)}/month at most` : '';
  const wave: string[] = [];
  const lanes = new Set<string>();
  const skipped: SkipDecision[] = [];
  const ordered = searchOrder(input.pending, settings.mode);
  const neededFirst = ordered.find((item) => input.needed?.has(item.id));
  for (const item of neededFirst ? [neededFirst, ...ordered.filter((i) => i !== neededFirst)] : ordered) {
    if (prunes && item.floor.usd > best!.usd) {
      skipped.push({
        id: item.id,
        why: 'cannot-win',
        reason: `${formatUsd(item.floor.usd)}/month ${item.floor.basis}, more than the best measured, ${bestName}`,
      });
      continue;
    }
    if (prunes && settings.mode === 'guided' && item.predicted && item.predicted.usd > best!.usd) {
      const predicted =
        item.predicted.usd === Infinity
          ? `predicted to miss the SLO (${item.predicted.basis})`
          : `predicted to cost at least ${formatUsd(item.predicted.usd)}/month (${item.predicted.basis}), more than the best measured, ${bestName}`;
      skipped.push({ id: item.id, why: 'predicted-to-lose', reason: `${predicted} (guided search: a prediction, not a measurement)` });
      continue;
    }
    if (settings.maxDeployments !== undefined && input.deployed + wave.length >= settings.maxDeployments) {
      skipped.push({
        id: item.id,
        why: 'cap',
        reason: `the sweep's cap of ${settings.maxDeployments} deployments (candidateSearch.maxDeployments) was reached; it could cost as little as ${formatUsd(item.floor.usd)}/month ${item.floor.basis}`,
      });
      continue;
    }
    // A wave stops at its size, one candidate a lane; what is left waits for the next, decided with more measured.
    const lane = input.laneOf?.(item.id) ?? item.id;
    if (wave.length < input.waveSize && !lanes.has(lane)) {
      wave.push(item.id);
      lanes.add(lane);
    }
  }
  // Candidates past a full wave and not skipped wait for the next plan, decided with more measured.
  return { wave, skipped };
}

/** How one guided prediction held up: a measured candidate's capacity as its siblings predicted it, and as measured. */
export interface PredictionCheck {
  readonly id: string;
  readonly from: string;
  readonly predictedRps: number;
  readonly measuredRps: number;
}

/**
 * guided: each measured candidate's capacity predicted from its nearest-sized measured sibling
 * (scaled by size, no margin) beside what it measured: how far the heuristic's central guess was
 * off in this sweep, for the report.
 */
export function predictionChecks(measured: ReadonlyArray<{ readonly size?: CandidateSize; readonly verdict: CandidateVerdict }>): PredictionCheck[] {
  const sized = measured.filter((m) => m.size && m.verdict.feasible && m.verdict.maxRpsWithinSlo !== undefined);
  return sized.flatMap((m) => {
    const siblings = sized.filter((s) => s !== m && s.size!.family === m.size!.family);
    if (siblings.length === 0) return [];
    const nearest = siblings.reduce((a, b) =>
      Math.abs(Math.log(b.size!.units / m.size!.units)) < Math.abs(Math.log(a.size!.units / m.size!.units)) ? b : a,
    );
    return [
      {
        id: m.verdict.id,
        from: nearest.verdict.id,
        predictedRps: nearest.verdict.maxRpsWithinSlo! * (m.size!.units / nearest.size!.units),
        measuredRps: m.verdict.maxRpsWithinSlo!,
      },
    ];
  });
}
