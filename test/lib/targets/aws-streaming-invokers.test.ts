import { setTimeout as sleep } from 'node:timers/promises';

import { InvokeWithResponseStreamCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { InvokeEndpointWithResponseStreamCommand, ModelError, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

import type { Payload } from '../../../lib/load/invoker';
import { lambdaStreamInvoker, sageMakerStreamInvoker } from '../../../lib/targets/aws-streaming-invokers';
import { concurrencyLimit } from '../../../lib/targets/lambda/invoke';

const runtime = mockClient(SageMakerRuntimeClient);
const lambda = mockClient(LambdaClient);
beforeEach(() => {
  runtime.reset();
  lambda.reset();
});

const chat: Payload = {
  body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3 }),
  contentType: 'application/json',
};
const event = (data: unknown) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const delta = (text: string, finish?: string) => event({ choices: [{ delta: { content: text }, ...(finish ? { finish_reason: finish } : {}) }] });
/** Three tokens, then the usage chunk and [DONE], as one string. */
const THREE_TOKENS = [delta('a'), delta('b'), delta('c', 'stop'), event({ choices: [], usage: { completion_tokens: 3 } }), event('[DONE]')].join('');

/** The bytes cut every `size` characters, wherever that falls (mid-line, mid-JSON), each piece after `gapMs`. */
async function* pieces<T>(text: string, size: number, gapMs: number, wrap: (bytes: Uint8Array) => T): AsyncGenerator<T> {
  for (let i = 0; i < text.length; i += size) {
    await sleep(gapMs);
    yield wrap(Buffer.from(text.slice(i, i + size)));
  }
}

const sageMakerPart = (bytes: Uint8Array) => ({ PayloadPart: { Bytes: bytes } });
const lambdaChunk = (bytes: Uint8Array) => ({ PayloadChunk: { Payload: bytes } });
const reportLine = Buffer.from(
  'START RequestId: x\nEND RequestId: x\nREPORT RequestId: x\tDuration: 41.20 ms\tBilled Duration: 42 ms\tMemory Size: 1024 MB\tMax Memory Used: 90 MB\tInit Duration: 180.50 ms\n',
).toString('base64');

describe('SageMaker InvokeEndpointWithResponseStream', () => {
  const invoker = () => sageMakerStreamInvoker(new SageMakerRuntimeClient({ region: 'us-east-1' }), 'ep', 'openai-chat', 5_000);

  it('times the tokens of a stream whose parts split events anywhere, with the server’s count, and asks for a stream', async () => {
    runtime.on(InvokeEndpointWithResponseStreamCommand).callsFake(() => ({ Body: pieces(THREE_TOKENS, 7, 3, sageMakerPart) }));
    const outcome = await invoker().invoke(chat);
    expect(outcome).toMatchObject({ ok: true, stream: { outputTokens: 3, tokensCountedBy: 'usage' } });
    if (!outcome.ok) return;
    expect(outcome.stream!.interTokenMs).toHaveLength(2);
    const sent = runtime.commandCalls(InvokeEndpointWithResponseStreamCommand)[0]!.args[0].input;
    expect(sent).toMatchObject({ EndpointName: 'ep', ContentType: 'application/json', Accept: 'text/event-stream' });
    expect(JSON.parse(Buffer.from(sent.Body as Uint8Array).toString())).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 3,
    });
  });

  it('keeps the generated text as an answer to read (`{"text": …}`), for exact-match', async () => {
    runtime.on(InvokeEndpointWithResponseStreamCommand).callsFake(() => ({ Body: pieces(THREE_TOKENS, 5, 0, sageMakerPart) }));
    const answer = await invoker().answer!(chat);
    expect(answer.ok && JSON.parse(Buffer.from(answer.body).toString())).toEqual({ text: 'abc' });
    lambda.on(InvokeWithResponseStreamCommand).callsFake(() => ({ EventStream: pieces(THREE_TOKENS, 5, 0, lambdaChunk) }));
    const fromLambda = await lambdaStreamInvoker(new LambdaClient({ region: 'us-east-1' }), 'fn', 'q', 'openai-chat', concurrencyLimit(1), 5_000)
      .answer!(chat);
    expect(fromLambda.ok && Buffer.from(fromLambda.body).toString()).toBe('{"text":"abc"}');
  });

  it('fails a stream that carries a ModelStreamError under its code, one cut short as STREAM_CUT, and a model error under its name', async () => {
    runtime.on(InvokeEndpointWithResponseStreamCommand).callsFake(() => ({
      Body: (async function* () {
        yield sageMakerPart(Buffer.from(delta('a')));
        yield { ModelStreamError: { ErrorCode: 'ModelInvocationTimeExceeded', Message: 'too slow' } };
      })(),
    }));
    expect(await invoker().invoke(chat)).toEqual({ ok: false, failure: { kind: 'target', code: 'ModelInvocationTimeExceeded' } });

    runtime.on(InvokeEndpointWithResponseStreamCommand).callsFake(() => ({ Body: pieces(delta('a') + delta('b'), 100, 0, sageMakerPart) }));
    expect(await invoker().invoke(chat)).toEqual({ ok: false, failure: { kind: 'connection', code: 'STREAM_CUT' } });

    runtime.on(InvokeEndpointWithResponseStreamCommand).rejects(new ModelError({ message: 'boom', $metadata: { httpStatusCode: 424 } }));
    expect(await invoker().invoke(chat)).toEqual({ ok: false, failure: { kind: 'target', code: 'ModelError' } });
  });

  it('refuses a payload that is no OpenAI request body as a failure, without calling SageMaker', async () => {
    expect(await invoker().invoke({ body: '[1,2]', contentType: 'application/json' })).toEqual({
      ok: false,
      failure: { kind: 'target', code: 'invalid_request_body' },
    });
    expect(runtime.commandCalls(InvokeEndpointWithResponseStreamCommand)).toHaveLength(0);
  });

  it('gives up on a stream that never ends, as a timeout', async () => {
    runtime.on(InvokeEndpointWithResponseStreamCommand).callsFake(() => ({
      Body: (async function* () {
        yield sageMakerPart(Buffer.from(delta('a')));
        // Stalls for good, heeding no signal.
        await new Promise(() => {});
      })(),
    }));
    const slow = sageMakerStreamInvoker(new SageMakerRuntimeClient({ region: 'us-east-1' }), 'ep', 'openai-chat', 50);
    expect(await slow.invoke(chat)).toEqual({ ok: false, failure: { kind: 'timeout' } });
  });
});

