import { InvokeWithResponseStreamCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { InvokeEndpointWithResponseStreamCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

import type { AnswerOutcome, InvokeOutcome, Invoker, Payload } from '../load/invoker';
import { INVALID_BODY, OpenAiEventStream, streamingBodies } from '../load/openai-event-stream';
import type { OpenAiApi } from '../load/streaming-apis';
import { platformFieldsOfLogTail } from './lambda-log-metrics';

/**
 * What one piece of a platform's response stream is: bytes of the model's own stream, the end of
 * it (with what the platform reported), or an error it carried in place of bytes.
 */
type Part = { readonly bytes: Uint8Array } | { readonly end: { readonly billedMs?: number; readonly initMs?: number } } | { readonly error: string };

/**
 * Reads a platform's response stream, whose bytes are an OpenAI-style stream of server-sent events
 * (see {@link OpenAiEventStream}), into an outcome. An error part, or an exception the SDK throws
 * for one, fails the request as `target_<code>`; a request past `timeoutMs` as `timeout`; bytes
 * that end before the model's stream does, as `connection_STREAM_CUT`.
 */
async function readStream(
  events: OpenAiEventStream,
  timeoutMs: number,
  body: Uint8Array,
  open: (body: Uint8Array, signal: AbortSignal) => Promise<AsyncIterable<Part>>,
): Promise<InvokeOutcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let platform: { billedMs?: number; initMs?: number } = {};
  try {
    for await (const part of abortable(await open(body, controller.signal), controller.signal)) {
      if ('error' in part) return { ok: false, failure: { kind: 'target', code: part.error } };
      if ('end' in part) platform = part.end;
      else events.feed(part.bytes);
      if (events.failure) break;
    }
    const outcome = events.outcome();
    return outcome.ok ? { ...outcome, ...platform } : outcome;
  } catch (error) {
    if (events.failure) return { ok: false, failure: events.failure };
    if (controller.signal.aborted) return { ok: false, failure: { kind: 'timeout' } };
    const e = error as Error & { $metadata?: { httpStatusCode?: number }; code?: string };
    if (e.$metadata?.httpStatusCode === undefined && e.code)
      return { ok: false, failure: { kind: 'connection', code: events.started ? 'STREAM_CUT' : e.code } };
    return { ok: false, failure: { kind: 'target', code: e.name || 'Error' } };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/**
 * The parts of a stream until `signal` fires, then an AbortError: a stream that stalls cannot hold
 * a request past its timeout, whether or not the SDK's own stream heeds the signal.
 */
async function* abortable<T>(parts: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const aborted = new Promise<never>((_, reject) =>
    signal.addEventListener('abort', () => reject(Object.assign(new Error('the stream was aborted'), { name: 'AbortError' })), { once: true }),
  );
  // Never left unhandled: a request that ends in time aborts its controller in `finally`.
  aborted.catch(() => {});
  const iterator = parts[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Not awaited: a stalled source may never answer its return.
    void iterator.return?.()?.catch(() => {});
  }
}

/**
 * Streams each payload as an OpenAI request body (see `openAiStreamingBody`), through `read`; an
 * answer keeps the generated text, as `{"text": …}`.
 */
function streamingInvoker(api: OpenAiApi, read: (body: Uint8Array, events: OpenAiEventStream) => Promise<InvokeOutcome>): Invoker {
  const bodyOf = streamingBodies(api);
  return {
    async invoke(payload: Payload): Promise<InvokeOutcome> {
      const body = bodyOf(payload);
      return body ? read(body, new OpenAiEventStream(api)) : INVALID_BODY;
    },
    async answer(payload: Payload): Promise<AnswerOutcome> {
      const body = bodyOf(payload);
      if (!body) return INVALID_BODY;
      const events = new OpenAiEventStream(api, undefined, true);
      const outcome = await read(body, events);
      return outcome.ok ? { ok: true, body: events.answerBody() } : outcome;
    },
  };
}

/**
 * A SageMaker real-time endpoint whose container streams OpenAI-style server-sent events (LMI, TGI's
 * Messages API, vLLM), through InvokeEndpointWithResponseStream: each PayloadPart's bytes are fed on
 * as they arrive; a ModelStreamError or InternalStreamFailure fails the request under its name.
 */
export function sageMakerStreamInvoker(runtime: SageMakerRuntimeClient, endpointName: string, api: OpenAiApi, timeoutMs: number): Invoker {
  return streamingInvoker(api, (body, events) =>
    readStream(events, timeoutMs, body, async (Body, abortSignal) => {
      const response = await runtime.send(
        new InvokeEndpointWithResponseStreamCommand({
          EndpointName: endpointName,
          ContentType: 'application/json',
          Accept: 'text/event-stream',
          Body,
        }),
        { abortSignal },
      );
      return (async function* () {
        for await (const event of response.Body ?? []) {
          if (event.PayloadPart?.Bytes) yield { bytes: event.PayloadPart.Bytes };
          else if (event.ModelStreamError) yield { error: event.ModelStreamError.ErrorCode ?? 'ModelStreamError' };
          else if (event.InternalStreamFailure) yield { error: 'InternalStreamFailure' };
        }
      })();
    }),
  );
}

/**
 * A response-streaming Lambda function (`awslambda.streamifyResponse`) that writes OpenAI-style
 * server-sent events, through InvokeWithResponseStream with the log tail: each PayloadChunk is fed
 * on as it arrives, and InvokeComplete ends the stream with Lambda's billed and init durations, or
 * fails it under its ErrorCode. Invocations go through `limit` (see `concurrencyLimit`), as
 * whole-response ones do, and the wait for a turn counts in their latency.
 */
export function lambdaStreamInvoker(
  client: LambdaClient,
  functionName: string,
  qualifier: string,
  api: OpenAiApi,
  limit: <T>(fn: () => Promise<T>) => Promise<T>,
  timeoutMs: number,
): Invoker {
  return streamingInvoker(api, (body, events) =>
    limit(() =>
      readStream(events, timeoutMs, body, async (Payload, abortSignal) => {
        const response = await client.send(
          new InvokeWithResponseStreamCommand({
            FunctionName: functionName,
            Qualifier: qualifier,
            InvocationType: 'RequestResponse',
            LogType: 'Tail',
            Payload,
          }),
          { abortSignal },
        );
        return (async function* () {
          for await (const event of response.EventStream ?? []) {
            if (event.PayloadChunk?.Payload) yield { bytes: event.PayloadChunk.Payload };
            else if (event.InvokeComplete?.ErrorCode) yield { error: event.InvokeComplete.ErrorCode };
            else if (event.InvokeComplete) yield { end: platformFieldsOfLogTail(event.InvokeComplete.LogResult) };
          }
        })();
      }),
    ),
  );
}
