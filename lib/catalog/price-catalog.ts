import { z } from 'zod';

import defaultPrices from './prices.json';

/**
 * How capacity is bought: on demand, or under a 1- or 3-year commitment (AWS Savings Plans,
 * Azure reservations) paid with no, part or all of it upfront. A committed rate is the
 * effective hourly rate (any upfront payment spread over the term).
 */
export const COMMITMENTS = [
  'on-demand',
  '1y-no-upfront',
  '1y-partial-upfront',
  '1y-all-upfront',
  '3y-no-upfront',
  '3y-partial-upfront',
  '3y-all-upfront',
] as const;
export type Commitment = (typeof COMMITMENTS)[number];
export type CommittedTerm = Exclude<Commitment, 'on-demand'>;
const committedTerm = z.enum(COMMITMENTS.filter((c): c is CommittedTerm => c !== 'on-demand'));

/** Where a block's figures came from: a page or a price-list URL, and the date they describe. */
const provenance = {
  source: z.string().min(1),
  asOf: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'asOf is a date like 2026-11 or 2026-11-30'),
  /** When a price list was downloaded (fetched blocks only). */
  fetchedAt: z.iso.datetime().optional(),
  /** The price list's own version (AWS offer files have one). */
  version: z.string().max(64).optional(),
};
const usd = z.number().nonnegative();
const tier = z.strictObject({ upToGbSecondsPerMonth: z.number().positive().nullable(), price: usd });
const byArch = <T extends z.ZodType>(t: T) => z.strictObject({ x86_64: t, arm64: t });
const byMemory = z.record(z.string().regex(/^\d+$/, 'a memory size in MB'), usd);
const byType = z.record(z.string().min(1).max(64), usd);

export const lambdaBlockSchema = z.strictObject({
  ...provenance,
  computePerGbSecond: byArch(z.array(tier).min(1)),
  requestsPerMillion: usd,
  freeTier: z.strictObject({ requests: usd, gbSeconds: usd }),
  ephemeralStoragePerGbSecond: usd,
  ephemeralStorageFreeMb: usd,
  provisionedConcurrency: byArch(z.strictObject({ perGbSecond: usd, durationPerGbSecond: usd })),
  /** Compute Savings Plans' rate for on-demand duration, by term and architecture (no volume tiers). */
  committedComputePerGbSecond: z.partialRecord(committedTerm, z.strictObject({ x86_64: usd.optional(), arm64: usd.optional() })).optional(),
});

export const instanceBlockSchema = z.strictObject({
  ...provenance,
  perInstanceHour: byType,
  /** Effective hourly rates under a commitment, by term and instance type or SKU. */
  committedPerInstanceHour: z.partialRecord(committedTerm, byType).optional(),
});

export const serverlessBlockSchema = z.strictObject({
  ...provenance,
  computePerSecondByMemoryMb: byMemory,
  dataProcessingPerGb: usd,
  provisionedConcurrencyPerSecondByMemoryMb: byMemory.optional(),
  provisionedDurationPerSecondByMemoryMb: byMemory.optional(),
});

export type LambdaPrices = z.infer<typeof lambdaBlockSchema>;
export type InstancePrices = z.infer<typeof instanceBlockSchema>;
export type ServerlessPrices = z.infer<typeof serverlessBlockSchema>;

/** The services a catalog prices, each by region. */
export const CATALOG_SERVICES = [
  'lambda',
  'sagemakerRealtime',
  'sagemakerAsync',
  'sagemakerBatchTransform',
  'sagemakerServerless',
  'azureml',
] as const;
export type CatalogService = (typeof CATALOG_SERVICES)[number];

const region = z.string().min(1).max(64);

/** A whole catalog: the bundled snapshot. */
export const priceCatalogSchema = z.strictObject({
  currency: z.literal('USD'),
  hoursPerMonth: z.number().positive(),
  note: z.string().optional(),
  lambda: z.record(region, lambdaBlockSchema),
  sagemakerRealtime: z.record(region, instanceBlockSchema),
  /** Asynchronous Inference endpoints' instance-hours (the price lists' `AsyncInf` SKUs); none bundled. */
  sagemakerAsync: z.record(region, instanceBlockSchema).default({}),
  /** Batch Transform jobs' instance-hours (the price lists' `BatchTransform` SKUs); none bundled. */
  sagemakerBatchTransform: z.record(region, instanceBlockSchema).default({}),
  sagemakerServerless: z.record(region, serverlessBlockSchema),
  azureml: z.record(region, instanceBlockSchema),
});
export type PriceCatalog = z.infer<typeof priceCatalogSchema>;

/**
 * Part of a catalog: an override (`--prices`, a spec's `pricing.prices`) or a fetched price list.
 * Any block may be partial; it is completed by the layers under it (see PriceBook).
 */
export const priceLayerSchema = z.strictObject({
  currency: z.literal('USD').optional(),
  hoursPerMonth: z.number().positive().max(744, 'hoursPerMonth is at most 744 (31 days)').optional(),
  note: z.string().max(10_000).optional(),
  lambda: z.record(region, lambdaBlockSchema.partial()).optional(),
  sagemakerRealtime: z.record(region, instanceBlockSchema.partial()).optional(),
  sagemakerAsync: z.record(region, instanceBlockSchema.partial()).optional(),
  sagemakerBatchTransform: z.record(region, instanceBlockSchema.partial()).optional(),
  sagemakerServerless: z.record(region, serverlessBlockSchema.partial()).optional(),
  azureml: z.record(region, instanceBlockSchema.partial()).optional(),
});
export type PriceLayerCatalog = z.infer<typeof priceLayerSchema>;

/** The bundled snapshot, validated. */
export function bundledPrices(): PriceCatalog {
  return priceCatalogSchema.parse(defaultPrices);
}

/** The problems of a zod parse as one line: `path: message; …` (at most five). */
export function issuesLine(error: z.ZodError, root = '(catalog)'): string {
  const problems = error.issues.map((issue) => `${issue.path.join('.') || root}: ${issue.message}`);
  return `${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`;
}
