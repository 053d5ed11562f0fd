import { randomBytes } from 'node:crypto';
import { runLoad, type LoadPlan } from '../load/run-load';
import { runPhase, type PhaseProgress, type PhaseResult } from '../load/phase';
import { weightedPayloadPicker, type Invoker, type Payload } from '../load/invoker';
import { phaseMeetsSlo, selectCandidate, type CandidateOutcome, type Selection } from '../select/select';
import type { Candidate } from '../spec/expand';
import type { LoadedSpec } from '../spec/load-spec';
import type { SweepSpec } from '../spec/schema';
import type { CandidateRecord, ResultsStore } from '../store/results-store';
import { CandidateError, type AdapterContext, type TargetAdapter } from '../targets/adapter';
import { httpTarget } from '../targets/http-target';
import { localTarget } from '../targets/local-target';
import { payloadsOf, phasePlansOf, warmupOf } from './plan';

/** The adapters the in-process runner has; cloud kinds come with their adapters. */
export const LOCAL_RUNNER_ADAPTERS: Partial<Record<Candidate['kind'], TargetAdapter<any>>> = { http: httpTarget, local: localTarget };

export interface SweepEvents {
  onCandidateStart?(candidate: Candidate, index: number, total: number): void;
  onProgress?(candidate: Candidate, progress: PhaseProgress): void;
  onCandidateEnd?(record: CandidateRecord): void;
}

export interface RunSweepOptions {
  readonly store: ResultsStore;
  readonly hoursPerMonth: number;
  readonly events?: SweepEvents;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  readonly adapters?: Partial<Record<Candidate['kind'], TargetAdapter<any>>>;
}

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
  const adapters = options.adapters ?? LOCAL_RUNNER_ADAPTERS;
  const createdAt = now().toISOString();
  const sweepId = `${spec.name}-${createdAt.replace(/[-:.]/g, '').toLowerCase()}-${randomBytes(2).toString('hex')}`;
  await options.store.createSweep({ sweepId, name: spec.name, model: spec.model.name, createdAt, spec });
  const load = { warmup: warmupOf(spec), phases: phasePlansOf(spec), payloads: payloadsOf(spec, baseDir), seed: spec.seed };
  const context: AdapterContext = { sweepId, baseDir, modelPath: spec.model.path, timeoutMs: spec.load.timeout, signal: options.signal };

  const records: CandidateRecord[] = [];
  for (const [index, candidate] of candidates.entries()) {
    options.events?.onCandidateStart?.(candidate, index, candidates.length);
    const record = await measureCandidate(candidate, adapters[candidate.kind], spec, load, context, { ...options, now });
    await options.store.putCandidateResult(record);
    records.push(record);
    options.events?.onCandidateEnd?.(record);
  }

  const costPerInstanceHour = (outcome: { id: string }) => {
    const record = records.find((r) => r.candidate.id === outcome.id)!;
    return adapters[record.candidate.kind]?.costPerInstanceHour(record.candidate);
  };
  const selection = selectCandidate({
    slo: spec.slo,
    traffic: spec.traffic,
    strategy: spec.strategy,
    candidates: records.map((r): CandidateOutcome => ({ id: r.candidate.id, status: r.status, reason: r.reason, phases: r.phases, scaling: adapters[r.candidate.kind]?.scaling ?? 'instances' })),
    monthlyCost: (outcome, instances) => costPerInstanceHour(outcome)! * instances * options.hoursPerMonth,
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
): Promise<CandidateRecord> {
  const base = { sweepId: context.sweepId, candidate };
  const record = (status: CandidateRecord['status'], phases: PhaseResult[], reason?: string): CandidateRecord => ({
    ...base,
    status,
    phases,
    ...(reason ? { reason } : {}),
    recordedAt: options.now().toISOString(),
  });
  if (!adapter) return record('unavailable', [], `the in-process runner measures local and http candidates; ${candidate.kind} needs its cloud adapter`);
  if (options.signal?.aborted) return record('failed', [], 'interrupted before it started');

  let deployment: Awaited<ReturnType<typeof adapter.deploy>> | undefined;
  let invoker: (Invoker & { close?(): Promise<void> }) | undefined;
  try {
    deployment = await adapter.deploy(candidate, context);
    await adapter.waitReady(deployment, context);
    invoker = adapter.invoker(deployment, context);
    const loadOptions = { slo: spec.slo, signal: options.signal, onProgress: (p: PhaseProgress) => options.events?.onProgress?.(candidate, p) };
    const result = await runLoad(invoker, load, loadOptions);
    const phases = [...result.phases];
    if (spec.load.search && !options.signal?.aborted) phases.push(...(await searchHighestRate(invoker, spec, load.payloads, loadOptions)));
    if (options.signal?.aborted) return record('failed', phases, 'interrupted');
    return record('measured', phases);
  } catch (error) {
    const status = error instanceof CandidateError ? error.status : 'failed';
    return record(status, [], (error as Error).message);
  } finally {
    await invoker?.close?.().catch(() => {});
    await deployment?.teardown();
  }
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
