import { z } from 'zod';

import {
  bundledPrices,
  type CatalogService,
  type Commitment,
  COMMITMENTS,
  type CommittedTerm,
  type InstancePrices,
  issuesLine,
  lambdaBlockSchema,
  type LambdaPrices,
  type PriceLayerCatalog,
  priceLayerSchema,
  serverlessBlockSchema,
  type ServerlessPrices,
} from '../catalog/price-catalog';
import { ModelsweepError } from '../errors';
import type { SweepSpec } from '../spec/schema';

/** Where a layer of prices comes from, in the order they win: a user's override, a price list, the bundled snapshot. */
export type PriceOrigin = 'override' | 'price-list' | 'snapshot';
const ORIGINS = ['override', 'price-list', 'snapshot'] as const satisfies readonly PriceOrigin[];

/** One layer of prices and what to call it when a figure comes from it. */
export interface PriceLayer {
  readonly origin: PriceOrigin;
  /** How the user knows it: `--prices my.json`, `spec pricing.prices`, `AWS Price List (cached)`, `bundled snapshot`. */
  readonly label: string;
  readonly prices: PriceLayerCatalog;
}

/** The catalogs a figure can come from, named as the cost lines name them. */
export type PricedCatalog = 'lambda' | InstanceCatalog | 'sagemaker-serverless';

/** The catalogs billed by the instance-hour, each rate per instance type or SKU. */
export type InstanceCatalog = 'sagemaker-realtime' | 'sagemaker-async' | 'sagemaker-batch-transform' | 'azureml';

/** Where a figure came from: printed beside every cost line, kept with every priced candidate. */
export interface PriceSource {
  readonly catalog: PricedCatalog;
  readonly region: string;
  readonly origin: PriceOrigin;
  readonly label: string;
  /** The page or price-list URL. */
  readonly source: string;
  /** The date the figures describe (a price list's publication date); none for an override that gives none. */
  readonly asOf?: string;
  /** When the price list was downloaded. */
  readonly fetchedAt?: string;
  /** The commitment a committed rate is for. */
  readonly commitment?: CommittedTerm;
  /** Anything the figure leaves out (a commitment that does not apply). */
  readonly note?: string;
}

/** One price a candidate needs: a whole block (per-request kinds), or one instance type's rate. */
export type PriceKey =
  | { readonly catalog: 'lambda' | 'sagemaker-serverless'; readonly region: string }
  | { readonly catalog: InstanceCatalog; readonly region: string; readonly type: string };

/** The catalog block each priced catalog reads. */
export const CATALOG_SERVICE: Record<PricedCatalog, CatalogService> = {
  lambda: 'lambda',
  'sagemaker-realtime': 'sagemakerRealtime',
  'sagemaker-async': 'sagemakerAsync',
  'sagemaker-batch-transform': 'sagemakerBatchTransform',
  'sagemaker-serverless': 'sagemakerServerless',
  azureml: 'azureml',
};
const NAME: Record<PricedCatalog, string> = {
  lambda: 'Lambda',
  'sagemaker-realtime': 'SageMaker real-time',
  'sagemaker-async': 'SageMaker asynchronous inference',
  'sagemaker-batch-transform': 'SageMaker Batch Transform',
  'sagemaker-serverless': 'SageMaker serverless',
  azureml: 'Azure ML',
};
/** The `modelsweep prices update --service` that fetches each catalog. */
export const UPDATE_SERVICE: Record<PricedCatalog, 'lambda' | 'sagemaker' | 'azure'> = {
  lambda: 'lambda',
  'sagemaker-realtime': 'sagemaker',
  'sagemaker-async': 'sagemaker',
  'sagemaker-batch-transform': 'sagemaker',
  'sagemaker-serverless': 'sagemaker',
  azureml: 'azure',
};

/** The instance catalogs whose committed rates `prices update` reads (Savings Plans for hosting, Azure reservations). */
const COMMITTED_RATES_READ: ReadonlySet<PricedCatalog> = new Set(['sagemaker-realtime', 'azureml']);

/** A price older than this warns (an override never does: its figures are the user's own). */
export const STALE_AFTER_DAYS = 30;
const DAY_MS = 86_400_000;
const HOURS_PER_MONTH = 730;

/** What a block must hold once its layers are merged (its provenance comes from the layer it was found in). */
const PROVENANCE = { source: true, asOf: true, fetchedAt: true, version: true } as const;
const WHOLE_BLOCK = {
  lambda: lambdaBlockSchema.omit(PROVENANCE),
  'sagemaker-serverless': serverlessBlockSchema.omit(PROVENANCE),
};

