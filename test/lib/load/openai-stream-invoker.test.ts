import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import type { Payload } from '../../../lib/load/invoker';
import { mergePhaseResults } from '../../../lib/load/merge-phases';
import { openAiStreamingBody } from '../../../lib/load/openai-event-stream';
import { openAiStreamInvoker } from '../../../lib/load/openai-stream-invoker';
import { runPhase } from '../../../lib/load/phase';
import { startTokenServer, type TokenServer, type TokenServerOptions } from '../../../lib/model-server/token-server';
import { measureQuality } from '../../../lib/quality/measure-quality';

const chat = (maxTokens: number): Payload => ({
  body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: maxTokens }),
  contentType: 'application/json',
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function tokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const server = await startTokenServer(options);
  closers.push(() => server.close());
  return server;
}

function invokerFor(url: string, options: { api?: 'openai-chat' | 'openai-completions'; firstTokenTimeoutMs?: number } = {}) {
  const invoker = openAiStreamInvoker({ url, api: options.api ?? 'openai-chat', timeoutMs: 10_000, ...options });
  closers.push(() => invoker.close());
  return invoker;
}

/** A server that sends the given bytes as separate writes, a millisecond apart, then ends (or not). */
async function rawSseServer(pieces: readonly (string | Buffer)[], end = true, contentType = 'text/event-stream'): Promise<string> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      res.writeHead(200, { 'content-type': contentType });
      for (const piece of pieces) {
        res.write(piece);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      if (end) res.end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  closers.push(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
}

describe('streaming an OpenAI-compatible endpoint', () => {
  it('times every token of a chat stream and takes the server’s own token count from its usage chunk', async () => {
    const server = await tokenServer({ firstTokenMs: 30, interTokenMs: 5 });
    const sentAt = performance.now();
    const outcome = await invokerFor(`${server.url}/v1/chat/completions`).invoke(chat(12));
    expect(outcome.ok).toBe(true);
    const stream = outcome.ok ? outcome.stream! : undefined;
    expect(stream).toMatchObject({ outputTokens: 12, tokensCountedBy: 'usage' });
    expect(stream!.interTokenMs).toHaveLength(11);
    // Causal bounds (a timer never fires early by more than its millisecond rounding): the server
    // waited 30 ms before the first token and 5 ms between tokens, so the first token came at
    // least 30 ms after the send and the last at least 55 ms after that. (One gap alone has no
    // lower bound here: a client that reads a chunk late reads the next one close behind it.)
    expect(stream!.firstTokenAt - sentAt).toBeGreaterThanOrEqual(29);
    const lastTokenAt = stream!.firstTokenAt + stream!.interTokenMs.reduce((a, b) => a + b, 0);
    expect(lastTokenAt - sentAt).toBeGreaterThanOrEqual(30 + 11 * 5 - 2);
  });

  it('counts one token per chunk when the server sends no usage, and says so', async () => {
    const server = await tokenServer({ firstTokenMs: 5, interTokenMs: 2, usage: 'never' });
    const outcome = await invokerFor(`${server.url}/v1/completions`, { api: 'openai-completions' }).invoke(chat(6));
    expect(outcome).toMatchObject({ ok: true, stream: { outputTokens: 6, tokensCountedBy: 'chunks' } });
  });

  it('divides a gap among the tokens a chunk carries on average when the server batches them', async () => {
    const server = await tokenServer({ firstTokenMs: 5, interTokenMs: 20, tokensPerChunk: 4 });
    const sentAt = performance.now();
    const outcome = await invokerFor(`${server.url}/v1/chat/completions`).invoke(chat(16));
    const stream = outcome.ok ? outcome.stream! : undefined;
    expect(stream).toMatchObject({ outputTokens: 16, tokensCountedBy: 'usage' });
    // 4 chunks, so 3 gaps, each counted over the 4 tokens of a chunk: the last chunk came at least
    // 5 + 3 × 20 ms after the send.
    expect(stream!.interTokenMs).toHaveLength(3);
    const lastChunkAt = stream!.firstTokenAt + stream!.interTokenMs.reduce((a, b) => a + b, 0) * 4;
    expect(lastChunkAt - sentAt).toBeGreaterThanOrEqual(5 + 3 * 20 - 2);
    expect(server.served[0]!.chunkSentAt).toHaveLength(4);
  });

  it('reads events whose bytes arrive split anywhere: mid-field, mid-JSON, mid-character, between CR and LF', async () => {
    const event = (content: string) => `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\r\n\r\n`;
    const text = `: a comment\r\n\r\n${event('héllo')}${event(' wörld')}data: ${JSON.stringify({ choices: [], usage: { completion_tokens: 2 } })}\r\n\r\ndata: [DONE]\r\n\r\n`;
    const bytes = Buffer.from(text);
    // Every 3 bytes, which cuts through "data:", the JSON, the two-byte é and ö, and CRLF pairs.
    const pieces = Array.from({ length: Math.ceil(bytes.length / 3) }, (_, i) => bytes.subarray(i * 3, i * 3 + 3));
    expect(pieces.some((p) => p.at(-1) === 0xc3)).toBe(true); // a piece ends inside a character
    const outcome = await invokerFor(await rawSseServer(pieces)).invoke(chat(2));
    expect(outcome).toMatchObject({ ok: true, stream: { outputTokens: 2, tokensCountedBy: 'usage', interTokenMs: [expect.any(Number)] } });
  });

  it('fails a stream cut before its end as STREAM_CUT, not as a success', async () => {
    const server = await tokenServer({ firstTokenMs: 5, interTokenMs: 2, fault: { cutAfterChunks: 3 } });
    const outcome = await invokerFor(`${server.url}/v1/chat/completions`).invoke(chat(10));
    expect(outcome).toEqual({ ok: false, failure: { kind: 'connection', code: 'STREAM_CUT' } });
    const ended = await invokerFor(await rawSseServer([`data: ${JSON.stringify({ choices: [{ delta: { content: 'a' } }] })}\n\n`])).invoke(chat(1));
    expect(ended).toEqual({ ok: false, failure: { kind: 'connection', code: 'STREAM_CUT' } });
  });

  it('names an answer that is not an event stream by its content type, not as a cut stream', async () => {
    const json = JSON.stringify({ choices: [{ message: { content: 'a whole answer' } }] });
    const outcome = await invokerFor(await rawSseServer([json], true, 'application/json; charset=utf-8')).invoke(chat(4));
    expect(outcome).toEqual({ ok: false, failure: { kind: 'target', code: 'not_event_stream (content-type application/json)' } });
    // A server that says it streams with a charset is still a stream.
    const sse = await rawSseServer(
      [`data: ${JSON.stringify({ choices: [{ delta: { content: 'a' }, finish_reason: 'stop' }] })}\n\n`],
      true,
      'text/event-stream; charset=utf-8',
    );
    expect(await invokerFor(sse).invoke(chat(1))).toMatchObject({ ok: true });
  });

  it('gives up on a server that never sends the first token, as a timeout', async () => {
    const server = await tokenServer({ fault: { neverFirstToken: true } });
    const outcome = await invokerFor(`${server.url}/v1/chat/completions`, { firstTokenTimeoutMs: 300 }).invoke(chat(4));
    expect(outcome).toEqual({ ok: false, failure: { kind: 'timeout' } });
  });

  it('reports the HTTP status of a refused request, an error event and an event that is not JSON', async () => {
    const server = await tokenServer({});
    const refused = await invokerFor(`${server.url}/v1/chat/completions`).invoke(chat(0));
    expect(refused).toEqual({ ok: false, failure: { kind: 'http', status: 400 } });
    const errorEvent = await invokerFor(
      await rawSseServer([`data: ${JSON.stringify({ error: { type: 'overloaded_error', message: 'busy' } })}\n\n`]),
    ).invoke(chat(1));
    expect(errorEvent).toEqual({ ok: false, failure: { kind: 'target', code: 'overloaded_error' } });
    const garbage = await invokerFor(await rawSseServer(['data: {not json\n\n', 'data: [DONE]\n\n'])).invoke(chat(1));
    expect(garbage).toEqual({ ok: false, failure: { kind: 'target', code: 'bad_event' } });
  });

  it('keeps the streamed text as an answer, so exact-match scores generated text', async () => {
    const server = await tokenServer({ firstTokenMs: 1, interTokenMs: 1, tokensPerChunk: 2 });
    const invoker = invokerFor(`${server.url}/v1/chat/completions`);
    const answer = await invoker.answer!(chat(5));
    expect(answer.ok && JSON.parse(Buffer.from(answer.body).toString())).toEqual({ text: 'tok0 tok1 tok2 tok3 tok4 ' });
    // Through a quality measurement: two answers of 3 tokens are right, one expected 4 is not.
    const examples = [3, 3, 3].map((maxTokens, i) => ({
      body: chat(maxTokens).body as string,
      expected: i < 2 ? 'tok0 tok1 tok2' : 'tok0 tok1 tok2 tok3',
    }));
    const { result } = await measureQuality(invoker, {
      metric: 'exact-match',
      responsePath: '/text',
      argmax: false,
      k: 1,
      contentType: 'application/json',
      examples,
    });
    expect(result).toMatchObject({ metric: 'exact-match', scored: 3, value: 2 / 3 });
    // A failed stream is a failed answer, not an empty text.
    const refused = await invokerFor(await rawSseServer(['data: {"error": {"type": "overloaded"}}\n\n'])).answer!(chat(3));
    expect(refused).toEqual({ ok: false, failure: { kind: 'target', code: 'overloaded' } });
  });

  it('turns a payload into a streaming request, and refuses one that is not a JSON object, naming it', () => {
    const body = JSON.parse(
      Buffer.from(openAiStreamingBody({ ...chat(3), body: '{"max_tokens":3,"stream":false,"stream_options":{"x":1}}' }, 'openai-chat')).toString(),
    );
    expect(body).toEqual({ max_tokens: 3, stream: true, stream_options: { x: 1, include_usage: true } });
    expect(() => openAiStreamingBody({ body: '[1,2]', contentType: 'application/json', name: 'prompts/short.json' }, 'openai-chat')).toThrow(
      /payload prompts\/short\.json must be a JSON object/,
    );
  });

  it("shapes one prompt for either API: a chat body's messages become a completions prompt, a prompt one user message", () => {
    const shaped = (body: unknown, api: 'openai-chat' | 'openai-completions') =>
      JSON.parse(Buffer.from(openAiStreamingBody({ body: JSON.stringify(body), contentType: 'application/json' }, api)).toString());
    const chatBody = {
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      max_tokens: 4,
    };
    expect(shaped(chatBody, 'openai-completions')).toEqual({
      model: 'm',
      prompt: 'Be brief.\n\nHi',
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(shaped({ model: 'm', prompt: 'Hi', max_tokens: 4 }, 'openai-chat')).toMatchObject({ messages: [{ role: 'user', content: 'Hi' }] });
    expect(shaped({ model: 'm', prompt: 'Hi', max_tokens: 4 }, 'openai-chat')).not.toHaveProperty('prompt');
    // Already in the API's shape: left as it is.
    expect(shaped(chatBody, 'openai-chat')).toMatchObject({ messages: chatBody.messages });
  });
});

describe('a phase of streamed requests', () => {
  it('records time to first token from the intended send, inter-token latencies and output tokens, and merges them exactly', async () => {
    const server = await tokenServer({ firstTokenMs: 20, interTokenMs: 3 });
    const invoker = invokerFor(`${server.url}/v1/chat/completions`);
    const plan = { name: 'p', mode: 'open' as const, rate: 20, arrivals: 'constant' as const, durationMs: 1000 };
    const phase = () => runPhase(invoker, plan, { seed: 1, nextPayload: () => chat(8) });
    const [a, b] = [await phase(), await phase()];
    for (const result of [a, b]) {
      expect(result.errorCount).toBe(0);
      expect(result.tokens).toMatchObject({ streams: result.successes, outputTokens: result.successes * 8, countedBy: 'usage' });
      expect(result.tokens!.interTokenMs.count).toBe(result.successes * 7);
      // The first token cannot come before the server's 20 ms wait, nor after the whole response.
      expect(result.tokens!.timeToFirstTokenMs.min).toBeGreaterThanOrEqual(19);
      expect(result.tokens!.timeToFirstTokenMs.max).toBeLessThanOrEqual(result.latencyMs.max);
    }
    const merged = mergePhaseResults([a, b]).tokens!;
    expect(merged.streams).toBe(a.successes + b.successes);
    expect(merged.outputTokens).toBe(a.tokens!.outputTokens + b.tokens!.outputTokens);
    expect(merged.interTokenMs.count).toBe(a.tokens!.interTokenMs.count + b.tokens!.interTokenMs.count);
    // The same value, within the histogram's 0.1% resolution.
    const max = Math.max(a.tokens!.timeToFirstTokenMs.max, b.tokens!.timeToFirstTokenMs.max);
    expect(Math.abs(merged.timeToFirstTokenMs.max - max) / max).toBeLessThan(0.001);
  });

  it('leaves tokens out of a phase of whole responses', async () => {
    const server = await tokenServer({ firstTokenMs: 1, interTokenMs: 1 });
    // The same server, asked for a whole response: the invoker streams, so use a plain one here.
    const { httpInvoker } = await import('../../../lib/load/http-invoker');
    const invoker = httpInvoker({ url: `${server.url}/v1/chat/completions`, method: 'POST', timeoutMs: 5000 });
    closers.push(() => invoker.close?.() ?? Promise.resolve());
    const result = await runPhase(invoker, { name: 'p', mode: 'closed', concurrency: 1, durationMs: 300 }, { seed: 1, nextPayload: () => chat(2) });
    expect(result.successes).toBeGreaterThan(0);
    expect(result.tokens).toBeUndefined();
  });
});
