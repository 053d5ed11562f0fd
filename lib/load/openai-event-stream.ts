import { createParser } from 'eventsource-parser';

import { ModelsweepError } from '../errors';
import { type InvokeFailure, type InvokeOutcome, MAX_ANSWER_BYTES, type Payload, payloadBytes } from './invoker';
import { type OpenAiApi, openAiBodyProblem } from './streaming-apis';
import { tokenStreamOf } from './token-stream';

/** An event larger than this fails the request (`target_oversized_event`). */
const MAX_EVENT_BYTES = 1024 * 1024;

interface StreamEvent {
  choices?: { delta?: { content?: unknown }; text?: unknown; finish_reason?: unknown }[];
  usage?: { completion_tokens?: unknown } | null;
  error?: { type?: unknown; code?: unknown; message?: unknown } | string;
}

/**
 * Reads an OpenAI-style stream of server-sent events, from whatever carries its bytes (an HTTP
 * response, SageMaker's or Lambda's response stream, in pieces split anywhere), and times each
 * chunk that carries text (see token-stream.ts for how tokens are counted).
 *
 * It is finished at `data: [DONE]` or a `finish_reason`; it fails on an error event
 * (`target_<type>`), an event that is not JSON (`target_bad_event`) or one over 1 MiB
 * (`target_oversized_event`).
 */
export class OpenAiEventStream {
  private readonly arrivals: number[] = [];
  private serverTokens: number | undefined;
  private readonly decoder = new TextDecoder();
  private readonly parser;
  finished = false;
  failure: InvokeFailure | undefined;

  /** The text generated so far, where it is kept (an answer to read, not a request to time). */
  private readonly pieces: string[] | undefined;
  private keptBytes = 0;

  /**
   * `onFirstToken` is called once, when the first chunk with text arrives (to stop a first-token
   * timer); with `keepText`, the generated text is kept, up to MAX_ANSWER_BYTES.
   */
  constructor(
    private readonly api: OpenAiApi,
    private readonly onFirstToken?: () => void,
    keepText = false,
  ) {
    this.pieces = keepText ? [] : undefined;
    this.parser = createParser({
      // A line that never ends cannot grow memory without bound.
      maxBufferSize: MAX_EVENT_BYTES,
      onError: (error) => {
        this.failure ??= { kind: 'target', code: error.type === 'max-buffer-size-exceeded' ? 'oversized_event' : 'bad_event' };
      },
      onEvent: (event) => this.onEvent(event.data),
    });
  }

  /** The next bytes of the stream. */
  feed(bytes: Uint8Array): void {
    this.parser.feed(this.decoder.decode(bytes, { stream: true }));
  }

  /** The generated text, as one answer body to read: `{"text": "…"}` (so a quality spec reads it at responsePath `/text`). */
  answerBody(): Uint8Array {
    return Buffer.from(JSON.stringify({ text: (this.pieces ?? []).join('') }));
  }

  /** Whether any chunk with text has arrived. */
  get started(): boolean {
    return this.arrivals.length > 0;
  }

  /** The success, with its tokens; only once finished. */
  succeeded(): InvokeOutcome {
    const stream = tokenStreamOf(this.arrivals, this.serverTokens);
    return stream ? { ok: true, stream } : { ok: true };
  }

  /** What the stream came to when its bytes ended: a failure it carried, a success, or cut before its end. */
  outcome(): InvokeOutcome {
    if (this.failure) return { ok: false, failure: this.failure };
    return this.finished ? this.succeeded() : { ok: false, failure: { kind: 'connection', code: 'STREAM_CUT' } };
  }

  private onEvent(data: string): void {
    // The usage chunk comes after the one with finish_reason, so events are read to [DONE].
    if (this.failure) return;
    if (data === '[DONE]') return void (this.finished = true);
    let parsed: StreamEvent;
    try {
      parsed = JSON.parse(data) as StreamEvent;
    } catch {
      return void (this.failure = { kind: 'target', code: 'bad_event' });
    }
    if (parsed.error) return void (this.failure = { kind: 'target', code: errorCode(parsed.error) });
    const choice = parsed.choices?.[0];
    const text = this.api === 'openai-chat' ? choice?.delta?.content : choice?.text;
    if (typeof text === 'string' && text.length > 0) {
      if (this.arrivals.length === 0) this.onFirstToken?.();
      this.arrivals.push(performance.now());
      if (this.pieces) {
        this.keptBytes += Buffer.byteLength(text);
        if (this.keptBytes > MAX_ANSWER_BYTES) this.failure = { kind: 'target', code: 'AnswerTooLarge' };
        else this.pieces.push(text);
      }
    }
    if (choice?.finish_reason) this.finished = true;
    const count = parsed.usage?.completion_tokens;
    if (typeof count === 'number') this.serverTokens = count;
  }
}

function errorCode(error: NonNullable<StreamEvent['error']>): string {
  const raw = typeof error === 'string' ? 'stream_error' : String(error.type ?? error.code ?? 'stream_error');
  return raw.replace(/[^\w.-]/g, '_').slice(0, 64) || 'stream_error';
}

/**
 * The payload as a streaming request for `api`: `stream` on and the usage chunk asked for, whatever
 * the file said, and in the API's own shape: a chat body (`messages`) sent to a completions
 * endpoint has its messages' text joined into `prompt`, and a completions body (`prompt`) sent to a
 * chat endpoint becomes one user message, so one prompt set serves both. Throws naming the payload
 * when it is not a JSON object; check payloads with it before a run.
 */
export function openAiStreamingBody(payload: Payload, api: OpenAiApi): Uint8Array {
  const body = payloadBytes(payload);
  const problem = openAiBodyProblem(body);
  if (problem) throw new ModelsweepError('invalid-input', `payload ${payload.name ?? '(unnamed)'} ${problem}`);
  const { messages, prompt, ...request } = JSON.parse(Buffer.from(body).toString('utf8')) as Record<string, unknown>;
  const streamOptions = typeof request.stream_options === 'object' && request.stream_options !== null ? request.stream_options : {};
  const shaped =
    api === 'openai-completions' && prompt === undefined && Array.isArray(messages)
      ? { prompt: messages.map((m: { content?: unknown }) => (typeof m?.content === 'string' ? m.content : '')).join('\n\n') }
      : api === 'openai-chat' && messages === undefined && typeof prompt === 'string'
        ? { messages: [{ role: 'user', content: prompt }] }
        : { ...(messages !== undefined ? { messages } : {}), ...(prompt !== undefined ? { prompt } : {}) };
  return Buffer.from(JSON.stringify({ ...request, ...shaped, stream: true, stream_options: { ...streamOptions, include_usage: true } }));
}

/** A payload that cannot be a streaming request body, should one slip past the spec's checks: a failure, never a throw. */
export const INVALID_BODY = { ok: false, failure: { kind: 'target', code: 'invalid_request_body' } } as const satisfies InvokeOutcome;

/** Each payload's streaming request body for `api` (see {@link openAiStreamingBody}), made once; undefined for a payload that cannot be one. */
export function streamingBodies(api: OpenAiApi): (payload: Payload) => Uint8Array | undefined {
  const bodies = new WeakMap<Payload, Uint8Array>();
  return (payload) => {
    let body = bodies.get(payload);
    if (!body) {
      try {
        bodies.set(payload, (body = openAiStreamingBody(payload, api)));
      } catch {
        return undefined;
      }
    }
    return body;
  };
}
