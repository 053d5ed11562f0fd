import { Agent, request } from 'undici';

import type { AnswerOutcome, InvokeOutcome, Invoker, Payload } from './invoker';
import { INVALID_BODY, OpenAiEventStream, streamingBodies } from './openai-event-stream';
import type { OpenAiApi } from './streaming-apis';

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

/**
 * Streams completions from an OpenAI-compatible endpoint over server-sent events and times each
 * chunk that carries text (see {@link OpenAiEventStream}). Each payload is a
 * request body; the invoker sets `"stream": true` and asks for the `usage` chunk
 * (`"stream_options": {"include_usage": true}`), so the server's own token count is used where it
 * sends one.
 *
 * A success is a stream that ended with `data: [DONE]` or a `finish_reason`. Failures: the HTTP
 * status, `timeout` (no first token, or no end, in time), `connection_STREAM_CUT` (the stream
 * ended before either), `target_<type>` (an error event in the stream), `target_bad_event`
 * (an event that is not JSON) and `target_not_event_stream (content-type …)` (an answer that is
 * not an event stream at all).
 */
export function openAiStreamInvoker(options: OpenAiStreamInvokerOptions): Invoker & { close(): Promise<void> } {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const firstTokenTimeoutMs = Math.min(options.firstTokenTimeoutMs ?? timeoutMs, timeoutMs);
  // No limit on connections: an open-loop schedule must never queue behind streams in flight.
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, connect: { timeout: Math.min(timeoutMs, 30_000) } });
  const bodyOf = streamingBodies(options.api);
  const headers = { ...options.headers, 'content-type': 'application/json', accept: 'text/event-stream' };

  /** One streamed request to its end, and what its stream said. */
  async function stream(payload: Payload, keepText: boolean): Promise<{ outcome: InvokeOutcome; events: OpenAiEventStream }> {
    const controller = new AbortController();
    let timedOut = false;
    const giveUp = () => {
      timedOut = true;
      controller.abort();
    };
    const whole = setTimeout(giveUp, timeoutMs);
    let firstToken: NodeJS.Timeout | undefined = setTimeout(giveUp, firstTokenTimeoutMs);
    const events = new OpenAiEventStream(options.api, () => (firstToken = void clearTimeout(firstToken)), keepText);
    const ended = (outcome: InvokeOutcome) => ({ outcome, events });
    try {
      const body = bodyOf(payload);
      if (!body) return ended(INVALID_BODY);
      const response = await request(options.url, { method: 'POST', headers, body, signal: controller.signal, dispatcher });
      if (response.statusCode >= 400) {
        await response.body.dump();
        return ended({ ok: false, failure: { kind: 'http', status: response.statusCode } });
      }
      // A whole JSON answer to a streaming request is the server's choice, not a cut stream: named as such.
      const contentType = String(response.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
      if (contentType && contentType !== 'text/event-stream') {
        await response.body.dump();
        return ended({ ok: false, failure: { kind: 'target', code: `not_event_stream (content-type ${contentType})` } });
      }
      for await (const chunk of response.body) {
        events.feed(chunk as Buffer);
        if (events.failure) {
          controller.abort();
          break;
        }
      }
      return ended(events.outcome());
    } catch (error) {
      if (events.failure) return ended({ ok: false, failure: events.failure });
      if (timedOut) return ended({ ok: false, failure: { kind: 'timeout' } });
      // A stream that had ended properly may still see its socket reset afterwards.
      if (events.finished) return ended(events.succeeded());
      const code = (error as { code?: string }).code;
      return ended({ ok: false, failure: { kind: 'connection', code: events.started ? 'STREAM_CUT' : (code ?? 'UNKNOWN') } });
    } finally {
      clearTimeout(whole);
      clearTimeout(firstToken);
    }
  }

  return {
    async invoke(payload: Payload): Promise<InvokeOutcome> {
      return (await stream(payload, false)).outcome;
    },
    // The generated text, kept whole, as `{"text": …}`: what a quality example's answer is read from.
    async answer(payload: Payload): Promise<AnswerOutcome> {
      const { outcome, events } = await stream(payload, true);
      return outcome.ok ? { ok: true, body: events.answerBody() } : outcome;
    },
    close: () => dispatcher.close(),
  };
}
