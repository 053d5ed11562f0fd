import { z } from 'zod';

import { ModelsweepError } from '../errors';
import { LIMITS } from '../spec/limits';
import { readBoundedFile } from '../util/bounded-file';
import defaultPrices from './prices.json';

const dated = { source: z.string().min(1), asOf: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'asOf is a date like 2026-11') };
const tier = z.strictObject({ upToGbSecondsPerMonth: z.number().positive().nullable(), price: z.number().nonnegative() });
const byArch = <T extends z.ZodType>(t: T) => z.strictObject({ x86_64: t, arm64: t });
const byMemory = z.record(z.string().regex(/^\d+$/), z.number().nonnegative());

export const priceCatalogSchema = z.strictObject({
  currency: z.literal('USD'),
  hoursPerMonth: z.number().positive(),
  note: z.string().optional(),
  lambda: z.record(
    z.string(),
    z.strictObject({
      ...dated,
      computePerGbSecond: byArch(z.array(tier).min(1)),
      requestsPerMillion: z.number().nonnegative(),
      freeTier: z.strictObject({ requests: z.number().nonnegative(), gbSeconds: z.number().nonnegative() }),
      ephemeralStoragePerGbSecond: z.number().nonnegative(),
      ephemeralStorageFreeMb: z.number().nonnegative(),
      provisionedConcurrency: byArch(z.strictObject({ perGbSecond: z.number().nonnegative(), durationPerGbSecond: z.number().nonnegative() })),
    }),
  ),
  sagemakerRealtime: z.record(z.string(), z.strictObject({ ...dated, perInstanceHour: z.record(z.string(), z.number().nonnegative()) })),
  sagemakerServerless: z.record(
    z.string(),
    z.strictObject({
      ...dated,
      computePerSecondByMemoryMb: byMemory,
      dataProcessingPerGb: z.number().nonnegative(),
      provisionedConcurrencyPerSecondByMemoryMb: byMemory,
      provisionedDurationPerSecondByMemoryMb: byMemory,
    }),
  ),
  azureml: z.record(z.string(), z.strictObject({ ...dated, perInstanceHour: z.record(z.string(), z.number().nonnegative()) })),
});

export type PriceCatalog = z.infer<typeof priceCatalogSchema>;

/** Where a figure came from, printed beside every cost line. */
export interface PriceSource {
  readonly catalog: string;
  readonly region: string;
  readonly source: string;
  readonly asOf: string;
}

/** The built-in catalog, validated. */
export function builtInPrices(): PriceCatalog {
  return priceCatalogSchema.parse(defaultPrices);
}

/**
 * The built-in catalog with a user's overrides merged in: an override file holds any part of the
 * catalog (e.g. one region's prices, or one instance type's) and wins over the built-in value.
 */
export function pricesWithOverrides(overrides?: unknown): PriceCatalog {
  const merged = overrides === undefined ? defaultPrices : deepMerge(structuredClone(defaultPrices), overrides);
  const parsed = priceCatalogSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(catalog)'}: ${issue.message}`);
    throw new ModelsweepError(
      'invalid-input',
      `price overrides: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
    );
  }
  return parsed.data;
}

/** Reads an override file (JSON) and merges it in, with an error naming the file. */
export function pricesFromFile(file: string | undefined): PriceCatalog {
  if (file === undefined) return builtInPrices();
  let overrides: unknown;
  try {
    overrides = JSON.parse(readBoundedFile(file, LIMITS.pricesBytes, '--prices').toString('utf8'));
  } catch (error) {
    if (error instanceof ModelsweepError) throw error;
    throw new ModelsweepError('invalid-input', `--prices ${file}: not JSON (${(error as Error).message})`, { cause: error });
  }
  return pricesWithOverrides(overrides);
}

function deepMerge(target: any, source: any): unknown {
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return source;
  const out = typeof target === 'object' && target !== null && !Array.isArray(target) ? target : {};
  for (const [key, value] of Object.entries(source)) {
    // JSON may carry a "__proto__" key; merging it would replace the clone's prototype.
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      throw new ModelsweepError('invalid-input', `price overrides: "${key}" is not a field of the price catalog`);
    }
    out[key] = deepMerge(out[key], value);
  }
  return out;
}

/** The block for `region`, or an error listing the regions the catalog has. */
export function regionBlock<T>(table: Record<string, T>, region: string, what: string): T {
  const block = table[region];
  if (!block)
    throw new ModelsweepError(
      'invalid-input',
      `no ${what} prices for region ${region}; the catalog has ${Object.keys(table).join(', ')} (add one with --prices)`,
    );
  return block;
}
