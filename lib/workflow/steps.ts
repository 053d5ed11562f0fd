import { failureKey, weightedPayloadPicker, type Payload } from '../load/invoker';
import { mergePhaseResults } from '../load/merge-phases';
import { runPhase, type PhasePlan, type PhaseProgress, type PhaseResult } from '../load/phase';
import type { PriceCatalog } from '../cost/catalog';
import { phaseMeetsSlo } from '../select/select';
import type { Candidate } from '../spec/expand';
import { parseSpec, SpecError } from '../spec/load-spec';
import type { SweepSpec } from '../spec/schema';
import type { CandidateRecord, ColdStart, ResultsStore, SweepRecord } from '../store/results-store';
import { CandidateError, type AdapterContext, type Deployment, type DeploymentHandle, type TargetAdapter } from '../targets/adapter';
import { realSleep } from '../targets/cloud/retry';
import type { AdapterSet } from '../targets/registry';
import { loadOf, measurementPlanOf, phasePlansOf, warmupOf } from '../runner/plan';
import type { BlobStore } from './blob-store';
import {
  candidateEvent,
  cleanUpEvent,
  deployedEvent,
  finishEvent,
  generateEvent,
  InvalidStepInput,
  parseEvent,
  recordEvent,
  recordPhaseEvent,
  searchEvent,
  validateEvent,
  type CandidateEvent,
  type SearchState,
} from './events';
import { finishSweep, type SweepSummary } from './finish';
import { newSweepId } from './sweep-id';
import type { StagedSpec } from './stage-spec';
import { SWEEP_TASKS, type SweepTask } from './task-names';

/** What a sweep reports while it runs (the CLI's progress display). */
export interface SweepEvents {
  onCandidateStart?(candidate: Candidate, index: number, total: number): void;
  onProgress?(candidate: Candidate, progress: PhaseProgress): void;
  onCandidateEnd?(record: CandidateRecord): void;
}

/** Everything the workflow's steps work with: in a Lambda function, built once per container. */
export interface WorkflowEnv {
  readonly store: ResultsStore;
  readonly blobs: BlobStore;
  readonly adapters: AdapterSet;
  readonly prices: PriceCatalog;
  /** Publishes the sweep's outcome (SNS in the cloud). */
  readonly notify?: (summary: SweepSummary) => Promise<void>;
  readonly events?: SweepEvents;
  /** Stops load and lets the remaining steps record and tear down (Ctrl-C). */
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** Waits between cold-start probes (injected in tests). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Above this rate an open phase is split among generators run side by side. @default Infinity */
  readonly maxRatePerGenerator?: number;
  /** The longest phase one step may run (a Lambda invocation's limit, less a margin). @default no limit */
  readonly maxPhaseMs?: number;
  /** Candidate kinds this environment cannot run (a cloud workflow cannot start local model servers). */
  readonly unsupportedKinds?: ReadonlyMap<Candidate['kind'], string>;
  /** Deployments made by this process, by sweep and candidate. */
  readonly live?: Map<string, Deployment>;
}

/** How long after a sweep's planned end the janitor may remove what it left: time for deploys, teardowns and retries. */
const EXPIRY_MARGIN_MS = 2 * 3600_000;
/** A cloud candidate's deploy, wait and teardown, for the planned end of the sweep. */
const CLOUD_OVERHEAD_MS = 30 * 60_000;
/** Index of the first rate-search probe among a candidate's recorded phases (after the spec's). */
const SEARCH_PHASE_BASE = 1000;
/** Deployments of this process when the environment brings no registry of its own. */
const processDeployments = new Map<string, Deployment>();

/** The sweep a step works on: its spec, payloads and adapter context, read once per process. */
interface SweepRun {
  readonly record: SweepRecord;
  readonly spec: SweepSpec;
  readonly payloads: Payload[];
  readonly context: AdapterContext;
}

export type StepHandlers = Record<SweepTask, (event: unknown) => Promise<unknown>>;

/**
 * The workflow's steps, one per Task state (see {@link SWEEP_TASKS}): each parses its input,
 * does one thing, and returns plain JSON. The cloud functions and the local executor call these.
 */
