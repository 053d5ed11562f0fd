import { createParser } from 'eventsource-parser';
import { Agent, request } from 'undici';

import { ModelsweepError } from '../errors';
import type { InvokeFailure, InvokeOutcome, Invoker, Payload } from './invoker';
import { payloadBytes } from './invoker';
import { type OpenAiApi, openAiBodyProblem } from './streaming-apis';
import { tokenStreamOf } from './token-stream';

export interface OpenAiStreamInvokerOptions {
  /** The endpoint itself, e.g. `http://127.0.0.1:8000/v1/chat/completions`. */
  readonly url: string;
  readonly api: OpenAiApi;
  /** Sent with every request (an `Authorization` header, for example). */
  readonly headers?: Readonly<Record<string, string>>;
  /** A request that has not finished streaming by then fails as a timeout. @default 120000 */
  readonly timeoutMs?: number;
  /** A request whose first token has not arrived by then fails as a timeout. @default timeoutMs */
  readonly firstTokenTimeoutMs?: number;
}

/** An event larger than this fails the request (`target_oversized_event`). */
const MAX_EVENT_BYTES = 1024 * 1024;

interface StreamEvent {
  choices?: { delta?: { content?: unknown }; text?: unknown; finish_reason?: unknown }[];
  usage?: { completion_tokens?: unknown } | null;
  error?: { type?: unknown; code?: unknown; message?: unknown } | string;
}

/**
 * Streams completions from an OpenAI-compatible endpoint over server-sent events and times each
 * chunk that carries text (see token-stream.ts for how tokens are counted). Each payload is a
 * request body; the invoker sets `"stream": true` and asks for the `usage` chunk
 * (`"stream_options": {"include_usage": true}`), so the server's own token count is used where it
 * sends one.
 *
 * A success is a stream that ended with `data: [DONE]` or a `finish_reason`. Failures: the HTTP
 * status, `timeout` (no first token, or no end, in time), `connection_STREAM_CUT` (the stream
 * ended before either), `target_<type>` (an error event in the stream) and `target_bad_event`
 * (an event that is not JSON).
 */
export function openAiStreamInvoker(options: OpenAiStreamInvokerOptions): Invoker & { close(): Promise<void> } {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const firstTokenTimeoutMs = Math.min(options.firstTokenTimeoutMs ?? timeoutMs, timeoutMs);
  // No limit on connections: an open-loop schedule must never queue behind streams in flight.
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, connect: { timeout: Math.min(timeoutMs, 30_000) } });
  const bodies = new WeakMap<Payload, Uint8Array>();
  const bodyOf = (payload: Payload): Uint8Array => {
    let body = bodies.get(payload);
    if (!body) bodies.set(payload, (body = openAiStreamingBody(payload)));
    return body;
  };
  const headers = { ...options.headers, 'content-type': 'application/json', accept: 'text/event-stream' };

  return {
    async invoke(payload: Payload): Promise<InvokeOutcome> {
      const controller = new AbortController();
      let timedOut = false;
      const giveUp = () => {
        timedOut = true;
        controller.abort();
      };
      const whole = setTimeout(giveUp, timeoutMs);
      let firstToken: NodeJS.Timeout | undefined = setTimeout(giveUp, firstTokenTimeoutMs);
      const arrivals: number[] = [];
      let serverTokens: number | undefined;
      let finished = false;
      let failure: InvokeFailure | undefined;
      const succeeded = (): InvokeOutcome => {
        const stream = tokenStreamOf(arrivals, serverTokens);
        return stream ? { ok: true, stream } : { ok: true };
      };
      const parser = createParser({
        // A line that never ends cannot grow memory without bound.
        maxBufferSize: MAX_EVENT_BYTES,
        onError: (error) => {
          failure ??= { kind: 'target', code: error.type === 'max-buffer-size-exceeded' ? 'oversized_event' : 'bad_event' };
        },
        onEvent: (event) => {
          // The usage chunk comes after the one with finish_reason, so events are read to [DONE].
          if (failure) return;
          if (event.data === '[DONE]') return void (finished = true);
          let parsed: StreamEvent;
          try {
            parsed = JSON.parse(event.data) as StreamEvent;
          } catch {
            return void (failure = { kind: 'target', code: 'bad_event' });
          }
          if (parsed.error) return void (failure = { kind: 'target', code: errorCode(parsed.error) });
          const choice = parsed.choices?.[0];
          const text = options.api === 'openai-chat' ? choice?.delta?.content : choice?.text;
          if (typeof text === 'string' && text.length > 0) {
            arrivals.push(performance.now());
            if (firstToken) firstToken = void clearTimeout(firstToken);
          }
          if (choice?.finish_reason) finished = true;
          const count = parsed.usage?.completion_tokens;
          if (typeof count === 'number') serverTokens = count;
        },
      });
      try {
        // Callers check payloads first (openAiStreamingBody); one that slipped through fails here, never throws.
        let body: Uint8Array;
        try {
          body = bodyOf(payload);
        } catch {
          return { ok: false, failure: { kind: 'target', code: 'invalid_request_body' } };
        }
        const response = await request(options.url, { method: 'POST', headers, body, signal: controller.signal, dispatcher });
        if (response.statusCode >= 400) {
          await response.body.dump();
          return { ok: false, failure: { kind: 'http', status: response.statusCode } };
        }
        const decoder = new TextDecoder();
        for await (const chunk of response.body) {
          parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
          if (failure) {
            controller.abort();
            break;
          }
        }
        if (failure) return { ok: false, failure };
        return finished ? succeeded() : { ok: false, failure: { kind: 'connection', code: 'STREAM_CUT' } };
      } catch (error) {
        if (failure) return { ok: false, failure };
        if (timedOut) return { ok: false, failure: { kind: 'timeout' } };
        // A stream that had ended properly may still see its socket reset afterwards.
        if (finished) return succeeded();
        const code = (error as { code?: string }).code;
        return { ok: false, failure: { kind: 'connection', code: arrivals.length > 0 ? 'STREAM_CUT' : (code ?? 'UNKNOWN') } };
      } finally {
        clearTimeout(whole);
        clearTimeout(firstToken);
      }
    },
    close: () => dispatcher.close(),
  };
}

/**
 * The payload as a streaming request: `stream` on and the usage chunk asked for, whatever the file
 * said. Throws naming the payload when it is not a JSON object; check payloads with it before a run.
 */
export function openAiStreamingBody(payload: Payload): Uint8Array {
  const body = payloadBytes(payload);
  const problem = openAiBodyProblem(body);
  if (problem) throw new ModelsweepError('invalid-input', `payload ${payload.name ?? '(unnamed)'} ${problem}`);
  const request = JSON.parse(Buffer.from(body).toString('utf8')) as Record<string, unknown>;
  const streamOptions = typeof request.stream_options === 'object' && request.stream_options !== null ? request.stream_options : {};
  return Buffer.from(JSON.stringify({ ...request, stream: true, stream_options: { ...streamOptions, include_usage: true } }));
}

function errorCode(error: NonNullable<StreamEvent['error']>): string {
  const raw = typeof error === 'string' ? 'stream_error' : String(error.type ?? error.code ?? 'stream_error');
  return raw.replace(/[^\w.-]/g, '_').slice(0, 64) || 'stream_error';
}
