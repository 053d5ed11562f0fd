/** What every part of the Lambda adapter shares: the candidate, the deployment, the options and the clients. */
import { type Architecture, LambdaClient } from '@aws-sdk/client-lambda';

import { ModelsweepError } from '../../errors';
import type { OpenAiApi } from '../../load/streaming-apis';
import type { Candidate } from '../../spec/expand';
import type { Deployment } from '../adapter';
import { type AdapterApi, adapterApi, perKey } from '../cloud/adapter-api';
import type { RetryOptions } from '../cloud/retry';

export type LambdaCandidate = Extract<Candidate, { kind: 'lambda' }>;

/** The tag that says a sweep changed the function's $LATEST, with what to restore (base64 JSON). */
export const RESTORE_TAG = 'modelsweep:restore';

export interface LambdaAdapterOptions {
  /** A client for a region. @default one SDK client per region */
  readonly client?: (region: string | undefined) => LambdaClient;
  /** Downloads a zip function's code (to re-upload it for another architecture). @default fetch */
  readonly fetchCode?: (url: string) => Promise<Uint8Array>;
  /** Between checks that an update has been applied. @default 2000 */
  readonly pollIntervalMs?: number;
  /** @default 300000 */
  readonly updateTimeoutMs?: number;
  readonly retry?: RetryOptions;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The parts of $LATEST a candidate changes, as they were before. */
export interface OriginalConfiguration {
  readonly memorySizeMb: number;
  readonly architecture: Architecture;
  readonly environment: Record<string, string>;
}

export interface LambdaDeployment extends Deployment {
  readonly region: string | undefined;
  readonly functionName: string;
  readonly alias: string;
  readonly architecture: LambdaCandidate['architecture'];
  readonly maxParallelInvocations: number;
  /** Set when the function streams tokens (InvokeWithResponseStream). */
  readonly api?: OpenAiApi;
  /** The version the sweep published (not one that existed before), which teardown deletes. */
  version(): string | undefined;
  /** Whether $LATEST still waits to be restored (the restore right after publishing failed). */
  restorePending(): boolean;
}

export const asLambda = (c: Candidate): LambdaCandidate => {
  if (c.kind !== 'lambda') throw new ModelsweepError('invalid-input', `the Lambda adapter cannot run a ${c.kind} candidate`);
  return c;
};

export const sameEnvironment = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** The clients (one per region unless given) and the retrying call every part of the adapter uses. */
export type LambdaApi = AdapterApi<LambdaAdapterOptions, LambdaClient>;

export const lambdaApi = (options: LambdaAdapterOptions): LambdaApi =>
  adapterApi(options, options.client ?? perKey((region) => new LambdaClient({ region })));