export function sweepSteps(env: WorkflowEnv): StepHandlers {
  const now = env.now ?? (() => new Date());
  const live = env.live ?? processDeployments;
  const runs = new Map<string, Promise<SweepRun>>();

  const runOf = (sweepId: string): Promise<SweepRun> => {
    let run = runs.get(sweepId);
    if (!run) {
      run = loadRun(env, sweepId);
      runs.set(sweepId, run);
      run.catch(() => runs.delete(sweepId));
    }
    return run;
  };
  const adapterOf = (candidate: Candidate): TargetAdapter<any> => {
    const adapter = env.adapters[candidate.kind];
    if (!adapter) throw new CandidateError('unavailable', `this workflow has no adapter for ${candidate.kind} candidates`);
    return adapter;
  };
  const liveKey = (sweepId: string, candidateId: string) => `${sweepId}/${candidateId}`;
  const deploymentOf = (e: { sweepId: string; candidate: Candidate; deployment?: { handle: Record<string, unknown> } }, run: SweepRun): Deployment => {
    const found = live.get(liveKey(e.sweepId, e.candidate.id));
    if (found) return found;
    const adapter = adapterOf(e.candidate);
    if (!adapter.attach || !e.deployment) {
      throw new CandidateError('failed', `the ${e.candidate.kind} deployment of ${e.candidate.id} lives in another process and cannot be reached from this one`);
    }
    const attached = adapter.attach(e.candidate, e.deployment.handle as never, run.context);
    live.set(liveKey(e.sweepId, e.candidate.id), attached);
    return attached;
  };
  /** A record written once; the progress display hears of it only the first time. */
  const putRecord = async (record: CandidateRecord) => {
    if ((await env.store.putCandidateResult(record)) === 'written') env.events?.onCandidateEnd?.(record);
  };

  const steps: StepHandlers = {
    async validate(event) {
      const { request: e, defaultMaxConcurrency } = parseEvent(validateEvent, event, SWEEP_TASKS.validate);
      const staged = JSON.parse((await env.blobs.get(e.specKey)).toString('utf8')) as StagedSpec;
      let loaded;
      try {
        loaded = parseSpec(staged.text, staged.file, staged.baseDir, { checkFiles: false });
      } catch (error) {
        if (error instanceof SpecError) throw new InvalidSpec(error.message);
        throw error;
      }
      const { spec, candidates } = loaded;
      checkLimits(env, spec, candidates);
      const sweepId = e.sweepId ?? newSweepId(spec.name, now());
      const existing = await env.store.getSweep(sweepId);
      const createdAt = existing ? new Date(existing.createdAt) : now();
      const { loadSeconds } = loadOf(spec);
      const plannedMs = candidates.reduce((ms, c) => ms + loadSeconds * 1000 + (c.kind === 'http' || c.kind === 'local' ? 0 : CLOUD_OVERHEAD_MS), 0);
      const expiresAt = new Date(createdAt.getTime() + plannedMs + EXPIRY_MARGIN_MS);
      // Before anything is created or recorded: can every kind reach its platform?
      const context = adapterContext(sweepId, spec, staged.baseDir, createdAt, expiresAt, env);
      for (const kind of new Set(candidates.map((c) => c.kind))) await env.adapters[kind]?.checkAccess?.(candidates.filter((c) => c.kind === kind), context);
      await env.store.createSweep({
        sweepId,
        name: spec.name,
        model: spec.model.name,
        createdAt: createdAt.toISOString(),
        spec,
        expiresAt: expiresAt.toISOString(),
        payloads: staged.payloads,
        baseDir: staged.baseDir,
      });
      const items = candidates.map((candidate, index) => ({ sweepId, candidate, position: { index, total: candidates.length } }));
      return { sweepId, maxConcurrency: e.maxConcurrency ?? defaultMaxConcurrency, lanes: lanesOf(items) };
    },

    async budget(event) {
      const e = parseEvent(candidateEvent, event, SWEEP_TASKS.budget);
      const run = await runOf(e.sweepId);
      if (e.position) env.events?.onCandidateStart?.(e.candidate, e.position.index, e.position.total);
      const refuse = async (status: CandidateRecord['status'], reason: string, measurementCostUsd?: number) => {
        await putRecord(candidateRecord(e, status, [], reason, now, { measurementCostUsd }));
        return { approved: false };
      };
      if (env.signal?.aborted) return refuse('failed', 'interrupted before it started');
      // Without one, adapterOf fails the step and the failure path records the candidate unavailable.
      const adapter = adapterOf(e.candidate);
      const estimate = adapter.estimateMeasurementCost(e.candidate, measurementPlanOf(run.spec, run.payloads), env.prices);
      const budget = run.spec.budget;
      if (!budget) return { approved: true, estimateUsd: estimate.usd };
      const { granted, reservedUsd } = await env.store.reserveBudget(e.sweepId, e.candidate.id, estimate.usd, budget.maxUsd);
      if (granted) return { approved: true, estimateUsd: estimate.usd };
      return refuse(
        'over-budget',
        `measuring it would cost about $${estimate.usd.toFixed(2)} (${estimate.basis}); $${Math.max(0, budget.maxUsd - reservedUsd).toFixed(2)} of the $${budget.maxUsd} budget is left`,
        estimate.usd,
      );
    },

    async deploy(event) {
      const e = parseEvent(candidateEvent, event, SWEEP_TASKS.deploy);
      const run = await runOf(e.sweepId);
      const adapter = adapterOf(e.candidate);
      const key = liveKey(e.sweepId, e.candidate.id);
      // Delivered twice in one process: the first deployment is the one.
      const deployment = live.get(key) ?? (await adapter.deploy(e.candidate, run.context));
      live.set(key, deployment);
      const readyBy = new Date(now().getTime() + (adapter.readiness?.timeoutMs ?? 0)).toISOString();
      return { handle: adapter.handleOf?.(deployment) ?? {}, readyBy };
    },

    async checkReady(event) {
      const e = parseEvent(deployedEvent, event, SWEEP_TASKS.checkReady);
      const run = await runOf(e.sweepId);
      const adapter = adapterOf(e.candidate);
      const deployment = deploymentOf(e, run);
      if (!adapter.isReady || !adapter.readiness) {
        await adapter.waitReady(deployment, run.context);
        return { ready: true, waitSeconds: 0 };
      }
      if (await adapter.isReady(deployment, run.context)) return { ready: true, waitSeconds: 0 };
      if (now().getTime() > Date.parse(e.deployment.readyBy)) {
        throw new CandidateError('failed', `${e.candidate.id} was not ready after ${Math.round(adapter.readiness.timeoutMs / 60_000)} min`);
      }
      if (env.signal?.aborted) throw new CandidateError('failed', 'interrupted while waiting for it to be ready');
      return { ready: false, waitSeconds: Math.max(1, Math.round(adapter.readiness.pollMs / 1000)) };
    },

    async warmup(event) {
      const e = parseEvent(deployedEvent, event, SWEEP_TASKS.warmup);
      const run = await runOf(e.sweepId);
      const adapter = adapterOf(e.candidate);
      const coldStarts: ColdStart[] = [];
      await withInvoker(adapter, deploymentOf(e, run), run, async (invoker) => {
        // On platforms that scale per request, the first request after deploy meets a cold start.
        if (adapter.scaling === 'per-request') coldStarts.push(await probeColdStart(invoker, run.payloads[0]!, 'deploy', adapter));
        const warmup = warmupOf(run.spec);
        if (warmup && !env.signal?.aborted) await runPhase(invoker, warmup, { seed: run.spec.seed - 1, nextPayload: weightedPayloadPicker(run.payloads, run.spec.seed - 1), signal: env.signal, onProgress: (p) => env.events?.onProgress?.(e.candidate, p) });
      });
      const phases = phasePlansOf(run.spec).map((plan, phase) => {
        const of = generatorsFor(plan, env.maxRatePerGenerator);
        return { phase, shards: Array.from({ length: of }, (_, shard) => ({ shard, of })) };
      });
      const search = run.spec.load.search;
      const initial: SearchState = search ? { done: false, low: search.from, high: search.to, probes: 0 } : { done: true, low: 1, high: 1, probes: 0 };
      return { coldStarts, phases, search: initial };
    },

    async generate(event) {
      const e = parseEvent(generateEvent, event, SWEEP_TASKS.generate);
      const run = await runOf(e.sweepId);
      const plan = phasePlansOf(run.spec)[e.phase];
      if (!plan) throw new InvalidStepInput(`${SWEEP_TASKS.generate}: phase ${e.phase} is not in the spec (it has ${phasePlansOf(run.spec).length})`);
      const share: PhasePlan = plan.mode === 'open' ? { ...plan, rate: plan.rate / e.of } : { ...plan, concurrency: shareOf(plan.concurrency, e.shard, e.of) };
      // Each generator its own arrivals and payload sequence; the phase's seed as in one generator when alone.
      const seed = run.spec.seed + e.phase + e.shard * 7919;
      return withInvoker(adapterOf(e.candidate), deploymentOf(e, run), run, (invoker) =>
        runPhase(invoker, share, {
          seed,
          nextPayload: weightedPayloadPicker(run.payloads, seed),
          slo: run.spec.slo,
          signal: env.signal,
          onProgress: (p) => env.events?.onProgress?.(e.candidate, p),
        }),
      );
    },

    async recordPhase(event) {
      const e = parseEvent(recordPhaseEvent, event, SWEEP_TASKS.recordPhase);
      const merged = mergePhaseResults(e.results as unknown as PhaseResult[]);
      await env.store.putPhase(e.sweepId, e.candidate.id, e.phase, merged);
      return { phase: e.phase, requests: merged.requests };
    },

    async search(event) {
      const e = parseEvent(searchEvent, event, SWEEP_TASKS.search);
      const run = await runOf(e.sweepId);
      const search = run.spec.load.search;
      const state = e.search;
      if (!search || state.done || env.signal?.aborted) return { ...state, done: true };
      // Probe the bottom of the range, then the top, then bisect (geometric: rates span orders of magnitude).
      const rate = state.probes === 0 ? search.from : state.probes === 1 ? search.to : Math.sqrt(state.low * state.high);
      const seed = run.spec.seed + SEARCH_PHASE_BASE + state.probes;
      const result = await withInvoker(adapterOf(e.candidate), deploymentOf(e, run), run, (invoker) =>
        runPhase(invoker, { name: `search-${Math.round(rate)}rps`, mode: 'open', rate, arrivals: 'poisson', durationMs: search.stepDuration }, {
          seed,
          nextPayload: weightedPayloadPicker(run.payloads, seed),
          slo: run.spec.slo,
          signal: env.signal,
          onProgress: (p) => env.events?.onProgress?.(e.candidate, p),
        }),
      );
      await env.store.putPhase(e.sweepId, e.candidate.id, SEARCH_PHASE_BASE + state.probes, result);
      const passed = phaseMeetsSlo(result, run.spec.slo);
      const probes = state.probes + 1;
      if (state.probes === 0) return { done: !passed, low: search.from, high: search.to, probes };
      if (state.probes === 1) return { done: passed, low: search.from, high: search.to, probes };
      const next = passed ? { low: rate, high: state.high } : { low: state.low, high: rate };
      return { ...next, probes, done: (next.high - next.low) / next.low <= search.precision };
    },

    async record(event) {
      const e = parseEvent(recordEvent, event, SWEEP_TASKS.record);
      const run = await runOf(e.sweepId);
      const adapter = adapterOf(e.candidate);
      const deployment = deploymentOf(e, run);
      const coldStarts = [...(e.warm.coldStarts as unknown as ColdStart[])];
      let phases = await env.store.listPhases(e.sweepId, e.candidate.id);
      const c = e.candidate;
      if (!env.signal?.aborted && c.kind === 'sagemaker-serverless' && c.coldStartAfterIdleMs) {
        await (env.sleep ?? realSleep)(c.coldStartAfterIdleMs);
        coldStarts.push(await withInvoker(adapter, deployment, run, (invoker) => probeColdStart(invoker, run.payloads[0]!, 'idle', adapter)));
      }
      if (!env.signal?.aborted && adapter.serverMetrics) {
        const metrics = await adapter.serverMetrics(deployment, phases, run.context).catch(() => []);
        phases = phases.map((phase, i) => (metrics[i] ? { ...phase, serverMetrics: metrics[i] } : phase));
      }
      const estimate = adapter.estimateMeasurementCost(c, measurementPlanOf(run.spec, run.payloads), env.prices).usd;
      const record = env.signal?.aborted
        ? candidateRecord(e, 'failed', phases, 'interrupted', now, { coldStarts, measurementCostUsd: estimate, deployment: e.deployment.handle })
        : candidateRecord(e, 'measured', phases, undefined, now, { coldStarts, measurementCostUsd: estimate, deployment: e.deployment.handle });
      await putRecord(record);
      return { status: record.status };
    },

    async teardown(event) {
      const e = parseEvent(deployedEvent, event, SWEEP_TASKS.teardown);
      const error = await tearDown(e, await runOf(e.sweepId));
      if (error) await env.store.noteTeardownError(e.sweepId, e.candidate.id, error);
      return { status: 'done', ...(error ? { teardownError: error } : {}) };
    },

    async cleanUp(event) {
      const e = parseEvent(cleanUpEvent, event, SWEEP_TASKS.cleanUp);
      const teardownError = e.deployment ? await tearDown(e as typeof e & { deployment: NonNullable<typeof e.deployment> }, await runOf(e.sweepId)) : undefined;
      const status = e.error.Error === CANDIDATE_UNAVAILABLE ? 'unavailable' : 'failed';
      const phases = await env.store.listPhases(e.sweepId, e.candidate.id).catch(() => []);
      await putRecord(candidateRecord(e, status, phases, failureReason(e.error), now, { teardownError, deployment: e.deployment?.handle }));
      return { status };
    },

    async finish(event) {
      const e = parseEvent(finishEvent, event, SWEEP_TASKS.finish);
      const run = await runOf(e.sweepId);
      // Shared resources (a SageMaker model, an Azure endpoint the sweep created) go whatever happened.
      const records = await env.store.listCandidateResults(e.sweepId);
      for (const kind of new Set(run.spec.candidates.map((c) => c.kind))) {
        const handles = records.flatMap((r) => (r.candidate.kind === kind && r.deployment ? [r.deployment] : []));
        await env.adapters[kind]?.finishSweep?.(run.context, handles).catch(() => {});
      }
      return finishSweep(env, run.record, run.spec, now);
    },

    async notify(event) {
      const summary = event as SweepSummary;
      await env.notify?.(summary);
      return summary;
    },
  };

  /** Tears a deployment down, retried by the adapter; returns what could not be removed. */
  async function tearDown(e: { sweepId: string; candidate: Candidate; deployment: { handle: Record<string, unknown> } }, run: SweepRun): Promise<string | undefined> {
    const key = liveKey(e.sweepId, e.candidate.id);
    try {
      await deploymentOf(e, run).teardown();
      live.delete(key);
      return undefined;
    } catch (error) {
      // The measurements stand; what could not be removed is said, and the janitor can finish it.
      return (error as Error).message;
    }
  }

  return wrapErrors(steps);
}

