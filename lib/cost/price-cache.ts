import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

import { z } from 'zod';

import { type Commitment, issuesLine, type PriceLayerCatalog, priceLayerSchema } from '../catalog/price-catalog';
import { ModelsweepError } from '../errors';
import { LIMITS } from '../spec/limits';
import { readBoundedFile } from '../util/bounded-file';
import { overrideLayer, PriceBook, type PriceLayer, snapshotLayer } from './price-book';

/** The largest cache file read back: every region of every service is a few MB. */
const MAX_CACHE_BYTES = 256 * 1024 * 1024;
const CURRENT = 'prices.json';
const PREVIOUS = 'prices.previous.json';

/** One download that went into the cache: what, from where, as published when, fetched when. */
const fetchRecordSchema = z.strictObject({
  service: z.enum(['sagemaker', 'lambda', 'azure']),
  region: z.string(),
  what: z.string(),
  url: z.string(),
  publicationDate: z.string().optional(),
  version: z.string().optional(),
  fetchedAt: z.string(),
});
export type FetchRecord = z.infer<typeof fetchRecordSchema>;

const cacheFileSchema = z.strictObject({
  formatVersion: z.literal(1),
  updatedAt: z.string(),
  prices: priceLayerSchema,
  fetches: z.array(fetchRecordSchema),
});
export type PriceCacheFile = z.infer<typeof cacheFileSchema>;

/** The cache folder: `MODELSWEEP_PRICE_CACHE`, else `$XDG_CACHE_HOME/modelsweep/prices`, else `~/.cache/modelsweep/prices`. */
export function defaultPriceCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MODELSWEEP_PRICE_CACHE) return env.MODELSWEEP_PRICE_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'modelsweep', 'prices');
}

/** The cached prices (`previous`: those before the last update), or undefined when there are none. */
export function readPriceCache(dir: string, which: 'current' | 'previous' = 'current'): PriceCacheFile | undefined {
  const file = join(dir, which === 'current' ? CURRENT : PREVIOUS);
  let text: string;
  try {
    text = readBoundedFile(file, MAX_CACHE_BYTES, 'price cache').toString('utf8');
  } catch (error) {
    // No cache yet is no error; any other failure to read it is.
    if ((error as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed;
  try {
    parsed = cacheFileSchema.safeParse(JSON.parse(text));
  } catch (error) {
    throw new ModelsweepError(
      'invalid-input',
      `price cache ${file} is not JSON (${(error as Error).message}); run \`modelsweep prices update\` again`,
      {
        cause: error,
      },
    );
  }
  if (!parsed.success)
    throw new ModelsweepError('invalid-input', `price cache ${file}: ${issuesLine(parsed.error)}; run \`modelsweep prices update\` again`);
  return parsed.data;
}

/**
 * Writes an update whole: the fetched blocks replace theirs in the cache, the rest stay, and the
 * cache as it was becomes the previous one (for `prices diff`). Each file is written to a
 * temporary name, flushed and renamed, so a crash leaves the old cache or the new one, never half.
 */
export function writePriceCache(
  dir: string,
  update: { readonly prices: PriceLayerCatalog; readonly fetches: readonly FetchRecord[] },
  now: Date,
): PriceCacheFile {
  mkdirSync(dir, { recursive: true });
  const before = readPriceCache(dir);
  const prices = structuredClone(before?.prices ?? {}) as Record<string, Record<string, unknown>>;
  for (const [service, regions] of Object.entries(update.prices)) {
    if (typeof regions !== 'object' || regions === null) continue;
    prices[service] = { ...prices[service], ...(regions as Record<string, unknown>) };
  }
  const replaced = new Set(update.fetches.map((f) => `${f.service}/${f.region}/${f.what}`));
  const next: PriceCacheFile = {
    formatVersion: 1,
    updatedAt: now.toISOString(),
    prices: priceLayerSchema.parse(prices),
    fetches: [...(before?.fetches ?? []).filter((f) => !replaced.has(`${f.service}/${f.region}/${f.what}`)), ...update.fetches],
  };
  if (before) writeWhole(join(dir, PREVIOUS), before);
  writeWhole(join(dir, CURRENT), next);
  return next;
}

function writeWhole(path: string, value: unknown): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(temporary, 'w', 0o644);
    try {
      writeSync(fd, JSON.stringify(value));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new ModelsweepError('invalid-input', `cannot write the price cache ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The cache as a layer of prices, labelled as such. */
export function cacheLayer(cache: PriceCacheFile): PriceLayer {
  return { origin: 'price-list', label: 'price list (cached)', prices: cache.prices };
}

/** The layers at hand on this machine, without overrides: the cache, if any, over the bundled snapshot. */
export function localPriceLayers(cacheDir: string = defaultPriceCacheDir()): PriceLayer[] {
  const cache = readPriceCache(cacheDir);
  return cache ? [cacheLayer(cache), snapshotLayer()] : [snapshotLayer()];
}

/**
 * The prices at hand on this machine, in their order of precedence: an override file (`--prices`),
 * the cache of fetched price lists, the bundled snapshot.
 */
export function localPriceBook(
  options: { readonly pricesFile?: string; readonly cacheDir?: string; readonly commitment?: Commitment } = {},
): PriceBook {
  const layers = localPriceLayers(options.cacheDir);
  if (options.pricesFile !== undefined) {
    const label = `--prices ${options.pricesFile}`;
    let raw: unknown;
    try {
      raw = JSON.parse(readBoundedFile(options.pricesFile, LIMITS.pricesBytes, '--prices').toString('utf8'));
    } catch (error) {
      if (error instanceof ModelsweepError) throw error;
      throw new ModelsweepError('invalid-input', `${label}: not JSON (${(error as Error).message})`, { cause: error });
    }
    layers.unshift(overrideLayer(raw, label));
  }
  return new PriceBook(layers, options.commitment);
}

/** One price in a flat list: `sagemakerRealtime eu-central-1 perInstanceHour ml.g6e.xlarge` → 1.234. */
export function flattenPrices(prices: PriceLayerCatalog): Map<string, number> {
  const flat = new Map<string, number>();
  const walk = (value: unknown, path: string[]) => {
    if (typeof value === 'number') flat.set(path.join(' '), value);
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, String(i)]));
    else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  for (const [service, regions] of Object.entries(prices)) if (typeof regions === 'object') walk(regions, [service]);
  return flat;
}

/** What changed between two caches: prices added, removed, and changed with old and new. */
export function diffPrices(before: PriceLayerCatalog, after: PriceLayerCatalog) {
  const a = flattenPrices(before);
  const b = flattenPrices(after);
  const added = [...b].filter(([k]) => !a.has(k)).map(([key, usd]) => ({ key, usd }));
  const removed = [...a].filter(([k]) => !b.has(k)).map(([key, usd]) => ({ key, usd }));
  const changed = [...b].filter(([k, v]) => a.has(k) && a.get(k) !== v).map(([key, usd]) => ({ key, before: a.get(key)!, after: usd }));
  return { added, removed, changed };
}
