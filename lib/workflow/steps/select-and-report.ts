import { priceOfCandidate } from '../../cost/candidate-cost';
import type { PriceBook } from '../../cost/price-book';
import { sweepResults } from '../../report/sweep-results';
import { reportFiles } from '../../report/write-report';
import { type CandidateOutcome, selectCandidate, type Selection } from '../../select/select';
import { selectOffline } from '../../select/select-offline';
import { expandCandidates } from '../../spec/expand';
import type { SweepSpec } from '../../spec/schema';
import type { CandidateRecord, ResultsStore, SweepRecord } from '../../store/results-store';
import { KIND_RULES } from '../../targets/kind-rules';
import type { AdapterSet } from '../default-adapters';
import type { SweepEvent } from '../events';
import { reportKeys, type SweepSummary } from '../sweep-summary';
import { INTERRUPTED_BEFORE_IT_STARTED, INTERRUPTED_WHILE_MEASURING } from './budget';
import type { StepContext, SweepRun } from './context';
import { withReferenceQuality } from './quality';

/** Everything the end of a sweep needs from the store, read once. */
interface SweepEnd {
  /** The candidates' records, in the spec's order. */
  readonly records: CandidateRecord[];
  /** The selection a first delivery of this step recorded, if any. */
  readonly recorded?: Selection;
  /** The model's previous finished sweep and its recommendation. */
  readonly previous?: SweepSummary['previous'];
}

/**
 * The end of a sweep: releases what its candidates shared, judges them, records the selection and
 * the sweep's status, writes the report, and compares the recommendation with the model's
 * previous sweep. It reads the store once and passes what it read down (select, then report);
 * delivered twice, it finds its selection recorded and writes the same report again.
 */
export async function selectAndReport(e: SweepEvent, ctx: StepContext): Promise<SweepSummary> {
  const { env, now } = ctx;
  const run = await ctx.runOf(e.sweepId);
  const { sweepId } = run.record;
  const end = await readSweepEnd(env.store, run.record, run.spec);
  await releaseSharedResources(env.adapters, run, end.records);

  const outcome = sweepOutcome(end.records, env.signal?.aborted === true);
  const judged =
    end.recorded ?? selectFromRecords(run.spec, await withReferenceQuality(run.spec, end.records, env.blobs), env.adapters, run.context.prices);
  // Judged from part of the spec: say which candidates it never saw.
  const selection = outcome.status === 'interrupted' && !end.recorded ? { ...judged, incompleteNote: outcome.reason } : judged;
  await env.store.putSelection({ sweepId, selection, recordedAt: now().toISOString() });
  const sweep = await env.store.markSweepFinished(sweepId, outcome.status, now().toISOString(), outcome.reason);

  const keys = reportKeys(sweepId);
  const results = sweepResults({ sweep, records: end.records, selection, hoursPerMonth: run.context.prices.hoursPerMonth });
  for (const f of reportFiles(results)) await env.blobs.put(keys[f.name], f.body, f.contentType);
  return {
    sweepId,
    model: sweep.model,
    ...outcome,
    ...(selection.recommended ? { recommended: selection.recommended } : {}),
    ...(end.previous ? { previous: end.previous } : {}),
    changed: end.previous !== undefined && end.previous.recommended !== selection.recommended,
    report: { html: env.blobs.locate(keys.html), json: env.blobs.locate(keys.json), csv: env.blobs.locate(keys.csv) },
  };
}

async function readSweepEnd(store: ResultsStore, sweep: SweepRecord, spec: SweepSpec): Promise<SweepEnd> {
  const [records, recorded, history] = await Promise.all([
    store.listCandidateResults(sweep.sweepId),
    store.getSelection(sweep.sweepId),
    store.history(sweep.model),
  ]);
  const earlier = history.find((s) => s.sweepId !== sweep.sweepId && s.status === 'succeeded' && s.createdAt <= sweep.createdAt);
  const previousRecommendation = earlier ? (await store.getSelection(earlier.sweepId))?.selection.recommended : undefined;
  return {
    records: inSpecOrder(records, spec),
    ...(recorded ? { recorded: recorded.selection } : {}),
    ...(earlier ? { previous: { sweepId: earlier.sweepId, ...(previousRecommendation ? { recommended: previousRecommendation } : {}) } } : {}),
  };
}

/**
 * Removes what a sweep's candidates shared (a SageMaker model, an Azure endpoint the sweep
 * created), whatever happened to them: each kind's adapter is given the handles of its candidates.
 */
export async function releaseSharedResources(adapters: AdapterSet, run: SweepRun, records: readonly CandidateRecord[]): Promise<void> {
  for (const kind of new Set(run.spec.candidates.map((c) => c.kind))) {
    const handles = records.flatMap((r) => (r.candidate.kind === kind && r.deployment ? [r.deployment] : []));
    // Best effort: what is left carries the sweep's tags, and the janitor removes it.
    await adapters[kind]?.releaseSharedResources?.(run.context, handles).catch(() => {});
  }
}

