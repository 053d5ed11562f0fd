import { JSONParser } from '@streamparser/json';

import { ModelsweepError } from '../../errors';

/** Bounds on one download: a price list that never ends, drips, or stops answering cannot hold a run. */
export interface DownloadLimits {
  /** The most bytes one file may have. @default 512 MiB (a SageMaker region's offer file is a few MB) */
  readonly maxBytes: number;
  /** The longest wait for the next bytes. @default 30 s */
  readonly stallMs: number;
  /** The longest one file may take. @default 10 min */
  readonly deadlineMs: number;
}

export const DEFAULT_DOWNLOAD_LIMITS: DownloadLimits = { maxBytes: 512 * 1024 * 1024, stallMs: 30_000, deadlineMs: 10 * 60_000 };

/** Bytes of a download so far, for progress displays. */
export type OnBytes = (received: number, total: number | undefined) => void;

/**
 * The body of a GET of `url`, chunk by chunk, within `limits`: an HTTP error, a declared or actual
 * size over the limit, a stall, a deadline or a connection cut mid-way ends it with a one-line
 * `platform` error naming the URL.
 */
export async function* download(
  url: string,
  limits: DownloadLimits,
  options: { signal?: AbortSignal; onBytes?: OnBytes } = {},
): AsyncGenerator<Uint8Array> {
  const controller = new AbortController();
  let why: string | undefined;
  const stop = (reason: string) => {
    why ??= reason;
    controller.abort();
  };
  const deadline = setTimeout(() => stop(`took longer than ${Math.round(limits.deadlineMs / 1000)} s`), limits.deadlineMs);
  let stall = setTimeout(() => stop(`sent nothing for ${Math.round(limits.stallMs / 1000)} s`), limits.stallMs);
  const onAbort = () => stop('interrupted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const fail = (message: string, cause?: unknown): never => {
    throw new ModelsweepError('platform', `${url}: ${message}`, cause === undefined ? undefined : { cause });
  };
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal, headers: { accept: 'application/json' } });
    } catch (error) {
      return fail(why ?? `cannot connect (${causeOf(error)})`, error);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      return fail(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    const total = Number.isFinite(declared) ? declared : undefined;
    if (total !== undefined && total > limits.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      return fail(`is ${formatMb(total)}, over the ${formatMb(limits.maxBytes)} limit`);
    }
    if (!response.body) return fail('no body');
    const reader = response.body.getReader();
    let received = 0;
    try {
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          return fail(why ?? `the download broke off after ${formatMb(received)} (${causeOf(error)})`, error);
        }
        if (chunk.done) break;
        received += chunk.value.byteLength;
        if (received > limits.maxBytes) return fail(`is over the ${formatMb(limits.maxBytes)} limit`);
        clearTimeout(stall);
        stall = setTimeout(() => stop(`sent nothing for ${Math.round(limits.stallMs / 1000)} s`), limits.stallMs);
        options.onBytes?.(received, total);
        yield chunk.value;
      }
    } finally {
      reader.releaseLock();
      if (!controller.signal.aborted) await response.body.cancel().catch(() => undefined);
    }
    if (total !== undefined && received !== total) fail(`ended after ${received} of the ${total} bytes it announced`);
  } finally {
    clearTimeout(deadline);
    clearTimeout(stall);
    options.signal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
}

/**
 * Streams a JSON document from `url` and hands each value at `paths` (JSONPath, e.g.
 * `$.products.*`) to `onValue` as it completes, never holding the document whole. A document cut
 * short, not JSON, or followed by more data fails naming the URL.
 */
export async function streamJson(
  url: string,
  paths: readonly string[],
  onValue: (value: unknown, path: ReadonlyArray<string | number | undefined>) => void,
  limits: DownloadLimits,
  options: { signal?: AbortSignal; onBytes?: OnBytes } = {},
): Promise<void> {
  const parser = new JSONParser({ paths: [...paths], keepStack: false });
  let failure: Error | undefined;
  // Bytes after a complete document are an error of their own (a mirror that appends, two files in one).
  parser.onError = (error) => (failure ??= parser.isEnded ? new Error('more data after the end of the JSON document') : error);
  parser.onValue = ({ value, key, stack }) => {
    if (failure) return;
    try {
      onValue(value, [...stack.slice(1).map((s) => s.key as string | number), key as string | number]);
    } catch (error) {
      failure = error as Error;
    }
  };
  for await (const chunk of download(url, limits, options)) {
    if (parser.isEnded) failure ??= new Error('more data after the end of the JSON document');
    else parser.write(chunk);
    if (failure) break;
  }
  if (!failure && !parser.isEnded) parser.end();
  if (failure) {
    if (failure instanceof ModelsweepError) throw failure;
    throw new ModelsweepError('platform', `${url}: not a complete JSON document (${failure.message.split('\n')[0]})`, { cause: failure });
  }
}

/** A small JSON document (an index), whole. */
export async function fetchJson(url: string, limits: DownloadLimits, options: { signal?: AbortSignal } = {}): Promise<unknown> {
  let root: unknown;
  await streamJson(url, ['$'], (value) => (root = value), limits, options);
  return root;
}

/**
 * A link found in a price list (an index's file, a page's next page), resolved against the base
 * URL. One to another host is refused: a mirror or a test server must not send the fetcher elsewhere.
 */
export function linkOnBase(base: string, link: string, from: string, what = 'points'): string {
  const url = new URL(link, `${base}/`);
  if (url.origin !== new URL(base).origin) throw new ModelsweepError('platform', `${from}: ${what} to another host (${url.origin})`);
  return url.toString();
}

const formatMb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
