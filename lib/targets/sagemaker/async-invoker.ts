/**
 * Invoking an asynchronous SageMaker endpoint: each request is written to the candidate's S3
 * folder, queued with InvokeEndpointAsync, and done when its answer (or its failure) appears in S3.
 * A closed loop of these, with more requests in flight than the endpoint takes at once, keeps its
 * queue from running dry: what completes per second is then the queue's drain rate, whatever the
 * polling adds to each request's own latency.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointAsyncCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

import {
  type AnswerOutcome,
  type InvokeFailure,
  type InvokeOutcome,
  type Invoker,
  MAX_ANSWER_BYTES,
  type Payload,
  payloadBytes,
} from '../../load/invoker';
import { realSleep } from '../cloud/retry';
import { s3Location } from '../cloud/s3-location';
import { FOLDER_LAYOUT, type S3Folder, s3Url } from './common';

export interface AsyncInvokerOptions {
  readonly endpointName: string;
  readonly folder: S3Folder;
  readonly accept: string;
  /** A request whose answer has not appeared by then is a timeout. */
  readonly timeoutMs: number;
  /** The longest wait between two looks for an answer; the first look comes after 50 ms, each wait doubling. */
  readonly answerPollMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const FIRST_LOOK_MS = 50;
const TIMED_OUT = { ok: false, failure: { kind: 'timeout' } } as const;

/** What an SDK error counts as: a timeout, a dropped connection, or the service's own error by name. */
export function sdkFailure(error: unknown): InvokeFailure {
  const e = error as Error & { $metadata?: { httpStatusCode?: number }; code?: string };
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return { kind: 'timeout' };
  if (e.$metadata?.httpStatusCode === undefined && e.code) return { kind: 'connection', code: e.code };
  return { kind: 'target', code: e.name || 'Error' };
}

export function sageMakerAsyncInvoker(runtime: SageMakerRuntimeClient, s3: S3Client, options: AsyncInvokerOptions): Invoker {
  const { folder, timeoutMs } = options;
  const sleep = options.sleep ?? realSleep;
  let sent = 0;
  // SageMaker names each answer's object; its URL is read whole, bucket and key.
  const objectAt = (location: string) => {
    const { bucket, key } = s3Location(location);
    return { Bucket: bucket, Key: key };
  };
  const exists = async (location: string, signal: AbortSignal): Promise<boolean> => {
    try {
      await s3.send(new HeadObjectCommand(objectAt(location)), { abortSignal: signal });
      return true;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404 || (error as Error).name === 'NotFound')
        return false;
      throw error;
    }
  };

  /** Queues one request and waits for its outcome: the answer's S3 location, or why there is none. */
  const queued = async (payload: Payload, signal: AbortSignal): Promise<{ ok: true; output: string } | { ok: false; failure: InvokeFailure }> => {
    const deadline = Date.now() + timeoutMs;
    try {
      // Unique per request and per process: several steps may measure the same candidate.
      const key = `${folder.prefix}${FOLDER_LAYOUT.requests}${process.pid}-${Date.now().toString(36)}-${(sent += 1)}`;
      await s3.send(new PutObjectCommand({ Bucket: folder.bucket, Key: key, Body: payloadBytes(payload), ContentType: payload.contentType }), {
        abortSignal: signal,
      });
      const queuedRequest = await runtime.send(
        new InvokeEndpointAsyncCommand({
          EndpointName: options.endpointName,
          InputLocation: s3Url({ bucket: folder.bucket, prefix: key }),
          ContentType: payload.contentType,
          Accept: options.accept,
          InvocationTimeoutSeconds: Math.max(1, Math.min(3600, Math.ceil(timeoutMs / 1000))),
        }),
        { abortSignal: signal },
      );
      const output = queuedRequest.OutputLocation;
      if (!output) return { ok: false, failure: { kind: 'target', code: 'NoOutputLocation' } };
      for (let wait = FIRST_LOOK_MS; ; wait = Math.min(options.answerPollMs, wait * 2)) {
        if (Date.now() + wait > deadline) return TIMED_OUT;
        await sleep(wait);
        if (await exists(output, signal)) return { ok: true, output };
        if (queuedRequest.FailureLocation && (await exists(queuedRequest.FailureLocation, signal)))
          return { ok: false, failure: { kind: 'target', code: 'AsyncInferenceFailed' } };
      }
    } catch (error) {
      return { ok: false, failure: sdkFailure(error) };
    }
  };

  return {
    async invoke(payload: Payload): Promise<InvokeOutcome> {
      const outcome = await queued(payload, AbortSignal.timeout(timeoutMs));
      return outcome.ok ? { ok: true } : outcome;
    },
    async answer(payload: Payload): Promise<AnswerOutcome> {
      const signal = AbortSignal.timeout(timeoutMs);
      const outcome = await queued(payload, signal);
      if (!outcome.ok) return outcome;
      try {
        const got = await s3.send(new GetObjectCommand(objectAt(outcome.output)), { abortSignal: signal });
        if ((got.ContentLength ?? 0) > MAX_ANSWER_BYTES) return { ok: false, failure: { kind: 'target', code: 'AnswerTooLarge' } };
        return { ok: true, body: (await got.Body?.transformToByteArray()) ?? new Uint8Array() };
      } catch (error) {
        return { ok: false, failure: sdkFailure(error) };
      }
    },
  };
}
