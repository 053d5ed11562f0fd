import { randomBytes } from 'node:crypto';
import { runLoad, type LoadPlan } from '../load/run-load';
import { runPhase, type PhaseProgress, type PhaseResult } from '../load/phase';
import { failureKey, weightedPayloadPicker, type Invoker, type Payload } from '../load/invoker';
import { phaseMeetsSlo, selectCandidate, type CandidateOutcome, type Selection } from '../select/select';
import type { Candidate } from '../spec/expand';
import type { LoadedSpec } from '../spec/load-spec';
import type { SweepSpec } from '../spec/schema';
import type { PriceCatalog } from '../cost/catalog';
import type { CandidateRecord, ColdStart, ResultsStore } from '../store/results-store';
import { CandidateError, type AdapterContext, type TargetAdapter } from '../targets/adapter';
import { realSleep } from '../targets/cloud/retry';
import { defaultAdapters, type AdapterSet } from '../targets/registry';
import { measurementPlanOf, payloadsOf, phasePlansOf, warmupOf } from './plan';

export interface SweepEvents {
  onCandidateStart?(candidate: Candidate, index: number, total: number): void;
  onProgress?(candidate: Candidate, progress: PhaseProgress): void;
  onCandidateEnd?(record: CandidateRecord): void;
}

export interface RunSweepOptions {
  readonly store: ResultsStore;
  /** Prices for the cost model and the budget, with the user's overrides. */
  readonly prices: PriceCatalog;
  readonly events?: SweepEvents;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** @default defaultAdapters(): every kind, with real SDK clients */
  readonly adapters?: AdapterSet;
  /** Waits between cold-start probes (injected in tests). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How long after a sweep's planned end the janitor may remove what it left: time for deploys, teardowns and retries. */
const EXPIRY_MARGIN_MS = 2 * 3600_000;
/** A cloud candidate's deploy, wait and teardown, for the planned end of the sweep. */
const CLOUD_OVERHEAD_MS = 30 * 60_000;

export interface SweepOutcome {
  readonly sweepId: string;
  readonly records: CandidateRecord[];
  readonly selection: Selection;
  readonly status: 'succeeded' | 'failed';
}

/**
 * Runs a sweep in this process: for each candidate deploy → wait ready → warmup → phases (and
 * the rate search) → record → teardown, whatever fails; then select and record the selection.
 */
export async function runSweep(loaded: LoadedSpec, options: RunSweepOptions): Promise<SweepOutcome> {
  const { spec, candidates, baseDir } = loaded;
  const now = options.now ?? (() => new Date());
  const adapters = options.adapters ?? defaultAdapters();
  const started = now();
  const createdAt = started.toISOString();
  const sweepId = `${spec.name}-${createdAt.replace(/[-:.]/g, '').toLowerCase()}-${randomBytes(2).toString('hex')}`;
  const payloads = payloadsOf(spec, baseDir);
  const load = { warmup: warmupOf(spec), phases: phasePlansOf(spec), payloads, seed: spec.seed };
  const measurement = measurementPlanOf(spec, payloads);
  const plannedMs = candidates.reduce((ms, c) => ms + measurement.loadSeconds * 1000 + (c.kind === 'http' || c.kind === 'local' ? 0 : CLOUD_OVERHEAD_MS), 0);
  const context: AdapterContext = {
    sweepId,
    baseDir,
    modelPath: spec.model.path,
    timeoutMs: spec.load.timeout,
    signal: options.signal,
    createdAt: started,
    expiresAt: new Date(started.getTime() + plannedMs + EXPIRY_MARGIN_MS),
    prices: options.prices,
  };

  // Before anything is created or recorded: can every kind reach its platform?
  const kinds = [...new Set(candidates.map((c) => c.kind))];
  for (const kind of kinds) await adapters[kind]?.checkAccess?.(candidates.filter((c) => c.kind === kind), context);

  await options.store.createSweep({ sweepId, name: spec.name, model: spec.model.name, createdAt, spec });
  const records: CandidateRecord[] = [];
  let committedUsd = 0;
  try {
    for (const [index, candidate] of candidates.entries()) {
      options.events?.onCandidateStart?.(candidate, index, candidates.length);
      const adapter = adapters[candidate.kind];
      const estimate = adapter?.estimateMeasurementCost(candidate, measurement, options.prices);
      let record: CandidateRecord;
      if (estimate && spec.budget && committedUsd + estimate.usd > spec.budget.maxUsd) {
        record = {
          sweepId,
          candidate,
          status: 'over-budget',
          phases: [],
          reason: `measuring it would cost about $${estimate.usd.toFixed(2)} (${estimate.basis}); $${Math.max(0, spec.budget.maxUsd - committedUsd).toFixed(2)} of the $${spec.budget.maxUsd} budget is left`,
          measurementCostUsd: estimate.usd,
          recordedAt: now().toISOString(),
        };
      } else {
        committedUsd += estimate?.usd ?? 0;
        record = await measureCandidate(candidate, adapter, spec, load, context, { ...options, now }, estimate?.usd);
      }
      await options.store.putCandidateResult(record);
      records.push(record);
      options.events?.onCandidateEnd?.(record);
    }
  } finally {
    // Shared resources (a SageMaker model, an Azure endpoint the sweep created) go whatever happened.
    for (const kind of kinds) await adapters[kind]?.finishSweep?.(context).catch(() => {});
  }

  const recordOf = (outcome: { id: string }) => records.find((r) => r.candidate.id === outcome.id)!;
  const costPerInstanceHour = (outcome: { id: string }) => {
    const record = recordOf(outcome);
    return adapters[record.candidate.kind]?.costPerInstanceHour(record.candidate, options.prices);
  };
  const selection = selectCandidate({
    slo: spec.slo,
    traffic: spec.traffic,
    strategy: spec.strategy,
    candidates: records.map((r): CandidateOutcome => ({ id: r.candidate.id, status: r.status, reason: r.reason, phases: r.phases, scaling: adapters[r.candidate.kind]?.scaling ?? 'instances' })),
    monthlyCost: (outcome, instances, phase) => {
      const record = recordOf(outcome);
      const adapter = adapters[record.candidate.kind]!;
      if (adapter.scaling === 'per-request' && adapter.perRequestMonthlyCost) return adapter.perRequestMonthlyCost(record.candidate, phase, spec.traffic, options.prices);
      return costPerInstanceHour(outcome)! * instances * options.prices.hoursPerMonth;
    },
    costPerInstanceHour,
  });
  await options.store.putSelection({ sweepId, selection, recordedAt: now().toISOString() });
  const status = records.some((r) => r.status === 'measured') ? 'succeeded' : 'failed';
  await options.store.finishSweep(sweepId, status, now().toISOString(), status === 'failed' ? 'no candidate could be measured' : undefined);
  return { sweepId, records, selection, status };
}

async function measureCandidate(
  candidate: Candidate,
  adapter: TargetAdapter<any> | undefined,
  spec: SweepSpec,
  load: LoadPlan,
  context: AdapterContext,
  options: RunSweepOptions & { now: () => Date },
  measurementCostUsd: number | undefined,
): Promise<CandidateRecord> {
  const base = { sweepId: context.sweepId, candidate, ...(measurementCostUsd !== undefined ? { measurementCostUsd } : {}) };
  const coldStarts: ColdStart[] = [];
  const record = (status: CandidateRecord['status'], phases: PhaseResult[], reason?: string): CandidateRecord => ({
    ...base,
    status,
    phases,
    ...(reason ? { reason } : {}),
    ...(coldStarts.length > 0 ? { coldStarts } : {}),
    recordedAt: options.now().toISOString(),
  });
  if (!adapter) return record('unavailable', [], `this runner has no adapter for ${candidate.kind} candidates`);
  if (options.signal?.aborted) return record('failed', [], 'interrupted before it started');

  let deployment: Awaited<ReturnType<typeof adapter.deploy>> | undefined;
  let invoker: (Invoker & { close?(): Promise<void> }) | undefined;
  let result: CandidateRecord;
  try {
    deployment = await adapter.deploy(candidate, context);
    await adapter.waitReady(deployment, context);
    invoker = adapter.invoker(deployment, context);
    // On platforms that scale per request, the first request after deploy meets a cold start.
    if (adapter.scaling === 'per-request') coldStarts.push(await probeColdStart(invoker, load.payloads[0], 'deploy', adapter));
    const loadOptions = { slo: spec.slo, signal: options.signal, onProgress: (p: PhaseProgress) => options.events?.onProgress?.(candidate, p) };
    let phases = [...(await runLoad(invoker, load, loadOptions)).phases];
    if (spec.load.search && !options.signal?.aborted) phases.push(...(await searchHighestRate(invoker, spec, load.payloads, loadOptions)));
    if (!options.signal?.aborted && candidate.kind === 'sagemaker-serverless' && candidate.coldStartAfterIdleMs) {
      await (options.sleep ?? realSleep)(candidate.coldStartAfterIdleMs);
      coldStarts.push(await probeColdStart(invoker, load.payloads[0], 'idle', adapter));
    }
    if (!options.signal?.aborted && adapter.serverMetrics) {
      const metrics = await adapter.serverMetrics(deployment, phases, context).catch(() => []);
      phases = phases.map((phase, i) => (metrics[i] ? { ...phase, serverMetrics: metrics[i] } : phase));
    }
    result = options.signal?.aborted ? record('failed', phases, 'interrupted') : record('measured', phases);
  } catch (error) {
    const status = error instanceof CandidateError ? error.status : 'failed';
    result = record(status, [], (error as Error).message);
  }
  await invoker?.close?.().catch(() => {});
  try {
    await deployment?.teardown();
  } catch (error) {
    // The measurements stand; what could not be removed is said, and the janitor can finish it.
    return { ...result, teardownError: (error as Error).message };
  }
  return result;
}

/**
 * Times one request on its own. A failure that the adapter recognises as the candidate being unable
 * to run (code built for another architecture) ends the candidate as unavailable.
 */
async function probeColdStart(invoker: Invoker, payload: Payload, after: ColdStart['after'], adapter: TargetAdapter<any>): Promise<ColdStart> {
  const start = performance.now();
  const outcome = await invoker.invoke(payload);
  const latencyMs = performance.now() - start;
  if (!outcome.ok) {
    const verdict = adapter.unrunnable?.(outcome.failure);
    if (verdict) throw verdict;
    return { after, latencyMs, ok: false, error: failureKey(outcome.failure) };
  }
  return { after, latencyMs, ok: true, ...(outcome.initMs !== undefined ? { initMs: outcome.initMs } : {}), ...(outcome.billedMs !== undefined ? { billedMs: outcome.billedMs } : {}) };
}

/**
 * Bisection for the highest open-loop rate that meets the SLO, between `from` and `to`; each
 * probe ends early once it clearly passes or fails (the stop rules).
 */
async function searchHighestRate(
  invoker: Invoker,
  spec: SweepSpec,
  payloads: readonly Payload[],
  options: { slo: SweepSpec['slo']; signal?: AbortSignal; onProgress?: (p: PhaseProgress) => void },
): Promise<PhaseResult[]> {
  const search = spec.load.search!;
  const nextPayload = weightedPayloadPicker(payloads, spec.seed + 1000);
  const probes: PhaseResult[] = [];
  const probe = async (rate: number) => {
    const result = await runPhase(invoker, { name: `search-${Math.round(rate)}rps`, mode: 'open', rate, arrivals: 'poisson', durationMs: search.stepDuration }, { ...options, seed: spec.seed + 1000 + probes.length, nextPayload });
    probes.push(result);
    return phaseMeetsSlo(result, spec.slo);
  };
  let low = search.from;
  let high = search.to;
  if (!(await probe(low))) return probes;
  if (await probe(high)) return probes;
  while ((high - low) / low > search.precision && !options.signal?.aborted) {
    const mid = Math.sqrt(low * high); // geometric: rates span orders of magnitude
    if (await probe(mid)) low = mid;
    else high = mid;
  }
  return probes;
}
