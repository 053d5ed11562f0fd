import { CandidateError, ModelsweepError } from '../../errors';

/** Names and codes that mean "slow down and try again". */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'TooManyRequests',
]);
/** Lambda refuses a second change while one is still being applied. */
const CONFLICT_IN_PROGRESS = /update is in progress|operation cannot be performed at this time|pending/i;
const QUOTA = new Set([
  'ResourceLimitExceeded',
  'ServiceQuotaExceededException',
  'CodeStorageExceededException',
  'QuotaExceeded',
  'OperationNotAllowed',
]);
const NOT_FOUND = new Set(['ResourceNotFound', 'ResourceNotFoundException', 'NotFound', 'ResourceNotFoundError']);

interface ErrorLike {
  name?: string;
  code?: string;
  message?: string;
  statusCode?: number;
  $metadata?: { httpStatusCode?: number };
}

const asError = (error: unknown): ErrorLike => (typeof error === 'object' && error !== null ? (error as ErrorLike) : {});
const statusOf = (e: ErrorLike) => e.$metadata?.httpStatusCode ?? e.statusCode;

/** Throttling, from AWS (by error name) or Azure (HTTP 429). */
export function isThrottling(error: unknown): boolean {
  const e = asError(error);
  if (THROTTLING.has(e.name ?? '') || THROTTLING.has(e.code ?? '') || statusOf(e) === 429) return true;
  return e.name === 'ResourceConflictException' && CONFLICT_IN_PROGRESS.test(e.message ?? '');
}

/**
 * Azure's answer while another operation holds the resource (a deployment being created on the
 * same endpoint): it clears by itself, so it is retried like throttling.
 */
export function isAzureConflict(error: unknown): boolean {
  const e = asError(error);
  return e.name === 'RestError' && e.statusCode === 409;
}

/** A quota or limit the account has reached: the candidate is unavailable, not broken. */
export function isQuota(error: unknown): boolean {
  const e = asError(error);
  if (QUOTA.has(e.name ?? '') || QUOTA.has(e.code ?? '')) return e.code !== 'OperationNotAllowed' || /quota/i.test(e.message ?? '');
  return /quota|insufficient capacity|InsufficientInstanceCapacity/i.test(e.message ?? '') && !/not found/i.test(e.message ?? '');
}

/** The resource does not exist (any more): for teardown, that is success. */
export function isNotFound(error: unknown): boolean {
  const e = asError(error);
  if (NOT_FOUND.has(e.name ?? '') || NOT_FOUND.has(e.code ?? '') || statusOf(e) === 404) return true;
  // SageMaker answers a missing endpoint, config or model with a ValidationException.
  return e.name === 'ValidationException' && /could not find|does not exist|cannot find/i.test(e.message ?? '');
}

export interface RetryOptions {
  /** Tries in all, the first included. @default 8 */
  readonly attempts?: number;
  /** @default 500 */
  readonly baseDelayMs?: number;
  /** @default 30000 */
  readonly maxDelayMs?: number;
  /** Which errors to retry. @default isThrottling */
  readonly retryOn?: (error: unknown) => boolean;
  /** Injected in tests. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
}

export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** An adapter's retry options with its injected sleep (tests) applied to the backoff as well. */
export const retryOptionsOf = (options: { readonly retry?: RetryOptions; readonly sleep?: (ms: number) => Promise<void> }): RetryOptions => ({
  ...options.retry,
  ...(options.sleep ? { sleep: options.sleep } : {}),
});

/** {@link withRetry} bound to one set of options. */
export const retrying =
  (retry: RetryOptions) =>
  <T>(fn: () => Promise<T>): Promise<T> =>
    withRetry(fn, retry);

/**
 * Calls `fn` again on throttling with "full jitter" exponential backoff (a random delay up to
 * base × 2^attempt, capped), so many clients that were throttled together do not retry together.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 8;
  const retryOn = options.retryOn ?? isThrottling;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt + 1 >= attempts || !retryOn(error)) throw error;
      const cap = Math.min(options.maxDelayMs ?? 30_000, (options.baseDelayMs ?? 500) * 2 ** attempt);
      await sleep(Math.round(random() * cap));
    }
  }
}

export interface PollOptions {
  /** @default 15000 */
  readonly intervalMs: number;
  /** Gives up after this long. */
  readonly timeoutMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly signal?: AbortSignal;
  /** Names what is awaited in the timeout error. */
  readonly what: string;
}

