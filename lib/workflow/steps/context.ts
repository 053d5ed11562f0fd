import { PriceBook } from '../../cost/price-book';
import type { Invoker, Payload } from '../../load/invoker';
import type { PhaseResult } from '../../load/phase';
import type { Candidate } from '../../spec/expand';
import type { SweepSpec } from '../../spec/schema';
import type { CandidateRecord, ColdStart, SweepRecord } from '../../store/results-store';
import {
  type AdapterContext,
  CandidateError,
  type Deployment,
  type DeploymentHandle,
  type MeasurementCost,
  type TargetAdapter,
} from '../../targets/adapter';
import type { WorkflowEnv } from '../env';
import type { CandidateEvent, DeployedEvent } from '../events';
import { InvalidStepInput } from '../events';
import { measurementPlanOf } from '../load-plans';

/** The sweep a step works on: its spec, payloads and adapter context, read once per process. */
export interface SweepRun {
  readonly record: SweepRecord;
  readonly spec: SweepSpec;
  readonly payloads: Payload[];
  readonly context: AdapterContext;
}

/** What every step works with: the environment, and what this process knows of each sweep. */
export interface StepContext {
  readonly env: WorkflowEnv;
  readonly now: () => Date;
  /** The sweep, its payloads and adapter context: read from the store once per process. */
  runOf(sweepId: string): Promise<SweepRun>;
  /** The candidate's adapter; a kind this workflow has none for makes the candidate unavailable. */
  adapterOf(candidate: CandidateEvent['candidate']): TargetAdapter<any>;
  /** The candidate's deployment: made by this process, or attached to from its handle. */
  deploymentOf(e: DeployedEvent | (CandidateEvent & { deployment?: DeployedEvent['deployment'] }), run: SweepRun): Deployment;
  /** The deployment this process made for a candidate, if any. */
  liveDeployment(sweepId: string, candidateId: string): Deployment | undefined;
  rememberDeployment(sweepId: string, candidateId: string, deployment: Deployment): void;
  /** Writes a candidate's record once; the progress display hears of it only the first time. */
  putRecord(record: CandidateRecord): Promise<void>;
  /** Tears a deployment down, retried by the adapter; returns what could not be removed. */
  tearDown(e: DeployedEvent, run: SweepRun): Promise<string | undefined>;
}

/** Deployments of this process when the environment brings no registry of its own. */
const processDeployments = new Map<string, Deployment>();

export function stepContext(env: WorkflowEnv): StepContext {
  const now = env.now ?? (() => new Date());
  const live = env.live ?? processDeployments;
  const runs = new Map<string, Promise<SweepRun>>();
  const liveKey = (sweepId: string, candidateId: string) => `${sweepId}/${candidateId}`;

  const context: StepContext = {
    env,
    now,
    runOf(sweepId) {
      let run = runs.get(sweepId);
      if (!run) {
        run = loadRun(env, sweepId);
        runs.set(sweepId, run);
        run.catch(() => runs.delete(sweepId));
      }
      return run;
    },
    adapterOf(candidate) {
      const adapter = env.adapters[candidate.kind];
      if (!adapter) throw new CandidateError('unavailable', `this workflow has no adapter for ${candidate.kind} candidates`);
      return adapter;
    },
    deploymentOf(e, run) {
      const found = live.get(liveKey(e.sweepId, e.candidate.id));
      if (found) return found;
      const adapter = context.adapterOf(e.candidate);
      if (!adapter.attach || !e.deployment) {
        throw new CandidateError(
          'failed',
          `the ${e.candidate.kind} deployment of ${e.candidate.id} lives in another process and cannot be reached from this one`,
        );
      }
      const attached = adapter.attach(e.candidate, e.deployment.handle as never, run.context);
      live.set(liveKey(e.sweepId, e.candidate.id), attached);
      return attached;
    },
    liveDeployment: (sweepId, candidateId) => live.get(liveKey(sweepId, candidateId)),
    rememberDeployment: (sweepId, candidateId, deployment) => void live.set(liveKey(sweepId, candidateId), deployment),
    async putRecord(record) {
      if ((await env.store.putCandidateResult(record)) === 'written') env.events?.onCandidateEnd?.(record);
    },
    async tearDown(e, run) {
      try {
        await context.deploymentOf(e, run).teardown();
        live.delete(liveKey(e.sweepId, e.candidate.id));
        return undefined;
      } catch (error) {
        // The measurements stand; what could not be removed is said, and the janitor can finish it.
        return (error as Error).message;
      }
    },
  };
  return context;
}