/** Error names the workflow's Catch sees: whether a candidate could not run at all, or failed. */
export const CANDIDATE_UNAVAILABLE = 'CandidateUnavailable';
export const CANDIDATE_FAILED = 'CandidateFailed';

/** A spec the workflow was started with but that does not validate. */
export class InvalidSpec extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSpec';
  }
}


/**
 * Step Functions sees an error by its name: a CandidateError leaves as CandidateUnavailable or
 * CandidateFailed, so the failure path can record the right status.
 */
function wrapErrors(steps: StepHandlers): StepHandlers {
  const wrapped = {} as StepHandlers;
  for (const [name, step] of Object.entries(steps) as Array<[SweepTask, StepHandlers[SweepTask]]>) {
    wrapped[name] = async (event) => {
      try {
        return await step(event);
      } catch (error) {
        if (error instanceof CandidateError) {
          const renamed = new Error(error.message);
          renamed.name = error.status === 'unavailable' ? CANDIDATE_UNAVAILABLE : CANDIDATE_FAILED;
          throw renamed;
        }
        throw error;
      }
    };
  }
  return wrapped;
}

/** A failure's message: Lambda's Cause is JSON ({"errorMessage": …}); a local one is the message itself. */
function failureReason(error: { Error: string; Cause?: string }): string {
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the message itself
  }
  if (error.Error === CANDIDATE_FAILED || error.Error === CANDIDATE_UNAVAILABLE) return cause || 'failed';
  return cause ? `${error.Error}: ${cause}` : error.Error;
}