/**
 * Polls `check` until it returns a value (not undefined), at a fixed interval, for at most
 * `timeoutMs` (counted in intervals, so injected sleeps keep tests instant).
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  const polls = Math.max(1, Math.ceil(options.timeoutMs / options.intervalMs));
  for (let i = 0; i <= polls; i++) {
    if (options.signal?.aborted) throw new ModelsweepError('interrupted', `interrupted while waiting for ${options.what}`);
    const value = await check();
    if (value !== undefined) return value;
    if (i < polls) await sleep(options.intervalMs);
  }
  throw new ModelsweepError('platform', `${options.what}: not ready after ${Math.round(options.timeoutMs / 1000)} s`);
}

/**
 * Deletes something, idempotently: retried on throttling, 5xx and dropped connections (and
 * whatever `retry.retryOn` adds); not-found counts as done.
 */
export async function removeIdempotently(remove: () => Promise<unknown>, retry: RetryOptions): Promise<void> {
  try {
    await withRetry(remove, { ...retry, retryOn: (e) => isThrottling(e) || isTransient(e) || (retry.retryOn?.(e) ?? false) });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Runs teardown steps, each with {@link removeIdempotently}, all attempted even if one fails. */
export async function teardownSteps(steps: ReadonlyArray<readonly [string, () => Promise<unknown>]>, retry: RetryOptions): Promise<void> {
  const failures: string[] = [];
  for (const [what, step] of steps) {
    try {
      await removeIdempotently(step, retry);
    } catch (error) {
      failures.push(`${what}: ${(error as Error).message}`);
    }
  }
  if (failures.length > 0)
    throw new ModelsweepError(
      'teardown-incomplete',
      `teardown incomplete (what is left carries the sweep id and an expiry in its tags): ${failures.join('; ')}`,
    );
}

/** Errors worth another try in teardown: 5xx and dropped connections. */
function isTransient(error: unknown): boolean {
  const e = asError(error);
  const status = statusOf(e) ?? 0;
  return (
    status >= 500 ||
    ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'InternalFailure', 'ServiceUnavailable', 'InternalServerError'].includes(e.code ?? e.name ?? '')
  );
}

/** Quota and capacity errors make a candidate unavailable; anything else failed. */
export function classify(error: unknown, doing: string): CandidateError {
  if (error instanceof CandidateError) return error;
  const e = error as Error;
  // A plain or modelsweep error says enough by its message; an SDK error's name is its AWS error code.
  const named = e.name && e.name !== 'Error' && !(error instanceof ModelsweepError);
  const message = `${doing}: ${named ? `${e.name}: ` : ''}${e.message}`;
  return new CandidateError(isQuota(error) ? 'unavailable' : 'failed', message, { cause: error });
}

/** For waits: a {@link CandidateError} passes through; anything else (a timeout, an API error) fails the candidate with its message. */
export function rethrowAsFailed(error: unknown): never {
  throw error instanceof CandidateError ? error : new CandidateError('failed', (error as Error).message, { cause: error });
}

/**
 * A deployment's readiness from one look at it (true when ready; a {@link CandidateError} when it
 * never will be): `isReady` for the workflow's Wait + look loop, and `waitReady` polling the same
 * look, every `pollMs` up to `timeoutMs`.
 */
export function readinessOf<D>(
  look: (deployment: D) => Promise<boolean>,
  readiness: { readonly pollMs: number; readonly timeoutMs: number },
  what: (deployment: D) => string,
  sleep?: (ms: number) => Promise<void>,
) {
  return {
    readiness,
    isReady: (deployment: D) => look(deployment).catch(rethrowAsFailed),
    async waitReady(deployment: D, context: { readonly signal?: AbortSignal }) {
      await pollUntil(async () => ((await look(deployment)) ? true : undefined), {
        intervalMs: readiness.pollMs,
        timeoutMs: readiness.timeoutMs,
        sleep,
        signal: context.signal,
        what: what(deployment),
      }).catch(rethrowAsFailed);
    },
  };
}
