import { retrying, type RetryOptions, retryOptionsOf } from './retry';

/**
 * One `make(key)` per key (a region, a subscription), made on first use and kept: SDK clients are
 * built once per region or subscription, not per call.
 */
export function perKey<K extends string | undefined, T>(make: (key: K) => T): (key: K) => T {
  const made = new Map<K, T>();
  return (key) => {
    if (!made.has(key)) made.set(key, make(key));
    return made.get(key)!;
  };
}

/** What every part of a cloud adapter shares: its options, its clients for a region, and the retrying call. */
export interface AdapterApi<Options, Clients> {
  readonly options: Options;
  readonly clients: (region: string | undefined) => Clients;
  readonly retry: RetryOptions;
  readonly call: ReturnType<typeof retrying>;
}

export function adapterApi<Options extends Parameters<typeof retryOptionsOf>[0], Clients>(
  options: Options,
  clients: (region: string | undefined) => Clients,
): AdapterApi<Options, Clients> {
  const retry = retryOptionsOf(options);
  return { options, clients, retry, call: retrying(retry) };
}
