import net from 'node:net';
import tls from 'node:tls';

import { ModelsweepError } from '../errors';
import { Http1ResponseParser } from './http1-response-parser';
import { type AnswerOutcome, type InvokeOutcome, type Invoker, MAX_ANSWER_BYTES, type Payload, payloadBytes } from './invoker';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpInvokerOptions {
  readonly url: string;
  /** Keep-alive connections to open at most. @default 64 */
  readonly connections?: number;
  /** A request with no complete response by then is a timeout. @default 30000 */
  readonly timeoutMs?: number;
  /** @default 'POST' */
  readonly method?: HttpMethod;
  readonly headers?: Readonly<Record<string, string>>;
}

const OK: InvokeOutcome = { ok: true };
const TIMED_OUT: InvokeOutcome = { ok: false, failure: { kind: 'timeout' } };
const httpFailures = new Map<number, InvokeOutcome>();
const httpFailure = (status: number): InvokeOutcome => {
  let outcome = httpFailures.get(status);
  if (!outcome) httpFailures.set(status, (outcome = { ok: false, failure: { kind: 'http', status } }));
  return outcome;
};
const connectionFailure = (code: string): InvokeOutcome => ({ ok: false, failure: { kind: 'connection', code } });

class PendingRequest {
  settled = false;
  connection: Connection | undefined;
  /** Resent once when a reused keep-alive connection turned out to be closed. */
  resent = false;

  constructor(
    readonly bytes: Buffer,
    readonly deadline: number,
    readonly resolve: (outcome: InvokeOutcome) => void,
  ) {}
}

class Connection {
  readonly parser = new Http1ResponseParser();
  current: PendingRequest | undefined;
  served = 0;
  closed = false;
  errorCode: string | undefined;

  constructor(readonly socket: net.Socket) {}
}

/**
 * Invokes an HTTP endpoint over a pool of keep-alive HTTP/1.1 connections, one request in flight
 * on each (no pipelining), with each payload's request bytes built once and written in one call.
 *
 * A general-purpose client (undici) spends most of a core on generality — header objects, streams,
 * per-request handler and timer state — and drove 0.8× autocannon's rate on loopback; a load
 * generator needs none of that, so, like autocannon and wrk, it speaks the protocol on the socket
 * itself. Requests beyond the open connections wait in order. Timeouts are enforced by one sweep
 * over the requests in flight, to about a tenth of the timeout; a timed-out connection is closed,
 * since its answer may still arrive.
 */
