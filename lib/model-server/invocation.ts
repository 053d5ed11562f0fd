import type { Logger } from '@aws-lambda-powertools/logger';

import { asModelServerError, type ErrorBody, errorBody, ModelServerError } from './errors';
import { type InferenceResponse, type LoadedModel, predict } from './model';
import { parseJsonBody } from './request';

/** The largest request body accepted by default: Lambda's limit for a synchronous invocation. */
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;

export interface InvocationResult {
  readonly status: number;
  readonly body: InferenceResponse | ErrorBody;
}

export interface RawInvocation {
  /** The body as received (UTF-8 text), already checked against the size limit by the transport. */
  readonly text: string;
  /** The request's `Content-Type` header, if any. */
  readonly contentType?: string;
  readonly requestId: string;
}

/**
 * One request through the model server, transport-agnostic: the HTTP server, a Lambda function
 * URL and a SageMaker container all come through here. Never throws: every failure becomes a
 * status and an error body carrying the request id, and 5xx failures are logged with it.
 */
export async function handleInvocation(model: Promise<LoadedModel>, raw: RawInvocation, logger: Logger): Promise<InvocationResult> {
  try {
    checkContentType(raw.contentType);
    const body = parseJsonBody(raw.text);
    return { status: 200, body: await predict(await loadedOrModelError(model), body, raw.requestId) };
  } catch (error) {
    return failure(error, raw.requestId, logger);
  }
}

/** Maps any error to a status and body, logging it with the request id. */
export function failure(error: unknown, requestId: string, logger: Logger): InvocationResult {
  const known = asModelServerError(error);
  if (known.status >= 500) logger.error('invocation failed', { requestId, error: error as Error });
  else logger.info('invocation rejected', { requestId, status: known.status, reason: known.message });
  return { status: known.status, body: errorBody(known, requestId) };
}

/** Awaits the model, turning a failed load into a 500 that says which file could not be loaded. */
export async function loadedOrModelError(model: Promise<LoadedModel>): Promise<LoadedModel> {
  try {
    return await model;
  } catch (error) {
    throw new ModelServerError('ModelError', `the model could not be loaded: ${(error as Error).message}`, undefined, { cause: error });
  }
}

function checkContentType(contentType: string | undefined): void {
  if (contentType === undefined || contentType === '') return;
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  if (mediaType === 'application/json' || /^application\/[\w.+-]+\+json$/.test(mediaType)) return;
  throw new ModelServerError('UnsupportedMediaType', `Content-Type ${mediaType} is not supported; send application/json`);
}
