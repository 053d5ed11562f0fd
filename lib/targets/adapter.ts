import type { Invoker } from '../load/invoker';
import type { Candidate } from '../spec/expand';

/** A deployed candidate, as far as the sweep needs to know it. */
export interface Deployment {
  readonly candidateId: string;
  /** Releases what `deploy` created. Idempotent: a second call, or one on nothing, succeeds. */
  teardown(): Promise<void>;
}

export interface AdapterContext {
  readonly sweepId: string;
  /** Resolves relative paths of the spec. */
  readonly baseDir: string;
  /** The spec's model file, for local candidates without their own. */
  readonly modelPath?: string;
  /** A request unanswered by then is a timeout. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * One adapter per candidate kind: deploy, wait until ready, invoke (through the load
 * generator's Invoker), tear down. The sweep never needs to know which kind it drives.
 */
export interface TargetAdapter<D extends Deployment = Deployment> {
  readonly kind: Candidate['kind'];
  /** How capacity grows: by adding instances, or by the platform per request. */
  readonly scaling: 'instances' | 'per-request';
  deploy(candidate: Candidate, context: AdapterContext): Promise<D>;
  waitReady(deployment: D, context: AdapterContext): Promise<void>;
  invoker(deployment: D, context: AdapterContext): Invoker & { close?(): Promise<void> };
  /** Cost of one instance-hour (instance-based kinds), for the cost model. */
  costPerInstanceHour(candidate: Candidate): number;
}

/** A candidate that could not be measured, and why: `unavailable` (quota, region) or `failed`. */
export class CandidateError extends Error {
  constructor(readonly status: 'failed' | 'unavailable', message: string) {
    super(message);
    this.name = 'CandidateError';
  }
}
