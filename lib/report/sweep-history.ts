import { formatDurationMs, formatQuality, formatUsd, formatUsdPrecise } from '../format/format';
import { isProportion } from '../quality/metrics';
import type { CandidateQuality, CandidateVerdict } from '../select/select';
import type { ResultsStore, SweepRecord } from '../store/results-store';

/** A quality figure that moved between two sweeps of a model by more than their intervals allow. */
export interface QualityDrift {
  readonly id: string;
  readonly metric: CandidateQuality['metric'];
  /** The figure in the earlier sweep that measured it, and in this one. */
  readonly from: number;
  readonly to: number;
  readonly since: string;
  /** Worse: lower for a share of right answers, higher for an error. */
  readonly worse: boolean;
}

/** A recommendation's cost, as the sweep priced it. */
export type RecommendedCost =
  | { readonly monthlyUsd: number; readonly instances?: number }
  | {
      readonly jobUsd: number;
      readonly jobSeconds: number;
      /** Instances, or invocations at once where `unit` says so (a candidate billed per request). */
      readonly instances: number;
      readonly unit?: 'invocations';
    };

/** One sweep of a model as `history` lists it: its record, its recommendation and the quality of what it recommended. */
export interface HistoryEntry extends Omit<SweepRecord, 'spec' | 'payloads'> {
  readonly recommended?: string;
  /** Candidates deployed (not skipped), of the grid. */
  readonly deployed?: number;
  readonly grid?: number;
  /** What the recommended candidate costs: a month at the forecast (real-time), or the job on its instances (offline). */
  readonly cost?: RecommendedCost;
  /** The recommended candidate's quality (sweeps with a quality SLO). */
  readonly quality?: CandidateQuality;
  /** Candidates whose quality moved since the last sweep that measured them; empty when none did. */
  readonly qualityDrift: readonly QualityDrift[];
}

/**
 * A model's sweeps, newest first, each with its recommendation and the quality of each candidate
 * set against the last earlier sweep that measured it: a scheduled sweep of a model whose artifact
 * or serving stack changed shows its quality moving here.
 */
export async function sweepHistory(store: ResultsStore, model: string): Promise<HistoryEntry[]> {
  const sweeps = await store.history(model);
  const verdicts = await Promise.all(sweeps.map(async (s) => (await store.getSelection(s.sweepId))?.selection));
  return sweeps.map(({ spec: _spec, payloads: _payloads, ...s }, i) => {
    const selection = verdicts[i];
    const grid = selection?.candidates.length ?? 0;
    const skipped = selection?.candidates.filter((c) => c.status === 'skipped').length ?? 0;
    const winner = selection?.candidates.find((c) => c.id === selection.recommended);
    const quality = winner?.quality;
    const cost = winner ? costOf(winner) : undefined;
    const earlier = sweeps.slice(i + 1).map((e, k) => ({ sweepId: e.sweepId, candidates: verdicts[i + 1 + k]?.candidates ?? [] }));
    return {
      ...s,
      ...(selection?.recommended ? { recommended: selection.recommended } : {}),
      ...(selection ? { deployed: grid - skipped, grid } : {}),
      ...(cost ? { cost } : {}),
      ...(quality ? { quality } : {}),
      qualityDrift: qualityDrift(selection?.candidates ?? [], earlier),
    };
  });
}

/**
 * The candidates whose quality in `latest` is apart from what the last earlier sweep (newest first)
 * that measured them with the same metric found: their 95% intervals do not overlap. That test is
 * conservative (two intervals may touch while the difference is real), so what it reports is a
 * change, not the sampling of two datasets.
 */
export function qualityDrift(
  latest: readonly CandidateVerdict[],
  earlier: ReadonlyArray<{ readonly sweepId: string; readonly candidates: readonly CandidateVerdict[] }>,
): QualityDrift[] {
  const drifts: QualityDrift[] = [];
  for (const now of latest) {
    const q = now.quality;
    if (q?.value === undefined || !q.interval) continue;
    for (const sweep of earlier) {
      const before = sweep.candidates.find((c) => c.id === now.id)?.quality;
      if (before?.value === undefined || !before.interval || before.metric !== q.metric) continue;
      const apart = q.interval[1] < before.interval[0] || q.interval[0] > before.interval[1];
      if (apart) {
        const lower = q.value < before.value;
        drifts.push({
          id: now.id,
          metric: q.metric,
          from: before.value,
          to: q.value,
          since: sweep.sweepId,
          worse: isProportion(q.metric) ? lower : !lower,
        });
      }
      break;
    }
  }
  return drifts;
}

/** A drift in words: "cls-int8 accuracy 0.990 → 0.900 (worse)". */
export const driftText = (d: QualityDrift): string =>
  `${d.id} ${d.metric} ${formatQuality(d.from)} → ${formatQuality(d.to)} (${d.worse ? 'worse' : 'better'})`;

/** The cost a verdict was recommended at: its job's, for an offline sweep, else its month's. */
function costOf(verdict: CandidateVerdict): RecommendedCost | undefined {
  const job = verdict.job?.estimate;
  // A candidate of several instances is sized in units of it: the verdict counts its instances.
  if (job)
    return { jobUsd: job.usd, jobSeconds: job.seconds, instances: verdict.instances ?? job.instances, ...(job.unit ? { unit: job.unit } : {}) };
  if (verdict.monthlyCostUsd === undefined) return undefined;
  return { monthlyUsd: verdict.monthlyCostUsd, ...(verdict.instances !== undefined ? { instances: verdict.instances } : {}) };
}

/** A recommendation's cost in a few words: `$73.00/month on 2`, or `job $0.13 in 42m on 3`. */
export function costText(cost: RecommendedCost): string {
  const on = (n: number | undefined) => (n !== undefined ? ` on ${n}` : '');
  return 'jobUsd' in cost
    ? `job ${formatUsdPrecise(cost.jobUsd)} in ${formatDurationMs(cost.jobSeconds * 1000)}${on(cost.instances)}${cost.unit === 'invocations' ? ' at once' : ''}`
    : `${formatUsd(cost.monthlyUsd)}/month${on(cost.instances)}`;
}