function candidateRecord(
  e: Pick<CandidateEvent, 'sweepId' | 'candidate'>,
  status: CandidateRecord['status'],
  phases: PhaseResult[],
  reason: string | undefined,
  now: () => Date,
  extra: { coldStarts?: ColdStart[]; measurementCostUsd?: number; teardownError?: string; deployment?: DeploymentHandle },
): CandidateRecord {
  return {
    sweepId: e.sweepId,
    candidate: e.candidate,
    status,
    phases,
    ...(reason ? { reason } : {}),
    ...(extra.coldStarts && extra.coldStarts.length > 0 ? { coldStarts: extra.coldStarts } : {}),
    ...(extra.measurementCostUsd !== undefined ? { measurementCostUsd: extra.measurementCostUsd } : {}),
    ...(extra.teardownError ? { teardownError: extra.teardownError } : {}),
    ...(extra.deployment && Object.keys(extra.deployment).length > 0 ? { deployment: extra.deployment } : {}),
    recordedAt: now().toISOString(),
  };
}

async function loadRun(env: WorkflowEnv, sweepId: string): Promise<SweepRun> {
  const record = await env.store.getSweep(sweepId);
  if (!record) throw new InvalidStepInput(`sweep ${sweepId} does not exist in the results table`);
  const spec = record.spec as SweepSpec;
  const payloads: Payload[] = [];
  for (const ref of record.payloads ?? []) {
    payloads.push({ body: await env.blobs.get(ref.key), contentType: ref.contentType ?? 'application/json', name: ref.name, ...(ref.weight !== undefined ? { weight: ref.weight } : {}) });
  }
  const context = adapterContext(sweepId, spec, record.baseDir ?? '.', new Date(record.createdAt), new Date(record.expiresAt ?? record.createdAt), env);
  return { record, spec, payloads, context };
}

