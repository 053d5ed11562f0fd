/** What every part of the SageMaker adapter shares: the candidates, the deployment, the options and the clients. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

import { ModelsweepError } from '../../errors';
import type { Candidate } from '../../spec/expand';
import type { Deployment } from '../adapter';
import { type AdapterApi, adapterApi, perKey } from '../cloud/adapter-api';
import type { RetryOptions } from '../cloud/retry';
import { s3Location } from '../cloud/s3-location';

export type RealtimeCandidate = Extract<Candidate, { kind: 'sagemaker-realtime' }>;
export type ServerlessCandidate = Extract<Candidate, { kind: 'sagemaker-serverless' }>;
export type AsyncCandidate = Extract<Candidate, { kind: 'sagemaker-async' }>;
export type SageMakerCandidate = RealtimeCandidate | ServerlessCandidate | AsyncCandidate;
export type TransformCandidate = Extract<Candidate, { kind: 'sagemaker-batch-transform' }>;
/** Candidates that run a SageMaker model: the endpoints' and the transform jobs'. */
export type ModelCandidate = SageMakerCandidate | TransformCandidate;

export interface SageMakerClients {
  readonly sagemaker: SageMakerClient;
  readonly runtime: SageMakerRuntimeClient;
  readonly cloudwatch: CloudWatchClient;
  /** An asynchronous endpoint's requests and answers, a transform job's sample and output. */
  readonly s3: S3Client;
}

export interface SageMakerAdapterOptions {
  /** Clients for a region. @default new SDK clients, one set per region */
  readonly clients?: (region: string | undefined) => SageMakerClients;
  /** Between DescribeEndpoint calls. @default 15000 */
  readonly pollIntervalMs?: number;
  /** Longest wait for InService. @default 1800000 (30 min) */
  readonly readyTimeoutMs?: number;
  /** CloudWatch publishes a minute's data points a minute or two later: wait this long after a phase before reading them. @default 120000 */
  readonly metricsSettleMs?: number;
  /** Throttling retries. */
  readonly retry?: RetryOptions;
  /** Between looks for an asynchronous request's answer, at most (the first look is sooner). @default 1000 */
  readonly answerPollMs?: number;
  /** Injected in tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The one production variant of every endpoint a sweep creates. */
export const VARIANT = 'AllTraffic';

export interface SageMakerDeployment extends Deployment {
  readonly region: string | undefined;
  readonly endpointName: string;
  readonly endpointConfigName: string;
  readonly modelName?: string;
  readonly candidate: SageMakerCandidate;
  /** An asynchronous endpoint's own S3 folder: its requests, answers and failures, deleted at teardown. */
  readonly s3Folder?: S3Folder;
}

/** An S3 bucket and a key prefix ending in `/`. */
export interface S3Folder {
  readonly bucket: string;
  readonly prefix: string;
}

/** Where an asynchronous candidate's requests and answers, or a transform job's sample and output, go: `<s3Path>/<sweep>/<candidate>/`. */
export function candidateFolder(c: AsyncCandidate | TransformCandidate, sweepId: string): S3Folder {
  const { bucket, key } = s3Location(c.s3Path);
  return { bucket, prefix: `${key ? `${key}/` : ''}${sweepId}/${c.id}/` };
}

export const s3Url = (folder: S3Folder, rest = ''): string => `s3://${folder.bucket}/${folder.prefix}${rest}`;

/**
 * A candidate's folder's layout: requests (a transform job's sample) under `in/`, answers under
 * `out/`, an asynchronous endpoint's failures under `failed/`.
 */
export const FOLDER_LAYOUT = { requests: 'in/', answers: 'out', failures: 'failed' } as const;

/** The folder whose answers go to `outputPath` (an endpoint config's or a transform job's S3OutputPath), if it is laid out as a sweep lays it out. */
export function folderOfOutput(outputPath: string): S3Folder | undefined {
  if (!outputPath.startsWith('s3://')) return undefined;
  const { bucket, key } = s3Location(outputPath);
  const suffix = `/${FOLDER_LAYOUT.answers}`;
  return key.endsWith(suffix) ? { bucket, prefix: key.slice(0, -FOLDER_LAYOUT.answers.length) } : undefined;
}

export const asSageMaker = (c: Candidate): SageMakerCandidate => {
  if (c.kind !== 'sagemaker-realtime' && c.kind !== 'sagemaker-serverless' && c.kind !== 'sagemaker-async')
    throw new ModelsweepError('invalid-input', `the SageMaker adapter cannot run a ${c.kind} candidate`);
  return c;
};

/** The clients (one set per region unless given) and the retrying call every part of the adapter uses. */
export type SageMakerApi = AdapterApi<SageMakerAdapterOptions, SageMakerClients>;

export const sageMakerApi = (options: SageMakerAdapterOptions): SageMakerApi =>
  adapterApi(
    options,
    options.clients ??
      perKey((region: string | undefined): SageMakerClients => ({
        sagemaker: new SageMakerClient({ region }),
        runtime: new SageMakerRuntimeClient({ region }),
        cloudwatch: new CloudWatchClient({ region }),
        s3: new S3Client({ region }),
      })),
  );