const updateHint = (catalog: PricedCatalog, region: string) => `\`modelsweep prices update --service ${UPDATE_SERVICE[catalog]} --region ${region}\``;

/** A block's figures without its provenance (which a lookup returns as its PriceSource). */
type Rates<T> = Omit<T, 'source' | 'asOf' | 'fetchedAt' | 'version'>;

/** The provenance fields every block may carry. */
type Provenanced = { source?: string; asOf?: string; fetchedAt?: string; version?: string };

/**
 * Prices in layers, looked up in one order of precedence: overrides (the command line's, then the
 * spec's), then price lists (fetched and cached, or read from the Query API), then the bundled
 * snapshot. Every figure comes back with its {@link PriceSource}. A whole block (Lambda,
 * serverless) is the layers' fields merged, the top one winning; an instance type's rate comes
 * from the first layer that has it.
 */
export class PriceBook {
  readonly layers: readonly PriceLayer[];
  /** The commitment instance and Lambda compute rates are looked up for. @default 'on-demand' */
  readonly commitment: Commitment;

  constructor(layers: readonly PriceLayer[], commitment: Commitment = 'on-demand') {
    // Stable by origin: overrides first, the snapshot last, each origin in the order given.
    this.layers = [...layers].sort((a, b) => ORIGINS.indexOf(a.origin) - ORIGINS.indexOf(b.origin));
    this.commitment = commitment;
  }

  /** The bundled snapshot alone. */
  static snapshot(): PriceBook {
    return new PriceBook([snapshotLayer()]);
  }

  /** This book with more layers (each placed by its origin), or another commitment. */
  with(changes: { readonly layers?: readonly PriceLayer[]; readonly commitment?: Commitment }): PriceBook {
    return new PriceBook([...this.layers, ...(changes.layers ?? [])], changes.commitment ?? this.commitment);
  }

  get hoursPerMonth(): number {
    return this.layers.find((l) => l.prices.hoursPerMonth !== undefined)?.prices.hoursPerMonth ?? HOURS_PER_MONTH;
  }

  /** One instance-hour of `type` at the book's commitment, with the on-demand rate beside it. */
  instanceHour(
    catalog: InstanceCatalog,
    region: string,
    type: string,
  ): { readonly usd: number; readonly onDemandUsd: number; readonly source: PriceSource } {
    const onDemand = this.firstRate(catalog, region, (b) => b.perInstanceHour?.[type]);
    if (!onDemand) throw new ModelsweepError('not-found', this.missingType(catalog, region, type));
    if (this.commitment === 'on-demand') return { usd: onDemand.usd, onDemandUsd: onDemand.usd, source: onDemand.source };
    const term = this.commitment;
    const committed = this.firstRate(catalog, region, (b) => b.committedPerInstanceHour?.[term]?.[type]);
    // The price lists' Savings Plans rates are read for hosting only: asynchronous and batch hours are priced on demand unless overridden.
    if (!committed && !COMMITTED_RATES_READ.has(catalog))
      return {
        usd: onDemand.usd,
        onDemandUsd: onDemand.usd,
        source: { ...onDemand.source, note: `priced on demand (no ${term} rates read for ${NAME[catalog]})` },
      };
    if (!committed)
      throw new ModelsweepError(
        'not-found',
        `no ${term} rate for ${type} (${NAME[catalog]}) in ${region}: the prices at hand have none; fetch them with ${updateHint(catalog, region)}, or price on demand`,
      );
    return { usd: committed.usd, onDemandUsd: onDemand.usd, source: { ...committed.source, commitment: term } };
  }

  /** Lambda's prices in `region`, merged across the layers. */
  lambda(region: string): { readonly prices: Rates<LambdaPrices>; readonly source: PriceSource } {
    return this.block('lambda', region) as { prices: Rates<LambdaPrices>; source: PriceSource };
  }

  /**
   * SageMaker serverless inference's prices in `region`, merged across the layers. Savings Plans
   * cover serverless inference too, but no rates for it are read: under a commitment it is priced
   * on demand, and its source says so.
   */
  serverless(region: string): { readonly prices: Rates<ServerlessPrices>; readonly source: PriceSource } {
    const { prices, source } = this.block('sagemaker-serverless', region) as { prices: Rates<ServerlessPrices>; source: PriceSource };
    if (this.commitment === 'on-demand') return { prices, source };
    return { prices, source: { ...source, note: `priced on demand (no ${this.commitment} rates for serverless inference)` } };
  }

