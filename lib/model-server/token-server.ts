import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { seededRandom } from '../util/seeded-random';
import { Semaphore } from '../util/semaphore';
import { readBody, send as sendJson } from './http-io';

/**
 * A generative model server whose timing is known: it speaks the OpenAI chat and completions
 * APIs (`POST /v1/chat/completions`, `POST /v1/completions`, streamed as server-sent events or
 * not), and instead of running a model it waits `firstTokenMs` before the first token and
 * `interTokenMs` (± `jitterMs`, seeded) before each next one. It writes down when it really sent
 * each chunk, so what a load generator measured can be checked against the truth.
 *
 * Tokens are the words "tok0 tok1 …"; each chunk carries `tokensPerChunk` of them, as servers
 * that batch decoding steps into one event do.
 */
export interface TokenServerOptions {
  /** Delay from the request's arrival to the first token. @default 50 */
  readonly firstTokenMs?: number;
  /** Delay between consecutive chunks of tokens. @default 10 */
  readonly interTokenMs?: number;
  /** Each delay is drawn uniformly within ± this, from a seeded source. @default 0 */
  readonly jitterMs?: number;
  /** Output tokens of a request that gives no `max_tokens`. @default 32 */
  readonly defaultMaxTokens?: number;
  /** Tokens in each streamed chunk. @default 1 */
  readonly tokensPerChunk?: number;
  /**
   * When to end a stream with the `usage` chunk (the server's token count): when the request asks
   * (`stream_options.include_usage`), as OpenAI does, always, or never, as some servers do.
   * @default 'on-request'
   */
  readonly usage?: 'on-request' | 'always' | 'never';
  /**
   * Sequences decoded at once, as a GPU server's batch is bounded: a request beyond it waits for
   * one to finish before its first token (the wait is part of its time to first token).
   * @default no limit
   */
  readonly maxSequences?: number;
  /**
   * How much each other sequence decoding at the same time slows a token, as continuous batching
   * does: a gap is `interTokenMs × (1 + slowdownPerSequence × (sequences decoding − 1))`.
   * @default 0: load never slows decoding
   */
  readonly slowdownPerSequence?: number;
  /**
   * Generate with a real model instead of waiting the timing above (see `tiny-decoder.ts`): the
   * first token after a prefill of the prompt, each next one a decode step. `maxSequences` still
   * bounds the batch; the timing options and `slowdownPerSequence` no longer apply.
   * @default none: tokens are "tok0 tok1 …" at the configured timing
   */
  readonly decoder?: TokenDecoder;
  /** Misbehaviour for tests: cut the stream after this many chunks, or never send the first token. */
  readonly fault?: { readonly cutAfterChunks?: number; readonly neverFirstToken?: boolean };
  /** @default 7 */
  readonly seed?: number;
  readonly host?: string;
  /** @default 0, any free port */
  readonly port?: number;
}

/** A model that generates tokens one at a time (see `loadTinyDecoder`). */
export interface TokenDecoder {
  /** Reads the prompt (the prefill) and gives the first token, with the prompt's length in tokens. */
  firstToken(prompt: string): Promise<{ token: number; promptTokens: number }>;
  /** One decode step: the token after `previous`. */
  nextToken(previous: number): Promise<number>;
  tokenText(token: number): string;
}

/** What the server really did for one streamed request: when the request arrived, and when each chunk left. */
export interface ServedStream {
  readonly receivedAt: number;
  /** performance.now() at each chunk's write, first token first. */
  readonly chunkSentAt: number[];
  readonly tokens: number;
}

export interface TokenServer {
  readonly url: string;
  /** Every streamed request served so far, in arrival order. */
  readonly served: readonly ServedStream[];
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

interface CompletionRequest {
  messages?: { content?: unknown }[];
  prompt?: unknown;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown };
  model?: unknown;
}

