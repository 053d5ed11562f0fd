import { ModelsweepError } from '../errors';
import { seededRandom } from '../util/seeded-random';

/** One request body the generator sends. */
export interface Payload {
  readonly body: Uint8Array | string;
  readonly contentType: string;
  /** Relative frequency in a weighted payload set. @default 1 */
  readonly weight?: number;
  /** For reports. */
  readonly name?: string;
}

/** A payload's body as bytes (a view, not a copy, when it already is bytes). */
export const payloadBytes = (payload: Payload): Uint8Array => (typeof payload.body === 'string' ? Buffer.from(payload.body) : payload.body);

/** Why an invocation did not succeed. */
export type InvokeFailure =
  | { readonly kind: 'http'; readonly status: number }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'connection'; readonly code: string }
  /** The target answered, but with an error of its own (a Lambda function error, a SageMaker ModelError). */
  | { readonly kind: 'target'; readonly code: string };

/**
 * The tokens of a streamed response, as the invoker saw them arrive (see token-stream.ts for how
 * they are counted). Times are performance.now(), so the phase times the first token from the
 * intended send, as it times whole requests.
 */
export interface TokenStream {
  readonly firstTokenAt: number;
  /** One per gap between consecutive chunks of tokens: the gap over the tokens it brought, ms. */
  readonly interTokenMs: readonly number[];
  readonly outputTokens: number;
  /** `usage`: the server's count; `chunks`: one token per chunk, when the server sent no count. */
  readonly tokensCountedBy: 'usage' | 'chunks';
}

/**
 * A success may say what the platform billed and whether it was a cold start (Lambda's REPORT
 * line); a success with `initMs` was served by a new execution environment. A streamed success
 * says what its tokens did.
 */
export type InvokeOutcome =
  | { readonly ok: true; readonly billedMs?: number; readonly initMs?: number; readonly stream?: TokenStream }
  | { readonly ok: false; readonly failure: InvokeFailure };

/** One request's whole answer, kept to be read (a quality example), not timed. */
export type AnswerOutcome = { readonly ok: true; readonly body: Uint8Array } | { readonly ok: false; readonly failure: InvokeFailure };

/** The most of an answer's body kept for reading; a larger answer is refused rather than held. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * What the load generator drives: an HTTP URL, a SageMaker endpoint, a Lambda function or an
 * Azure deployment all look the same from here. `invoke` never throws; failures are outcomes.
 */
export interface Invoker {
  invoke(payload: Payload): Promise<InvokeOutcome>;
  /** Sends one request and keeps its response body (quality examples); never throws. Absent where the kind cannot return a body. */
  answer?(payload: Payload): Promise<AnswerOutcome>;
  /** Releases connections. */
  close?(): Promise<void>;
}

/** The key an error is counted under in results: `http_503`, `timeout`, `connection_ECONNREFUSED`, `target_ModelError`. */
export function failureKey(failure: InvokeFailure): string {
  switch (failure.kind) {
    case 'http':
      return `http_${failure.status}`;
    case 'timeout':
      return 'timeout';
    case 'connection':
      return `connection_${failure.code}`;
    case 'target':
      return `target_${failure.code}`;
  }
}

/** Picks payloads at random in proportion to their weights, reproducibly for a seed. */
export function weightedPayloadPicker(payloads: readonly Payload[], seed: number): () => Payload {
  if (payloads.length === 0) throw new ModelsweepError('invalid-input', 'payloads: need at least one payload');
  const weights = payloads.map((p, i) => {
    const w = p.weight ?? 1;
    if (!(w > 0) || !Number.isFinite(w)) throw new ModelsweepError('invalid-input', `payloads[${i}].weight must be above 0, got ${w}`);
    return w;
  });
  if (payloads.length === 1) return () => payloads[0];
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  weights.reduce((sum, w) => (cumulative.push((sum + w) / total), sum + w), 0);
  const random = seededRandom(seed ^ 0x5eed);
  return () => {
    const u = random();
    let i = 0;
    while (i < cumulative.length - 1 && u >= cumulative[i]) i++;
    return payloads[i];
  };
}