  /** Every instance type or SKU with an on-demand rate in `region`, across the layers (what a catalog selection picks from). */
  typesPricedIn(catalog: InstanceCatalog, region: string): string[] {
    return [...new Set(this.blocksOf(catalog, region).flatMap(({ block }) => Object.keys((block as Partial<InstancePrices>).perInstanceHour ?? {})))];
  }

  /** Where the figure for `key` comes from; throws as the lookup would when there is none. */
  sourceOf(key: PriceKey): PriceSource {
    switch (key.catalog) {
      case 'lambda':
        return this.lambda(key.region).source;
      case 'sagemaker-serverless':
        return this.serverless(key.region).source;
      default:
        return this.instanceHour(key.catalog, key.region, key.type).source;
    }
  }

  /** Every key this book cannot price, each with what to do. */
  problems(keys: readonly PriceKey[]): string[] {
    const problems = new Set<string>();
    for (const key of keys) {
      try {
        this.sourceOf(key);
      } catch (error) {
        if (!(error instanceof ModelsweepError)) throw error;
        problems.add(error.message);
      }
    }
    return [...problems];
  }

  /**
   * Just the layers' figures that `keys` need, in the same layers: what a sweep records, so that
   * every later step prices from the same figures, whatever the cache or the price list says then.
   */
  subset(keys: readonly PriceKey[]): PriceBook {
    const layers = this.layers.flatMap((layer): PriceLayer[] => {
      const prices: Record<string, Record<string, Record<string, unknown>>> = {};
      for (const key of keys) {
        const service = CATALOG_SERVICE[key.catalog];
        const block = layer.prices[service]?.[key.region] as (Provenanced & Partial<InstancePrices>) | undefined;
        if (!block) continue;
        const regions = (prices[service] ??= {});
        if (!('type' in key)) {
          regions[key.region] = block;
          continue;
        }
        const rates: Record<string, unknown> = {};
        if (block.perInstanceHour?.[key.type] !== undefined) rates.perInstanceHour = { [key.type]: block.perInstanceHour[key.type] };
        const committed = Object.entries(block.committedPerInstanceHour ?? {}).flatMap(([term, byType]) =>
          byType?.[key.type] !== undefined ? [[term, { [key.type]: byType[key.type]! }] as const] : [],
        );
        if (committed.length > 0) rates.committedPerInstanceHour = Object.fromEntries(committed);
        // Only what this layer gives the key: a block it has nothing for in it is left out.
        if (Object.keys(rates).length > 0)
          regions[key.region] = deepMerge(regions[key.region] ?? provenanceOf(block), rates) as Record<string, unknown>;
      }
      const kept = Object.fromEntries(Object.entries(prices).filter(([, regions]) => Object.keys(regions).length > 0));
      return Object.keys(kept).length > 0 ? [{ ...layer, prices: kept as PriceLayerCatalog }] : [];
    });
    // The month's length goes with the figures, wherever it was set.
    if (layers.length > 0 && this.hoursPerMonth !== HOURS_PER_MONTH)
      layers[0] = { ...layers[0]!, prices: { ...layers[0]!.prices, hoursPerMonth: this.hoursPerMonth } };
    return new PriceBook(layers, this.commitment);
  }

  /** Warnings for figures older than {@link STALE_AFTER_DAYS}, one per source, each saying how to refresh it. */
  staleness(keys: readonly PriceKey[], now: Date): string[] {
    const warnings = new Set<string>();
    for (const key of keys) {
      let source: PriceSource;
      try {
        source = this.sourceOf(key);
      } catch {
        continue;
      }
      const warning = stalenessOf(source, now);
      if (warning) warnings.add(warning);
    }
    return [...warnings];
  }

  /** The book as JSON: what a sweep records. */
  toJSON(): RecordedPrices {
    return { commitment: this.commitment, layers: this.layers.map((l) => ({ origin: l.origin, label: l.label, prices: l.prices })) };
  }

  /** A book from what a sweep recorded. */
  static fromRecorded(recorded: unknown): PriceBook {
    const parsed = recordedPricesSchema.safeParse(recorded);
    if (!parsed.success) throw new ModelsweepError('invalid-input', `the sweep's recorded prices: ${issuesLine(parsed.error)}`);
    return new PriceBook(parsed.data.layers as PriceLayer[], parsed.data.commitment);
  }

  private sourceIn(layer: PriceLayer, catalog: PricedCatalog, region: string, block: Provenanced): PriceSource {
    return {
      catalog,
      region,
      origin: layer.origin,
      label: layer.label,
      source: block.source ?? layer.label,
      ...(block.asOf ? { asOf: block.asOf } : {}),
      ...(block.fetchedAt ? { fetchedAt: block.fetchedAt } : {}),
    };
  }

