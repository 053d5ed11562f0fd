/**
 * Every error modelsweep raises on purpose is a {@link ModelsweepError} with a stable `code`:
 * scripts, the CLI's exit code and the workflow's failure path read the code, never the message,
 * so messages can improve without breaking anyone. An error that wraps another passes it as
 * `cause`, so the original stays one `.cause` away.
 */
export type ErrorCode =
  /** A sweep spec, or a file it names, that cannot be used. */
  | 'invalid-spec'
  /** Any other input (a flag, an argument, a step's event, a price override) that is wrong. */
  | 'invalid-input'
  /** A construct prop that CloudFormation or the platform would reject. */
  | 'invalid-prop'
  /** The sweep cannot start: credentials, region, permissions. Nothing was created. */
  | 'setup'
  /** A candidate that could not run at all (quota, region, architecture). */
  | 'candidate-unavailable'
  /** A candidate that was deployed or invoked and failed. */
  | 'candidate-failed'
  /** Something named (a sweep, a blob, a price) does not exist. */
  | 'not-found'
  /** A sweep whose recommendation cannot be applied. */
  | 'not-deployable'
  /** A platform call that failed after its retries, or a resource that never became ready. */
  | 'platform'
  /** Resources that could not be removed (the janitor can finish them). */
  | 'teardown-incomplete'
  /** Stopped by the user (Ctrl-C) or a signal. */
  | 'interrupted'
  /** A response the load generator could not parse. */
  | 'bad-response'
  /** This installation is missing something it needs (a built asset, an environment variable). */
  | 'not-installed';

export class ModelsweepError<Code extends string = ErrorCode> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ModelsweepError';
  }
}

/** A candidate that could not be measured, and why: `unavailable` (quota, region, architecture) or `failed`. */
export class CandidateError extends ModelsweepError {
  constructor(
    readonly status: 'failed' | 'unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(status === 'failed' ? 'candidate-failed' : 'candidate-unavailable', message, options);
    this.name = 'CandidateError';
  }
}

/** The sweep cannot start (no credentials, no region): nothing has been created. */
export class SetupError extends ModelsweepError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('setup', message, options);
    this.name = 'SetupError';
  }
}

/** Whether `error` is a modelsweep error with one of `codes`. */
export function hasCode(error: unknown, ...codes: ErrorCode[]): error is ModelsweepError {
  return error instanceof ModelsweepError && (codes as string[]).includes(error.code);
}
