import type { PriceCatalog } from '../cost/catalog';
import { loadSweepResults, reportFiles, type ReportFiles } from '../report/write-report';
import { selectCandidate, type CandidateOutcome, type Selection } from '../select/select';
import { expandCandidates } from '../spec/expand';
import type { SweepSpec } from '../spec/schema';
import type { CandidateRecord, ResultsStore, SweepRecord } from '../store/results-store';
import type { AdapterSet } from '../targets/registry';
import type { WorkflowEnv } from './steps';

/** What a finished sweep says: stored, notified, and returned by the workflow. */
export interface SweepSummary {
  readonly sweepId: string;
  readonly model: string;
  readonly status: 'succeeded' | 'failed';
  readonly recommended?: string;
  /** The model's previous finished sweep and what it recommended. */
  readonly previous?: { readonly sweepId: string; readonly recommended?: string };
  /** Whether the recommendation differs from the previous sweep's (false when there was none). */
  readonly changed: boolean;
  readonly measured: number;
  /** Candidates that could not be measured, and why. */
  readonly notMeasured: Array<{ readonly id: string; readonly status: string; readonly reason: string }>;
  /** Why the sweep failed (every candidate failed). */
  readonly reason?: string;
  /** Where the report files are (paths, or s3:// addresses). */
  readonly report: { readonly html: string; readonly json: string; readonly csv: string };
}

/** Where a sweep's report files go in the blob store. */
export const reportKeys = (sweepId: string): ReportFiles => ({ html: `reports/${sweepId}/report.html`, json: `reports/${sweepId}/results.json`, csv: `reports/${sweepId}/results.csv` });

/**
 * Judges the candidates, records the selection and the sweep's status, writes the report, and
 * compares the recommendation with the model's previous sweep. Delivered twice, it finds its
 * selection recorded and writes the same report again.
 */
export async function finishSweep(env: WorkflowEnv, sweep: SweepRecord, spec: SweepSpec, now: () => Date): Promise<SweepSummary> {
  const { sweepId } = sweep;
  const records = await recordsInSpecOrder(env.store, sweepId, spec);
  const selection = (await env.store.getSelection(sweepId))?.selection ?? selectFromRecords(spec, records, env.adapters, env.prices);
  await env.store.putSelection({ sweepId, selection, recordedAt: now().toISOString() });
  const measured = records.filter((r) => r.status === 'measured').length;
  const status = measured > 0 ? 'succeeded' : 'failed';
  const notMeasured = records.filter((r) => r.status !== 'measured').map((r) => ({ id: r.candidate.id, status: r.status, reason: r.reason ?? r.status }));
  const reason = status === 'failed' ? `no candidate could be measured: ${notMeasured.map((n) => `${n.id} ${n.status} (${n.reason})`).join('; ') || 'the spec has none'}` : undefined;
  await env.store.finishSweep(sweepId, status, now().toISOString(), reason);

  const keys = reportKeys(sweepId);
  for (const f of reportFiles((await loadSweepResults(env.store, sweepId))!)) await env.blobs.put(keys[f.name], f.body, f.contentType);

  const previous = await previousSweep(env, sweep);
  return {
    sweepId,
    model: sweep.model,
    status,
    ...(selection.recommended ? { recommended: selection.recommended } : {}),
    ...(previous ? { previous } : {}),
    changed: previous !== undefined && previous.recommended !== selection.recommended,
    measured,
    notMeasured,
    ...(reason ? { reason } : {}),
    report: { html: env.blobs.locate(keys.html), json: env.blobs.locate(keys.json), csv: env.blobs.locate(keys.csv) },
  };
}

/** A sweep's candidate records in the spec's order (the store keeps them by id), so selections and reports read as the spec does. */
export async function recordsInSpecOrder(store: ResultsStore, sweepId: string, spec: SweepSpec): Promise<CandidateRecord[]> {
  const order = new Map(expandCandidates(spec).map((c, i) => [c.id, i]));
  return (await store.listCandidateResults(sweepId)).sort((a, b) => (order.get(a.candidate.id) ?? 0) - (order.get(b.candidate.id) ?? 0));
}

/** The model's latest finished sweep before this one, with its recommendation. */
async function previousSweep(env: WorkflowEnv, sweep: SweepRecord): Promise<SweepSummary['previous']> {
  const earlier = (await env.store.history(sweep.model)).find((s) => s.sweepId !== sweep.sweepId && s.status === 'succeeded' && s.createdAt <= sweep.createdAt);
  if (!earlier) return undefined;
  const recommended = (await env.store.getSelection(earlier.sweepId))?.selection.recommended;
  return { sweepId: earlier.sweepId, ...(recommended ? { recommended } : {}) };
}

/** The selection over a sweep's records: monthly cost from each kind's adapter and the price catalog. */
export function selectFromRecords(spec: SweepSpec, records: readonly CandidateRecord[], adapters: AdapterSet, prices: PriceCatalog): Selection {
  const recordOf = (outcome: { id: string }) => records.find((r) => r.candidate.id === outcome.id)!;
  const costPerInstanceHour = (outcome: { id: string }) => {
    const record = recordOf(outcome);
    return adapters[record.candidate.kind]?.costPerInstanceHour(record.candidate, prices);
  };
  return selectCandidate({
    slo: spec.slo,
    traffic: spec.traffic,
    strategy: spec.strategy,
    candidates: records.map((r): CandidateOutcome => ({ id: r.candidate.id, status: r.status, reason: r.reason, phases: r.phases, scaling: adapters[r.candidate.kind]?.scaling ?? 'instances' })),
    monthlyCost: (outcome, instances, phase) => {
      const record = recordOf(outcome);
      const adapter = adapters[record.candidate.kind]!;
      if (adapter.scaling === 'per-request' && adapter.perRequestMonthlyCost) return adapter.perRequestMonthlyCost(record.candidate, phase, spec.traffic, prices);
      return costPerInstanceHour(outcome)! * instances * prices.hoursPerMonth;
    },
    costPerInstanceHour,
  });
}
