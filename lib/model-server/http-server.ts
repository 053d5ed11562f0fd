import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Logger } from '@aws-lambda-powertools/logger';

import type { BatchingOptions } from './batcher';
import { errorBody, ModelServerError, payloadTooLarge } from './errors';
import { readBody, send } from './http-io';
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
  /**
   * Invocations in flight at once; more are answered 503 with Retry-After at once, unread, so a
   * burst cannot pile up bodies in memory. @default 64, or twice the batch size if that is more
   */
  readonly maxInFlight?: number;
  /** Request body bytes held at once across the invocations in flight; beyond it, 503 as above. @default 64 MiB */
  readonly maxBytesInFlight?: number;
  /**
   * Called a second after a burst of large bodies has drained (the server idle again), so that
   * the memory the burst took goes back: V8 otherwise keeps its grown heap for minutes.
   * @default none
   */
  readonly collectGarbage?: () => void;
  readonly logger: Logger;
}

/** A burst whose bodies held more than this is followed by a garbage collection once idle. */
const COLLECT_AFTER_BYTES = 16 * 1024 * 1024;

/** One admitted invocation: the body bytes it may hold, and its release when its response is done. */
interface Admitted {
  /** Holds `bytes` more of its body, or refuses when the server holds too many already. */
  hold(bytes: number): boolean;
  /** Gives back what it held; once only. */
  release(): void;
}

/** What the server admits at once: invocations, and the bytes of their bodies. */
class Admission {
  requests = 0;
  bytes = 0;
  /** The most body bytes held at once since the server was last idle. */
  private highWater = 0;

  constructor(
    readonly maxRequests: number,
    readonly maxBytes: number,
    /** Called when a burst that held more than {@link COLLECT_AFTER_BYTES} has drained. */
    private readonly onDrained?: () => void,
  ) {}

  /** Admits an invocation whose body declares `declaredBytes` (NaN when unknown), or refuses it. */
  admit(declaredBytes: number): Admitted | undefined {
    if (this.requests >= this.maxRequests || (Number.isFinite(declaredBytes) && this.bytes + declaredBytes > this.maxBytes)) return undefined;
    this.requests++;
    let held = 0;
    let released = false;
    return {
      hold: (bytes) => {
        if (this.bytes + bytes > this.maxBytes) return false;
        this.bytes += bytes;
        this.highWater = Math.max(this.highWater, this.bytes);
        held += bytes;
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.requests--;
        this.bytes -= held;
        if (this.requests === 0 && this.highWater > COLLECT_AFTER_BYTES) {
          this.highWater = 0;
          this.onDrained?.();
        }
      },
    };
  }
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
  const admission = new Admission(
    options.maxInFlight ?? Math.max(64, 2 * (options.batching?.maxBatchSize ?? 1)),
    options.maxBytesInFlight ?? 64 * 1024 * 1024,
    options.collectGarbage && idleCollector(options.collectGarbage),
  );
  const server = createServer((req, res) => {
    route(req, res, modelPromise, maxBodyBytes, admission, options.logger).catch((error: unknown) => {
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

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  model: Promise<LoadedModel>,
  maxBodyBytes: number,
  admission: Admission,
  logger: Logger,
): Promise<void> {
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
  const admitted = admission.admit(Number(req.headers['content-length']));
  if (!admitted) return busy(req, res, admission, requestId);
  // Released when the response is done or the client goes away, whichever comes first.
  res.once('close', admitted.release);
  const text = await readBody(req, maxBodyBytes, admitted.hold);
  if (text === 'too large') {
    res.setHeader('connection', 'close'); // the rest of the body is not read, so the socket cannot be reused
    return send(res, { status: 413, body: errorBody(payloadTooLarge(maxBodyBytes), requestId) });
  }
  if (text === 'busy') return busy(req, res, admission, requestId);
  send(res, await handleInvocation(model, { text, contentType: req.headers['content-type'], requestId }, logger));
}

/** Runs `collect` a second after it was last asked to: a burst that drains again meanwhile restarts the wait. */
function idleCollector(collect: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(collect, 1000).unref();
  };
}

/**
 * The 503 for a request beyond what the server admits at once, sent at once. The rest of the body
 * is read and dropped, not held: closing the connection instead would cut a client still sending
 * its body (EPIPE), which would never see the 503 and its Retry-After.
 */
function busy(req: IncomingMessage, res: ServerResponse, admission: Admission, requestId: string): void {
  req.removeAllListeners('data');
  req.resume();
  res.setHeader('retry-after', '1');
  send(res, {
    status: 503,
    body: errorBody(
      new ModelServerError(
        'Busy',
        `busy: ${admission.requests} requests (${Math.round(admission.bytes / 1024)} KiB of bodies) in flight, the most it takes at once is ${admission.maxRequests} (${Math.round(admission.maxBytes / 1024)} KiB); retry after 1 s`,
      ),
      requestId,
    ),
  });
}

function methodNotAllowed(allowed: string, requestId: string): InvocationResult {
  return { status: 405, body: errorBody(new ModelServerError('MethodNotAllowed', `use ${allowed}`), requestId) };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