async function loadRun(env: WorkflowEnv, sweepId: string): Promise<SweepRun> {
  const record = await env.store.getSweep(sweepId);
  if (!record) throw new InvalidStepInput(`sweep ${sweepId} does not exist in the results table`);
  const spec = record.spec as SweepSpec;
  const payloads = await payloadsOf(env, record.payloads ?? []);
  // The figures recorded at the start: every step prices from them, whatever the price lists say later.
  const prices = record.prices ? PriceBook.fromRecorded(record.prices) : env.prices;
  const context = {
    ...adapterContext(sweepId, spec, record.baseDir ?? '.', new Date(record.createdAt), new Date(record.expiresAt ?? record.createdAt), env, prices),
    payloads,
  };
  return { record, spec, payloads, context };
}

/** The payloads a sweep staged, read from the blob store. */
export async function payloadsOf(env: WorkflowEnv, refs: NonNullable<SweepRecord['payloads']>): Promise<Payload[]> {
  const payloads: Payload[] = [];
  for (const ref of refs) {
    payloads.push({
      body: await env.blobs.get(ref.key),
      contentType: ref.contentType ?? 'application/json',
      name: ref.name,
      ...(ref.weight !== undefined ? { weight: ref.weight } : {}),
    });
  }
  return payloads;
}

export function adapterContext(
  sweepId: string,
  spec: SweepSpec,
  baseDir: string,
  createdAt: Date,
  expiresAt: Date,
  env: WorkflowEnv,
  prices: PriceBook = env.prices,
): AdapterContext {
  return { sweepId, baseDir, modelPath: spec.model.path, timeoutMs: spec.load.timeout, signal: env.signal, createdAt, expiresAt, prices };
}

/**
 * What measuring a candidate costs, estimated before it is deployed (the budget) and recorded
 * after: always on demand, whatever commitment the recommendation is priced at, since a sweep's
 * short-lived deployments are billed so.
 */
export function measurementCostOf(adapter: TargetAdapter<any>, candidate: Candidate, run: SweepRun): MeasurementCost {
  return adapter.estimateMeasurementCost(candidate, measurementPlanOf(run.spec, run.payloads), run.context.prices.with({ commitment: 'on-demand' }));
}

/** Runs `use` with an invoker of the deployment, and closes the invoker whatever happens. */
export async function withInvoker<T>(
  adapter: TargetAdapter<any>,
  deployment: Deployment,
  run: SweepRun,
  use: (invoker: Invoker) => Promise<T>,
): Promise<T> {
  const invoker = adapter.invoker(deployment, run.context);
  try {
    return await use(invoker);
  } finally {
    await invoker.close?.().catch(() => {});
  }
}

/** A candidate's record, with only the fields that say something. */
export function candidateRecord(
  e: Pick<CandidateEvent, 'sweepId' | 'candidate'>,
  status: CandidateRecord['status'],
  phases: PhaseResult[],
  reason: string | undefined,
  now: () => Date,
  extra: {
    coldStarts?: ColdStart[];
    measurementCostUsd?: number;
    teardownError?: string;
    deployment?: DeploymentHandle;
    notSpent?: CandidateRecord['notSpent'];
    quality?: CandidateRecord['quality'];
  },
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
    ...(extra.notSpent ? { notSpent: extra.notSpent } : {}),
    ...(extra.quality ? { quality: extra.quality } : {}),
    recordedAt: now().toISOString(),
  };
}
