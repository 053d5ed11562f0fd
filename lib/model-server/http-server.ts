import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Logger } from '@aws-lambda-powertools/logger';

import type { BatchingOptions } from './batcher';
import { errorBody, ModelServerError, payloadTooLarge } from './errors';
import { DEFAULT_MAX_BODY_BYTES, handleInvocation, type InvocationResult } from './invocation';
import { healthBody, type LoadedModel, loadModel } from './model';

export interface ModelHttpServerOptions {
  readonly modelPath: string;
  /** @default 0 (onnxruntime's choice, one per physical core) */
  readonly threads?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 8080 (0 picks a free port) */
  readonly port?: number;
  /** @default 6 MiB */
  readonly maxBodyBytes?: number;
  /** Concurrent requests stacked into one model run. @default off */
  readonly batching?: BatchingOptions;
  readonly logger: Logger;
}

export interface RunningModelServer {
  readonly url: string;
  readonly server: Server;
  readonly model: LoadedModel;
  close(): Promise<void>;
}

/**
 * Serves a model over HTTP with SageMaker's container contract: `GET /ping` answers 200 once the
 * model is loaded, `POST /invocations` runs it. The model is loaded before the port opens, so a
 * caller that sees the port (or SageMaker's startup health check) sees a ready server.
 */
export async function startModelHttpServer(options: ModelHttpServerOptions): Promise<RunningModelServer> {
  const modelPromise = loadModel({ modelPath: options.modelPath, threads: options.threads, batching: options.batching });
  const model = await modelPromise;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = createServer((req, res) => {
    route(req, res, modelPromise, maxBodyBytes, options.logger).catch((error: unknown) => {
      options.logger.error('unhandled server error', { error: error as Error });
      if (!res.headersSent) send(res, { status: 500, body: errorBody(new ModelServerError('ModelError', 'internal error'), 'unknown') });
    });
  });
  server.keepAliveTimeout = 65_000; // longer than common client idle timeouts, so reused sockets are not cut
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    model,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, model: Promise<LoadedModel>, maxBodyBytes: number, logger: Logger): Promise<void> {
  const requestId = headerValue(req.headers['x-request-id']) ?? randomUUID();
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/ping' || path === '/health') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, methodNotAllowed('GET', requestId), 'GET, HEAD');
    return send(res, { status: 200, body: healthBody(await model) });
  }
  if (path !== '/invocations') {
    return send(res, {
      status: 404,
      body: errorBody(new ModelServerError('NotFound', `no route ${path}; use POST /invocations or GET /ping`), requestId),
    });
  }
  if (req.method !== 'POST') return send(res, methodNotAllowed('POST', requestId), 'POST');
  const text = await readBody(req, maxBodyBytes);
  if (text === undefined) {
    res.setHeader('connection', 'close'); // the rest of the body is not read, so the socket cannot be reused
    return send(res, { status: 413, body: errorBody(payloadTooLarge(maxBodyBytes), requestId) });
  }
  send(res, await handleInvocation(model, { text, contentType: req.headers['content-type'], requestId }, logger));
}

function methodNotAllowed(allowed: string, requestId: string): InvocationResult {
  return { status: 405, body: errorBody(new ModelServerError('MethodNotAllowed', `use ${allowed}`), requestId) };
}

/** Reads the body as UTF-8, or returns undefined as soon as it exceeds the limit. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.pause();
        resolve(undefined);
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, result: { status: number; body: object }, allow?: string): void {
  const payload = JSON.stringify(result.body);
  const requestId = (result.body as { requestId?: string }).requestId;
  res.writeHead(result.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...(requestId ? { 'x-request-id': requestId } : {}),
    ...(allow ? { allow } : {}),
  });
  res.end(payload);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