describe('Lambda InvokeWithResponseStream', () => {
  const invoker = (maxParallel = 10) =>
    lambdaStreamInvoker(new LambdaClient({ region: 'us-east-1' }), 'fn', 'modelsweep-c1', 'openai-chat', concurrencyLimit(maxParallel), 5_000);

  it('times the tokens, and takes the billed and init durations from InvokeComplete’s log tail', async () => {
    lambda.on(InvokeWithResponseStreamCommand).callsFake(() => ({
      EventStream: (async function* () {
        yield* pieces(THREE_TOKENS, 11, 2, lambdaChunk);
        yield { InvokeComplete: { LogResult: reportLine } };
      })(),
    }));
    const outcome = await invoker().invoke(chat);
    expect(outcome).toMatchObject({ ok: true, billedMs: 42, initMs: 180.5, stream: { outputTokens: 3, tokensCountedBy: 'usage' } });
    expect(lambda.commandCalls(InvokeWithResponseStreamCommand)[0]!.args[0].input).toMatchObject({
      FunctionName: 'fn',
      Qualifier: 'modelsweep-c1',
      LogType: 'Tail',
    });
  });

  it('fails under InvokeComplete’s ErrorCode, and counts tokens by chunk when the function sends no usage', async () => {
    lambda.on(InvokeWithResponseStreamCommand).callsFake(() => ({
      EventStream: (async function* () {
        yield lambdaChunk(Buffer.from(delta('a')));
        yield { InvokeComplete: { ErrorCode: 'Unhandled', ErrorDetails: 'TypeError' } };
      })(),
    }));
    expect(await invoker().invoke(chat)).toEqual({ ok: false, failure: { kind: 'target', code: 'Unhandled' } });

    lambda.on(InvokeWithResponseStreamCommand).callsFake(() => ({
      EventStream: (async function* () {
        yield* pieces(delta('a') + delta('b') + delta('c', 'stop') + event('[DONE]'), 5, 0, lambdaChunk);
        yield { InvokeComplete: {} };
      })(),
    }));
    expect(await invoker().invoke(chat)).toMatchObject({ ok: true, stream: { outputTokens: 3, tokensCountedBy: 'chunks' } });
  });

  it('keeps at most maxParallelInvocations streams open: the next waits for one to end', async () => {
    let open = 0;
    let most = 0;
    lambda.on(InvokeWithResponseStreamCommand).callsFake(() => ({
      EventStream: (async function* () {
        most = Math.max(most, ++open);
        yield* pieces(THREE_TOKENS, 40, 2, lambdaChunk);
        open--;
      })(),
    }));
    const two = invoker(2);
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => two.invoke(chat)));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(most).toBe(2);
  });
});