/** Whether the sweep succeeded (anything was measured) or was interrupted, and what could not be measured. */
function sweepOutcome(
  records: readonly CandidateRecord[],
  interrupted: boolean,
): Pick<SweepSummary, 'status' | 'measured' | 'notMeasured' | 'reason'> {
  const measured = records.filter((r) => r.status === 'measured').length;
  const notMeasured = records
    .filter((r) => r.status !== 'measured')
    .map((r) => ({ id: r.candidate.id, status: r.status, reason: r.reason ?? r.status }));
  if (interrupted) {
    const named = (reason: string) => notMeasured.filter((n) => n.reason === reason).map((n) => n.id);
    const cut = named(INTERRUPTED_WHILE_MEASURING);
    const never = named(INTERRUPTED_BEFORE_IT_STARTED);
    const reason =
      `interrupted after ${measured} of ${records.length} candidates were measured` +
      (cut.length > 0 ? `; stopped while measuring ${cut.join(', ')}` : '') +
      (never.length > 0 ? `; never started: ${never.join(', ')}` : '') +
      (measured > 0 && cut.length + never.length > 0 ? ': the recommendation is among the measured ones only' : '');
    return { status: 'interrupted', measured, notMeasured, reason };
  }
  if (measured > 0) return { status: 'succeeded', measured, notMeasured };
  const why = notMeasured.map((n) => `${n.id} ${n.status} (${n.reason})`).join('; ') || 'the spec has none';
  return { status: 'failed', measured, notMeasured, reason: `no candidate could be measured: ${why}` };
}

/** A sweep's candidate records in the spec's order (the store keeps them by id), so selections and reports read as the spec does. */
export function inSpecOrder(records: readonly CandidateRecord[], spec: SweepSpec): CandidateRecord[] {
  const order = new Map(expandCandidates(spec).map((c, i) => [c.id, i]));
  return [...records].sort((a, b) => (order.get(a.candidate.id) ?? 0) - (order.get(b.candidate.id) ?? 0));
}

/**
 * The selection over a sweep's records, each candidate priced by its kind's adapter (see
 * lib/cost/candidate-cost); an offline sweep's by the job (see lib/select/select-offline).
 */
export function selectFromRecords(spec: SweepSpec, records: readonly CandidateRecord[], adapters: AdapterSet, prices: PriceBook): Selection {
  const recordOf = (outcome: { id: string }) => records.find((r) => r.candidate.id === outcome.id)!;
  const candidates = records.map((r): CandidateOutcome => ({
    id: r.candidate.id,
    status: r.status,
    reason: r.reason,
    phases: r.phases,
    scaling: adapters[r.candidate.kind]?.scaling ?? 'instances',
    instancesPerUnit: adapters[r.candidate.kind]?.instancesPerUnit?.(r.candidate) ?? 1,
    ...(adapters[r.candidate.kind]?.maxConcurrency ? { maxConcurrency: adapters[r.candidate.kind]!.maxConcurrency!(r.candidate) } : {}),
    ...(r.quality ? { quality: r.quality } : {}),
  }));
  if (spec.offline) {
    const { offline } = spec;
    return selectOffline({
      job: { rows: offline.rows, deadlineSeconds: offline.deadline / 1000, maxInstances: offline.maxInstances },
      rowsPerRequest: offline.rowsPerRequest,
      saturation: offline.saturation,
      maxErrorRate: spec.slo.maxErrorRate,
      strategy: spec.strategy,
      candidates,
      billing: (outcome) => {
        const { candidate } = recordOf(outcome);
        const adapter = adapters[candidate.kind];
        const hourly = adapter?.scaling === 'instances' ? adapter.costPerInstanceHour(candidate, prices) : undefined;
        // A job starts as a deployment does, and is billed from the start.
        const startupSeconds = KIND_RULES[candidate.kind].provisioningSeconds;
        if (hourly === undefined) return undefined;
        const sources = (adapter!.priceKeys?.(candidate) ?? []).map((key) => prices.sourceOf(key));
        return { usdPerInstanceHour: hourly, startupSeconds, billedStartupSeconds: startupSeconds, sources };
      },
      perRequest: (outcome, phase, requests) => {
        const { candidate } = recordOf(outcome);
        const adapter = adapters[candidate.kind];
        if (adapter?.scaling !== 'per-request' || !adapter.perRequestMonthlyCost) return undefined;
        // The job's requests, as one month's: what the platform bills for that many (no free tier).
        const asAMonth = { averageRps: requests / (prices.hoursPerMonth * 3600), peakRps: requests / (prices.hoursPerMonth * 3600) };
        const usd = adapter.perRequestMonthlyCost(candidate, phase, asAMonth, prices);
        const sources = (adapter.priceKeys?.(candidate) ?? []).map((key) => prices.sourceOf(key));
        return { usd, sources };
      },
      maxConcurrentInvocations: offline.maxConcurrentInvocations,
    });
  }
  const traffic = spec.traffic!;
  return selectCandidate({
    slo: spec.slo,
    ...(spec.quality ? { quality: { metric: spec.quality.metric, slo: spec.quality.slo } } : {}),
    traffic,
    strategy: spec.strategy,
    candidates,
    price: (outcome) => {
      const { candidate } = recordOf(outcome);
      const adapter = adapters[candidate.kind];
      return adapter ? priceOfCandidate(adapter, candidate, traffic, prices) : {};
    },
    hoursPerMonth: prices.hoursPerMonth,
  });
}