  private blocksOf(catalog: PricedCatalog, region: string): Array<{ layer: PriceLayer; block: Record<string, unknown> & Provenanced }> {
    const service = CATALOG_SERVICE[catalog];
    return this.layers.flatMap((layer) => {
      const block = layer.prices[service]?.[region];
      return block ? [{ layer, block: block as Record<string, unknown> & Provenanced }] : [];
    });
  }

  private firstRate(
    catalog: InstanceCatalog,
    region: string,
    rateOf: (block: Partial<InstancePrices>) => number | undefined,
  ): { usd: number; source: PriceSource } | undefined {
    for (const { layer, block } of this.blocksOf(catalog, region)) {
      const usd = rateOf(block);
      if (usd !== undefined) return { usd, source: this.sourceIn(layer, catalog, region, block) };
    }
    return undefined;
  }

  private block(catalog: 'lambda' | 'sagemaker-serverless', region: string) {
    const schema: z.ZodType = WHOLE_BLOCK[catalog];
    const found = this.blocksOf(catalog, region);
    if (found.length === 0) throw new ModelsweepError('not-found', this.missingRegion(catalog, region));
    // The bottom layer first, each one above it overriding the fields it has.
    let merged: Record<string, unknown> = {};
    for (const { block } of [...found].reverse()) merged = deepMerge(merged, block) as Record<string, unknown>;
    const parsed = schema.safeParse(withoutProvenance(merged));
    const top = found[0]!;
    if (!parsed.success)
      throw new ModelsweepError(
        'not-found',
        `${NAME[catalog]} prices for ${region} are incomplete (${found.map((f) => f.layer.label).join(' over ')}): ${issuesLine(parsed.error)}; fetch them with ${updateHint(catalog, region)}`,
      );
    // A partial override says what it stands on.
    const under = found.find((f) => schema.safeParse(withoutProvenance(f.block)).success);
    const source = this.sourceIn(top.layer, catalog, region, top.block);
    const labelled = under && under !== top ? { ...source, label: `${top.layer.label} over ${under.layer.label}` } : source;
    return { prices: parsed.data, source: labelled };
  }

  private knownRegions(catalog: PricedCatalog): string[] {
    return [...new Set(this.layers.flatMap((l) => Object.keys(l.prices[CATALOG_SERVICE[catalog]] ?? {})))].sort();
  }

  private missingRegion(catalog: PricedCatalog, region: string): string {
    const known = this.knownRegions(catalog);
    return `no ${NAME[catalog]} prices for region ${region}${known.length ? ` (prices at hand: ${known.join(', ')})` : ''}; fetch them with ${updateHint(catalog, region)}, or give them with --prices`;
  }

  private missingType(catalog: InstanceCatalog, region: string, type: string): string {
    const inRegion = this.typesPricedIn(catalog, region);
    if (inRegion.length === 0) return this.missingRegion(catalog, region);
    const nearest = nearestTypes(type, inRegion);
    return `no price for ${type} (${NAME[catalog]}) in ${region} in ${this.blocksOf(catalog, region)
      .map(({ layer, block }) => `${layer.label}${block.asOf ? ` (${block.asOf})` : ''}`)
      .join(', ')}; nearest priced: ${nearest.join(', ')}; fetch current prices with ${updateHint(catalog, region)}, or give it with --prices`;
  }
}

/** The bundled snapshot as a layer. */
export function snapshotLayer(): PriceLayer {
  return { origin: 'snapshot', label: 'bundled snapshot', prices: bundledPrices() };
}

/**
 * A user's partial catalog as an override layer, validated: an error names `label` and the field.
 * Keys that would reach an object's prototype are refused (JSON may carry them).
 */
export function overrideLayer(raw: unknown, label: string): PriceLayer {
  refusePrototypeKeys(raw, label, 0);
  const parsed = priceLayerSchema.safeParse(raw);
  if (!parsed.success) throw new ModelsweepError('invalid-input', `${label}: ${issuesLine(parsed.error)}`);
  return { origin: 'override', label, prices: parsed.data };
}

/**
 * Up to four known names closest to `name`: the same family letter first, then the nearest
 * generation, the same variant and the same size (`ml.g6e.xlarge` → `ml.g6.xlarge`,
 * `ml.g6.2xlarge`, `ml.g5.xlarge`), the longest common prefix breaking ties.
 */