export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const served: ServedStream[] = [];
  const random = seededRandom(options.seed ?? 7);
  const jitter = options.jitterMs ?? 0;
  const delay = (ms: number) => Math.max(0, ms + (jitter > 0 ? (random() * 2 - 1) * jitter : 0));
  const open = new Set<ServerResponse>();
  // The sequences being decoded: at most maxSequences at once, the rest waiting in arrival order.
  const batch = new Semaphore(options.maxSequences);
  const gapMs = () => delay((options.interTokenMs ?? 10) * (1 + (options.slowdownPerSequence ?? 0) * Math.max(0, batch.holders - 1)));

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const receivedAt = performance.now();
    const chat = req.url === '/v1/chat/completions';
    if (req.method !== 'POST' || (!chat && req.url !== '/v1/completions'))
      return reply(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
    const body = await readBody(req, MAX_BODY_BYTES, () => true);
    if (body === 'too large' || body === 'busy') return reply(res, 400, { error: { message: `the body is over ${MAX_BODY_BYTES} bytes` } });
    let request: CompletionRequest;
    try {
      request = JSON.parse(body) as CompletionRequest;
    } catch (error) {
      return reply(res, 400, { error: { message: `the body is not JSON: ${(error as Error).message}` } });
    }
    const maxTokens = Number(request.max_tokens ?? request.max_completion_tokens ?? options.defaultMaxTokens ?? 32);
    if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > 100_000)
      return reply(res, 400, { error: { message: 'max_tokens must be a whole number from 1 to 100000' } });
    const model = typeof request.model === 'string' ? request.model : 'synthetic';
    const id = `cmpl-${served.length}`;
    const perChunk = Math.max(1, options.tokensPerChunk ?? 1);
    const choice = (content: string, finish: string | null) =>
      chat ? { index: 0, delta: content ? { content } : {}, finish_reason: finish } : { index: 0, text: content, finish_reason: finish };
    // The tokens from..to: waited for at the configured timing, or generated by the decoder.
    let previous = 0;
    let promptTokens = 8;
    const produce = async (from: number, to: number): Promise<string> => {
      const decoder = options.decoder;
      if (!decoder) {
        await sleep(from === 0 ? delay(options.firstTokenMs ?? 50) : gapMs());
        return Array.from({ length: to - from }, (_, i) => `tok${from + i} `).join('');
      }
      let text = '';
      for (let i = from; i < to; i++) {
        if (i === 0) ({ token: previous, promptTokens } = await decoder.firstToken(promptOf(request)));
        else previous = await decoder.nextToken(previous);
        text += decoder.tokenText(previous);
      }
      return text;
    };
    const usage = () => ({ prompt_tokens: promptTokens, completion_tokens: maxTokens, total_tokens: promptTokens + maxTokens });

    if (request.stream !== true) {
      await batch.acquire();
      let content = '';
      try {
        for (let sent = 0; sent < maxTokens; sent += perChunk) content += await produce(sent, Math.min(maxTokens, sent + perChunk));
      } finally {
        batch.release();
      }
      return reply(res, 200, {
        id,
        object: chat ? 'chat.completion' : 'text_completion',
        model,
        choices: [
          chat
            ? { index: 0, message: { role: 'assistant', content }, finish_reason: 'length' }
            : { index: 0, text: content, finish_reason: 'length' },
        ],
        usage: usage(),
      });
    }

    const record: ServedStream = { receivedAt, chunkSentAt: [], tokens: maxTokens };
    served.push(record);
    open.add(res);
    res.on('close', () => open.delete(res));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
    const object = chat ? 'chat.completion.chunk' : 'text_completion';
    if (options.fault?.neverFirstToken) return; // the connection stays open, silent, until the client gives up
    await batch.acquire();
    try {
      for (let sent = 0, chunk = 0; sent < maxTokens; chunk++) {
        if (res.destroyed) return;
        if (options.fault?.cutAfterChunks !== undefined && chunk >= options.fault.cutAfterChunks) return void res.destroy();
        const next = Math.min(maxTokens, sent + perChunk);
        const content = await produce(sent, next);
        if (res.destroyed) return;
        send({ id, object, model, choices: [choice(content, next === maxTokens ? 'length' : null)] });
        record.chunkSentAt.push(performance.now());
        sent = next;
      }
    } finally {
      batch.release();
    }
    const usageMode = options.usage ?? 'on-request';
    const wantsUsage = usageMode === 'always' || (usageMode === 'on-request' && request.stream_options?.include_usage === true);
    if (wantsUsage) send({ id, object, model, choices: [], usage: usage() });
    res.end('data: [DONE]\n\n');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) reply(res, 500, { error: { message: (error as Error).message } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const reply = (res: ServerResponse, status: number, body: object) => sendJson(res, { status, body });

/** The prompt a request carries: its messages' text, or its completions prompt. */
function promptOf(request: CompletionRequest): string {
  if (Array.isArray(request.messages)) return request.messages.map((m) => (typeof m?.content === 'string' ? m.content : '')).join('\n');
  return typeof request.prompt === 'string' ? request.prompt : '';
}
