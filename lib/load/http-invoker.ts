import { Pool, type Dispatcher } from 'undici';
import type { Invoker, InvokeOutcome, Payload } from './invoker';

export interface HttpInvokerOptions {
  readonly url: string;
  /** Keep-alive connections to open. @default 64 */
  readonly connections?: number;
  /** A request with no complete response by then is a timeout. @default 30000 */
  readonly timeoutMs?: number;
  /** @default 'POST' */
  readonly method?: Dispatcher.HttpMethod;
  readonly headers?: Readonly<Record<string, string>>;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function isTimeout(error: unknown): boolean {
  const { name, code } = error as { name?: string; code?: string };
  return name === 'TimeoutError' || (code !== undefined && TIMEOUT_CODES.has(code));
}

/** Invokes an HTTP endpoint over a pool of keep-alive connections (undici). */
export function httpInvoker(options: HttpInvokerOptions): Invoker & { close(): Promise<void> } {
  const url = new URL(options.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`url must be http or https, got ${options.url}`);
  const timeout = options.timeoutMs ?? 30_000;
  const pool = new Pool(url.origin, {
    connections: options.connections ?? 64,
    pipelining: 1,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    connectTimeout: Math.min(timeout, 10_000),
    keepAliveTimeout: 30_000,
  });
  const path = `${url.pathname}${url.search}`;
  const method = options.method ?? 'POST';
  return {
    async invoke(payload: Payload): Promise<InvokeOutcome> {
      try {
        const response = await pool.request({
          path,
          method,
          body: method === 'GET' || method === 'HEAD' ? undefined : payload.body,
          headers: { ...options.headers, 'content-type': payload.contentType },
          // A per-request deadline: undici's own header/body timeouts are coarse below a second.
          signal: AbortSignal.timeout(timeout),
        });
        await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
        return response.statusCode < 400 ? { ok: true } : { ok: false, failure: { kind: 'http', status: response.statusCode } };
      } catch (error) {
        if (isTimeout(error)) return { ok: false, failure: { kind: 'timeout' } };
        return { ok: false, failure: { kind: 'connection', code: String((error as { code?: string }).code ?? 'UNKNOWN') } };
      }
    },
    close: () => pool.close(),
  };
}