export function nearestTypes(name: string, known: readonly string[]): string[] {
  const parts = (t: string) => {
    const lower = t
      .toLowerCase()
      .replace(/^ml\./, '')
      .replace(/^standard_/, '');
    const [family = '', size = ''] = lower.split(/[._]/);
    const [, letters = '', generation = '', variant = ''] = /^([a-z]*)(\d*)(.*)$/.exec(family) ?? [];
    return { lower, letters, generation: Number(generation || 0), variant, size };
  };
  const want = parts(name);
  const score = (t: string) => {
    const got = parts(t);
    let prefix = 0;
    while (prefix < Math.min(want.lower.length, got.lower.length) && want.lower[prefix] === got.lower[prefix]) prefix += 1;
    return (
      (got.letters === want.letters ? 100 : 0) -
      10 * Math.abs(got.generation - want.generation) +
      (got.variant === want.variant ? 5 : 0) +
      (got.size === want.size ? 8 : 0) +
      prefix / 100
    );
  };
  return [...known].sort((a, b) => score(b) - score(a) || a.localeCompare(b)).slice(0, 4);
}

/** A warning when `source` is older than {@link STALE_AFTER_DAYS} (never for an override). */
export function stalenessOf(source: PriceSource, now: Date): string | undefined {
  if (source.origin === 'override') return undefined;
  const dated = source.fetchedAt ?? source.asOf;
  if (!dated) return undefined;
  const days = Math.floor((now.getTime() - Date.parse(dated.length === 7 ? `${dated}-01` : dated)) / DAY_MS);
  if (!(days > STALE_AFTER_DAYS)) return undefined;
  const age = days >= 60 ? `${Math.floor(days / 30.4)} months old` : `${days} days old`;
  const what = source.origin === 'snapshot' ? `the ${source.label} dated ${source.asOf}` : `${source.label}, fetched ${dated.slice(0, 10)}`;
  return `${NAME[source.catalog]} prices for ${source.region} come from ${what} (${age}); refresh them with ${updateHint(source.catalog, source.region)}`;
}

/** A figure's source in one line: `AWS Price List (cached), eu-central-1, published 2026-12-01, fetched 2026-12-05`. */
export function describeSource(source: PriceSource): string {
  const parts = [source.origin === 'override' ? `override (${source.label})` : source.label, source.region];
  if (source.origin !== 'override' || source.source !== source.label) parts.splice(1, 0, source.source);
  if (source.asOf) parts.push(`${source.origin === 'price-list' ? 'published' : 'as of'} ${source.asOf}`);
  if (source.fetchedAt) parts.push(`fetched ${source.fetchedAt.slice(0, 10)}`);
  if (source.commitment) parts.push(`${source.commitment} rate`);
  if (source.note) parts.push(source.note);
  return [...new Set(parts)].join(', ');
}

const recordedPricesSchema = z.strictObject({
  commitment: z.enum(COMMITMENTS).default('on-demand'),
  layers: z.array(z.strictObject({ origin: z.enum(ORIGINS), label: z.string().min(1).max(300), prices: priceLayerSchema })).max(16),
});

/** What a sweep records of its prices: the commitment, and the figures it needs in their layers. */
export type RecordedPrices = z.input<typeof recordedPricesSchema>;

function withoutProvenance(block: Record<string, unknown>): Record<string, unknown> {
  const { source: _source, asOf: _asOf, fetchedAt: _fetchedAt, version: _version, ...rest } = block;
  return rest;
}

function provenanceOf(block: Provenanced): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const field of ['source', 'asOf', 'fetchedAt', 'version'] as const) if (block[field] !== undefined) kept[field] = block[field];
  return kept;
}

function deepMerge(target: unknown, source: unknown): unknown {
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return source;
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [key, value] of Object.entries(source)) out[key] = deepMerge(out[key], value);
  return out;
}

function refusePrototypeKeys(value: unknown, label: string, depth: number): void {
  if (typeof value !== 'object' || value === null || depth > 8) return;
  for (const key of Object.keys(value)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype')
      throw new ModelsweepError('invalid-input', `${label}: "${key}" is not a field of the price catalog`);
    refusePrototypeKeys((value as Record<string, unknown>)[key], label, depth + 1);
  }
}

/** The book a spec prices with: the one given, under the spec's own `pricing.prices`, at its commitment. */
export function specPrices(spec: Pick<SweepSpec, 'pricing'>, prices: PriceBook): PriceBook {
  const book = prices.with({ commitment: spec.pricing?.commitment ?? 'on-demand' });
  return spec.pricing?.prices ? book.with({ layers: [overrideLayer(spec.pricing.prices, 'spec pricing.prices')] }) : book;
}