export function httpInvoker(options: HttpInvokerOptions): Invoker & { close(): Promise<void> } {
  const url = new URL(options.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ModelsweepError('invalid-input', `url must be http or https, got ${options.url}`);
  const maxConnections = options.connections ?? 64;
  if (!Number.isInteger(maxConnections) || maxConnections < 1)
    throw new ModelsweepError('invalid-input', `connections must be a whole number of at least 1, got ${maxConnections}`);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const method = options.method ?? 'POST';
  const requestBytes = requestBytesBuilder(url, method, options.headers ?? {});
  const secure = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (secure ? 443 : 80));

  const all = new Set<Connection>();
  const idle: Connection[] = [];
  const waiting: PendingRequest[] = [];
  let waitingHead = 0;
  let open = 0;
  let closing = false;
  const inFlight = new Set<PendingRequest>();

  const settle = (request: PendingRequest, outcome: InvokeOutcome) => {
    if (request.settled) return;
    request.settled = true;
    request.connection = undefined;
    inFlight.delete(request);
    request.resolve(outcome);
  };

  const nextWaiting = (): PendingRequest | undefined => {
    while (waitingHead < waiting.length) {
      const request = waiting[waitingHead++];
      if (waitingHead > 1024 && waitingHead * 2 > waiting.length) {
        waiting.splice(0, waitingHead);
        waitingHead = 0;
      }
      if (!request.settled) return request;
    }
    return undefined;
  };

  const assign = (connection: Connection, request: PendingRequest) => {
    connection.current = request;
    request.connection = connection;
    connection.parser.expectBodyless = method === 'HEAD';
    connection.socket.write(request.bytes);
  };

  const release = (connection: Connection) => {
    const next = nextWaiting();
    if (next) assign(connection, next);
    else idle.push(connection);
  };

  const discard = (connection: Connection) => {
    if (connection.closed) return;
    connection.closed = true;
    open--;
    all.delete(connection);
    const at = idle.indexOf(connection);
    if (at >= 0) idle.splice(at, 1);
    connection.socket.destroy();
    // Requests that were waiting for a connection get a new one.
    if (!closing && waitingHead < waiting.length) {
      const next = nextWaiting();
      if (next) assign(connect(), next);
    }
  };

  const onData = (connection: Connection, chunk: Buffer) => {
    const request = connection.current;
    if (!request) return discard(connection); // bytes nobody asked for: the connection is unusable
    let status: number;
    try {
      status = connection.parser.feed(chunk);
    } catch {
      settle(request, connectionFailure('BAD_RESPONSE'));
      return discard(connection);
    }
    if (status === 0) return;
    connection.current = undefined;
    connection.served++;
    settle(request, status < 400 ? OK : httpFailure(status));
    if (connection.parser.keepAlive) release(connection);
    else discard(connection);
  };

  const onClose = (connection: Connection) => {
    const request = connection.current;
    connection.current = undefined;
    if (request && !request.settled) {
      const status = connection.parser.end();
      if (status) settle(request, status < 400 ? OK : httpFailure(status));
      else if (connection.served > 0 && !connection.parser.midResponse && !request.resent) {
        // The server closed an idle keep-alive connection just as the request went out: not the
        // target failing, so send it again on a fresh connection, once.
        request.resent = true;
        request.connection = undefined;
        waiting.splice(waitingHead, 0, request);
      } else settle(request, connectionFailure(connection.errorCode ?? (connection.parser.midResponse ? 'CLOSED_MID_RESPONSE' : 'CLOSED')));
    }
    discard(connection);
  };

  const connect = (): Connection => {
    open++;
    const socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'] })
      : net.connect({ host, port });
    socket.setNoDelay(true);
    const connection = new Connection(socket);
    all.add(connection);
    socket.on('data', (chunk: Buffer) => onData(connection, chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      connection.errorCode ??= error.code ?? 'SOCKET_ERROR';
    });
    socket.on('close', () => onClose(connection));
    return connection;
  };

  const sweeper = setInterval(
    () => {
      const now = performance.now();
      for (const request of inFlight) {
        if (now < request.deadline) continue;
        const connection = request.connection;
        settle(request, TIMED_OUT);
        if (connection) {
          connection.current = undefined;
          discard(connection);
        }
      }
    },
    Math.max(5, Math.min(1_000, timeoutMs / 10)),
  );
  sweeper.unref();

  return {
    invoke(payload: Payload): Promise<InvokeOutcome> {
      return new Promise((resolve) => {
        if (closing) return resolve(connectionFailure('CLIENT_CLOSED'));
        const request = new PendingRequest(requestBytes(payload), performance.now() + timeoutMs, resolve);
        inFlight.add(request);
        const connection = idle.pop();
        if (connection) assign(connection, request);
        else if (open < maxConnections) assign(connect(), request);
        else waiting.push(request);
      });
    },
    // Bodies are read whole here, so these few requests go through fetch, not the load generator's pool.
    async answer(payload: Payload): Promise<AnswerOutcome> {
      try {
        const sendsBody = method !== 'GET' && method !== 'HEAD';
        const headers = Object.fromEntries(Object.entries(options.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'content-type'));
        const response = await fetch(url, {
          method,
          headers: sendsBody ? { ...headers, 'content-type': payload.contentType } : headers,
          ...(sendsBody ? { body: payloadBytes(payload) } : {}),
          signal: AbortSignal.timeout(timeoutMs),
        });
        const body = await boundedBody(response);
        if (!response.ok) return { ok: false, failure: { kind: 'http', status: response.status } };
        return body ? { ok: true, body } : { ok: false, failure: { kind: 'target', code: 'AnswerTooLarge' } };
      } catch (error) {
        const e = error as Error & { cause?: { code?: string } };
        if (e.name === 'TimeoutError' || e.name === 'AbortError') return TIMED_OUT as AnswerOutcome;
        return { ok: false, failure: { kind: 'connection', code: e.cause?.code ?? e.name } };
      }
    },
    async close() {
      closing = true;
      clearInterval(sweeper);
      for (const request of inFlight) settle(request, connectionFailure('CLIENT_CLOSED'));
      const sockets = [...all].map((connection) => connection.socket);
      for (const connection of [...all]) discard(connection);
      await Promise.all(sockets.map((socket) => (socket.closed ? undefined : new Promise((resolve) => socket.once('close', resolve)))));
    },
  };
}

/** A response's body, or undefined when it is larger than {@link MAX_ANSWER_BYTES} (read no further). */
async function boundedBody(response: Response): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > MAX_ANSWER_BYTES) {
      await response.body?.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(chunk as Uint8Array);
  }
  return Buffer.concat(chunks);
}

/** Builds each payload's complete request (head and body) once; payloads are reused for every send. */
function requestBytesBuilder(url: URL, method: HttpMethod, headers: Readonly<Record<string, string>>): (payload: Payload) => Buffer {
  const sendsBody = method !== 'GET' && method !== 'HEAD';
  let fixed = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      throw new ModelsweepError('invalid-input', `headers: ${JSON.stringify(name)} is not a valid header name`);
    if (/[\r\n\0]/.test(value)) throw new ModelsweepError('invalid-input', `headers.${name} must not contain CR, LF or NUL`);
    const lower = name.toLowerCase();
    if (lower === 'content-type' && sendsBody) continue; // each payload brings its own
    if (lower === 'host' || lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection')
      throw new ModelsweepError('invalid-input', `headers.${name} is set by the load generator and cannot be overridden`);
    fixed += `${name}: ${value}\r\n`;
  }
  const cache = new WeakMap<Payload, Buffer>();
  return (payload) => {
    let bytes = cache.get(payload);
    if (bytes) return bytes;
    if (/[\r\n\0]/.test(payload.contentType)) throw new ModelsweepError('invalid-input', 'payload contentType must not contain CR, LF or NUL');
    if (sendsBody) {
      const body = payloadBytes(payload);
      const head = Buffer.from(`${fixed}content-type: ${payload.contentType}\r\ncontent-length: ${body.length}\r\n\r\n`, 'latin1');
      bytes = Buffer.concat([head, body]);
    } else bytes = Buffer.from(`${fixed}\r\n`, 'latin1');
    cache.set(payload, bytes);
    return bytes;
  };
}