function adapterContext(sweepId: string, spec: SweepSpec, baseDir: string, createdAt: Date, expiresAt: Date, env: WorkflowEnv): AdapterContext {
  return { sweepId, baseDir, modelPath: spec.model.path, timeoutMs: spec.load.timeout, signal: env.signal, createdAt, expiresAt, prices: env.prices };
}

/**
 * Candidates that must not be measured at the same time share a lane, measured one after the
 * other: Lambda candidates of one function (a sweep changes its $LATEST to publish each), and
 * local candidates (model servers on this machine's cores would measure each other).
 */
export function lanesOf<T extends { candidate: Candidate }>(items: readonly T[]): Array<{ candidates: T[] }> {
  const lanes = new Map<string, T[]>();
  for (const item of items) {
    const c = item.candidate;
    const key = c.kind === 'lambda' ? `lambda:${c.region ?? ''}:${c.functionName}` : c.kind === 'local' ? 'local' : `candidate:${c.id}`;
    lanes.set(key, [...(lanes.get(key) ?? []), item]);
  }
  return [...lanes.values()].map((candidates) => ({ candidates }));
}

/** Refuses, before anything is created, what this environment cannot run. */
function checkLimits(env: WorkflowEnv, spec: SweepSpec, candidates: readonly Candidate[]): void {
  const problems: string[] = [];
  spec.candidates.forEach((group, i) => {
    const why = env.unsupportedKinds?.get(group.kind);
    if (why) problems.push(`candidates[${i}].kind: ${why}`);
  });
  if (env.maxPhaseMs !== undefined) {
    const limit = env.maxPhaseMs;
    const over = (path: string, ms: number) => ms > limit && problems.push(`${path}: ${Math.round(ms / 1000)} s is longer than the ${Math.round(limit / 1000)} s one load step may run; split it into several phases`);
    spec.load.phases.forEach((p, i) => over(`load.phases[${i}].${p.mode === 'stairs' ? 'stepDuration' : 'duration'}`, p.mode === 'stairs' ? p.stepDuration : p.duration));
    if (spec.load.warmup) over('load.warmup.duration', spec.load.warmup.duration);
    if (spec.load.search) over('load.search.stepDuration', spec.load.search.stepDuration);
  }
  if (candidates.length === 0) problems.push('candidates: expands to no candidate');
  if (problems.length > 0) throw new InvalidSpec(problems.join('; '));
}

/** Generators for a phase: one per `maxRate` of an open phase's rate. */
function generatorsFor(plan: PhasePlan, maxRate = Infinity): number {
  return plan.mode === 'open' ? Math.max(1, Math.ceil(plan.rate / maxRate)) : 1;
}

/** Shard `shard`'s part of `total` workers, spread as evenly as whole numbers allow. */
function shareOf(total: number, shard: number, of: number): number {
  return Math.floor(total / of) + (shard < total % of ? 1 : 0);
}

async function withInvoker<T>(adapter: TargetAdapter<any>, deployment: Deployment, run: SweepRun, use: (invoker: ReturnType<TargetAdapter['invoker']>) => Promise<T>): Promise<T> {
  const invoker = adapter.invoker(deployment, run.context);
  try {
    return await use(invoker);
  } finally {
    await invoker.close?.().catch(() => {});
  }
}

/**
 * Times one request on its own. A failure that the adapter recognises as the candidate being unable
 * to run (code built for another architecture) ends the candidate as unavailable.
 */
async function probeColdStart(invoker: ReturnType<TargetAdapter['invoker']>, payload: Payload, after: ColdStart['after'], adapter: TargetAdapter<any>): Promise<ColdStart> {
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
