/**
 * The model server as a Lambda handler. Invoked directly, the event is the request body and the
 * result is the response body (bad input throws, so the caller sees a function error naming the
 * field). Through a function URL, it answers HTTP like the standalone server.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';

import { configFromEnv } from '../../lib/model-server/config';
import { asModelServerError, errorBody, ModelServerError, payloadTooLarge } from '../../lib/model-server/errors';
import { failure, handleInvocation, loadedOrModelError } from '../../lib/model-server/invocation';
import { healthBody, type InferenceResponse, loadModel, predict } from '../../lib/model-server/model';

const logger = new Logger({ serviceName: 'modelsweep-model-server' });
const config = configFromEnv(process.env);
const model = () => loadModel({ modelPath: config.modelPath, threads: config.threads });
// Start loading during init, which Lambda runs at full CPU before the first request.
model().catch((error: unknown) => logger.error('model load failed', { error: error as Error }));

export async function handler(event: unknown, context: Pick<Context, 'awsRequestId'>): Promise<InferenceResponse | LambdaFunctionURLResult> {
  const requestId = context.awsRequestId;
  if (isFunctionUrlEvent(event)) return handleHttp(event, requestId);
  try {
    return await predict(await loadedOrModelError(model()), event, requestId);
  } catch (error) {
    failure(error, requestId, logger);
    throw asModelServerError(error);
  }
}

async function handleHttp(event: LambdaFunctionURLEvent, requestId: string): Promise<LambdaFunctionURLResult> {
  const method = event.requestContext.http.method;
  if (method === 'GET') {
    try {
      return json(200, healthBody(await loadedOrModelError(model())));
    } catch (error) {
      const result = failure(error, requestId, logger);
      return json(result.status, result.body);
    }
  }
  if (method !== 'POST') {
    return json(405, errorBody(new ModelServerError('MethodNotAllowed', 'use POST to invoke, GET to check health'), requestId));
  }
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > config.maxBodyBytes) {
    return json(413, errorBody(payloadTooLarge(config.maxBodyBytes), requestId));
  }
  const contentType = event.headers?.['content-type'];
  const result = await handleInvocation(model(), { text: raw.toString('utf8'), contentType, requestId }, logger);
  return json(result.status, result.body);
}

function isFunctionUrlEvent(event: unknown): event is LambdaFunctionURLEvent {
  const http = (event as { requestContext?: { http?: unknown } } | null)?.requestContext?.http;
  return typeof http === 'object' && http !== null;
}

function json(statusCode: number, body: unknown): LambdaFunctionURLResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
