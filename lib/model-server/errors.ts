import { ModelsweepError } from '../errors';

/** Why a request did not produce a prediction; `status` is the HTTP status it maps to. */
export type ModelServerErrorCode =
  'BadRequest' | 'PayloadTooLarge' | 'UnsupportedMediaType' | 'NotFound' | 'MethodNotAllowed' | 'ModelError' | 'Busy';

const STATUS: Record<ModelServerErrorCode, number> = {
  BadRequest: 400,
  NotFound: 404,
  MethodNotAllowed: 405,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  ModelError: 500,
  Busy: 503,
};

/** An error the model server reports to its caller, with the status and a message saying what is wrong. */
export class ModelServerError extends ModelsweepError<ModelServerErrorCode> {
  readonly status: number;

  constructor(
    code: ModelServerErrorCode,
    message: string,
    /** Where in the request body the problem is, e.g. `inputs.input.dims`. */
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(code, path ? `${path}: ${message}` : message, options);
    this.name = code;
    this.status = STATUS[code];
  }
}

/** The JSON body of an error response. */
export interface ErrorBody {
  readonly error: { readonly code: ModelServerErrorCode; readonly message: string; readonly path?: string };
  readonly requestId: string;
}

/** The 413 for a body over `maxBytes`. */
export function payloadTooLarge(maxBytes: number): ModelServerError {
  return new ModelServerError('PayloadTooLarge', `the request body is over the ${maxBytes}-byte limit`);
}

/** Any thrown value as a {@link ModelServerError}; unknown errors are the server's fault (500). */
export function asModelServerError(error: unknown): ModelServerError {
  if (error instanceof ModelServerError) return error;
  return new ModelServerError('ModelError', `internal error: ${(error as Error)?.message ?? String(error)}`, undefined, { cause: error });
}

export function errorBody(error: ModelServerError, requestId: string): ErrorBody {
  return {
    error: { code: error.code, message: error.message, ...(error.path ? { path: error.path } : {}) },
    requestId,
  };
}
