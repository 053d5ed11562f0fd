import type { CandidatePricing } from '../cost/candidate-cost';
import type { PriceBook } from '../cost/price-book';
import type { CandidateError } from '../errors';
import type { InvokeFailure, Invoker, Payload } from '../load/invoker';
import type { PhaseResult, ServerMetric } from '../load/phase';
import type { Candidate } from '../spec/expand';
import type { KindRules } from './kind-rules';

export { CandidateError, SetupError } from '../errors';

/** A deployed candidate, as far as the sweep needs to know it. */
export interface Deployment {
  readonly candidateId: string;
  /** Releases what `deploy` created. Idempotent: a second call, or one on nothing, succeeds. */
  teardown(): Promise<void>;
}

/** A deployment described as plain JSON, see {@link TargetAdapter.handleOf}. */
export type DeploymentHandle = Readonly<Record<string, string | number | boolean | null>>;

export interface AdapterContext {
  readonly sweepId: string;
  /** Resolves relative paths of the spec. */
  readonly baseDir: string;
  /** The spec's model file, for local candidates without their own. */
  readonly modelPath?: string;
  /** A request unanswered by then is a timeout. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** When the sweep started: resources carry it as their creation time. */
  readonly createdAt: Date;
  /** After this, `modelsweep janitor` may delete what the sweep created. */
  readonly expiresAt: Date;
  /** The prices the sweep recorded at its start (overrides, price lists, snapshot, in that order). */
  readonly prices: PriceBook;
  /** The sweep's payloads, for kinds that build their own input from them (a transform job's sample). */
  readonly payloads?: readonly Payload[];
}

/** What measuring a candidate involves, for the cost estimate made before it is deployed. */
export interface MeasurementPlan {
  /** Seconds of load (warmup, phases, rate search at its longest). */
  readonly loadSeconds: number;
  /** The most requests the load can send. */
  readonly requests: number;
  /** What one request is assumed to take, for per-request billing (the SLO's latency). */
  readonly assumedDurationMs: number;
  /** Mean request body size, for per-byte charges. */
  readonly meanRequestBytes: number;
}

export interface MeasurementCost {
  readonly usd: number;
  /** How the figure was reached, for the over-budget reason. */
  readonly basis: string;
}

export type { TrafficForecast } from '../cost/candidate-cost';

/**
 * One adapter per candidate kind: check access, deploy, wait until ready, invoke (through the load
 * generator's Invoker), read server-side metrics, tear down. The sweep never needs to know which
 * kind it drives.
 */
export interface TargetAdapter<D extends Deployment = Deployment> extends KindRules, CandidatePricing {
  readonly kind: Candidate['kind'];
  /**
   * Checks, before the sweep creates anything, that it can reach the platform for these
   * candidates (credentials, region). Throws {@link SetupError} with what to do.
   */
  checkAccess?(candidates: readonly Candidate[], context: AdapterContext): Promise<void>;
  deploy(candidate: Candidate, context: AdapterContext): Promise<D>;
  waitReady(deployment: D, context: AdapterContext): Promise<void>;
  /**
   * One look at whether the deployment is ready (the workflow's Wait + describe loop); throws
   * {@link CandidateError} when it never will be. Kinds without it are waited for with `waitReady`.
   */
  isReady?(deployment: D, context: AdapterContext): Promise<boolean>;
  /** Between two `isReady` looks, and the longest wait for readiness. */
  readonly readiness?: { readonly pollMs: number; readonly timeoutMs: number };
  /**
   * What another process needs to find the deployment again (plain JSON): each workflow step may
   * run in a different Lambda invocation. Kinds without it can only be measured by one process.
   */
  handleOf?(deployment: D): DeploymentHandle;
  /** The deployment that `handleOf` described, for invoking it and tearing it down. */
  attach?(candidate: Candidate, handle: DeploymentHandle, context: AdapterContext): D;
  invoker(deployment: D, context: AdapterContext): Invoker & { close?(): Promise<void> };
  /**
   * Kinds whose deployment is a job that scores a sample (a transform job) measure themselves: once
   * it is ready (the job has ended), its timing, recorded in a phase's place. They take no requests,
   * so the workflow never asks them for an invoker.
   */
  measureJob?(deployment: D, context: AdapterContext, rowsPerRequest: number): Promise<PhaseResult>;
  /**
   * The deployment's processes on this machine (a local model server), so the generator can tell
   * the load it puts on them from other processes' while it measures.
   */
  processIds?(deployment: D): readonly number[];
  /** The platform's metrics for each phase's window (same order), where it has them. */
  serverMetrics?(deployment: D, phases: readonly PhaseResult[], context: AdapterContext): Promise<Array<Record<string, ServerMetric> | undefined>>;
  /**
   * Removes what the sweep's candidates shared (a model, an endpoint the sweep created), including
   * what the candidates' `handles` name (created by other processes). Idempotent.
   */
  releaseSharedResources?(context: AdapterContext, handles?: readonly DeploymentHandle[]): Promise<void>;
  /**
   * Whether a failed request shows the candidate cannot run at all (e.g. code built for another
   * architecture): then it is reported with this error instead of being measured.
   */
  unrunnable?(failure: InvokeFailure): CandidateError | undefined;
  /** What measuring the candidate will cost, estimated before it is deployed (for `budget.maxUsd`). */
  estimateMeasurementCost(candidate: Candidate, plan: MeasurementPlan, prices: PriceBook): MeasurementCost;
}

/** The measurement cost of a candidate billed by the hour: its hours of load, plus provisioning. */
export function hourlyMeasurementCost(usdPerHour: number, plan: MeasurementPlan, provisioningSeconds: number, what: string): MeasurementCost {
  const hours = (plan.loadSeconds + provisioningSeconds) / 3600;
  return {
    usd: usdPerHour * hours,
    basis: `${hours.toFixed(2)} h of ${what} at $${usdPerHour.toFixed(3)}/h${provisioningSeconds > 0 ? ` (including ~${Math.round(provisioningSeconds / 60)} min to deploy and remove)` : ''}`,
  };
}
