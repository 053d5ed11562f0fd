import type { PriceLayerCatalog } from '../../catalog/price-catalog';
import { ModelsweepError } from '../../errors';
import { nearestTypes } from '../price-book';
import type { FetchRecord } from '../price-cache';
import { AWS_OFFERS, awsOfferRegions, fetchAwsOffer, fetchSavingsPlanRates, savingsPlanRegions } from './aws-offer-files';
import { fetchAzureVmPrices } from './azure-retail-prices';
import { DEFAULT_DOWNLOAD_LIMITS, type DownloadLimits } from './download';

export type PriceService = 'sagemaker' | 'lambda' | 'azure';
export const PRICE_SERVICES: readonly PriceService[] = ['sagemaker', 'lambda', 'azure'];

/** Where the price lists are: the providers' own hosts unless the environment names a mirror (or a test server). */
export function priceListUrls(env: NodeJS.ProcessEnv = process.env): { readonly aws: string; readonly azure: string } {
  const trim = (url: string) => url.replace(/\/+$/, '');
  return {
    aws: trim(env.MODELSWEEP_AWS_PRICING_URL || 'https://pricing.us-east-1.amazonaws.com'),
    azure: trim(env.MODELSWEEP_AZURE_PRICES_URL || 'https://prices.azure.com'),
  };
}

/** Azure region names have no hyphen (`westeurope`); AWS's do (`eu-central-1`). */
export const isAzureRegion = (region: string) => !region.includes('-');

export interface PriceListRequest {
  readonly services: readonly PriceService[];
  /** AWS: every region of the offer when none are given; Azure: these, else `azureRegions`. */
  readonly regions?: readonly string[];
  /** Azure regions to update when no region is given (those the cache or snapshot already has). */
  readonly azureRegions?: readonly string[];
  /** Fetch Savings Plans rates and Azure reservations too. @default true */
  readonly commitments?: boolean;
  readonly limits?: DownloadLimits;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** A line per file, as it starts and ends. */
  readonly onProgress?: (line: string) => void;
  /** Bytes of the file being read. */
  readonly onBytes?: (what: string, received: number, total: number | undefined) => void;
}

/**
 * Downloads the price lists asked for and turns them into one layer of prices, with a record of
 * every file it read. Nothing is written: the caller writes the result whole, or nothing when
 * this throws.
 */
export async function fetchPriceLists(
  request: PriceListRequest,
  urls = priceListUrls(),
): Promise<{ prices: PriceLayerCatalog; fetches: FetchRecord[]; warnings: string[] }> {
  const limits = request.limits ?? DEFAULT_DOWNLOAD_LIMITS;
  const now = request.now ?? (() => new Date());
  const prices: PriceLayerCatalog = {};
  const fetches: FetchRecord[] = [];
  const warnings: string[] = [];
  const progress = request.onProgress ?? (() => undefined);
  const options = (what: string) => ({
    limits,
    signal: request.signal,
    now,
    onBytes: (r: number, t: number | undefined) => request.onBytes?.(what, r, t),
  });

  for (const service of request.services) {
    if (service === 'azure') {
      const regions = request.regions ?? request.azureRegions ?? [];
      for (const region of regions) {
        const what = `Azure Retail Prices ${region}`;
        progress(`${what}: reading`);
        const result = await fetchAzureVmPrices(urls.azure, region, { ...options(what), onPage: (page) => request.onBytes?.(what, page, undefined) });
        if (!result.prices.azureml)
          warnings.push(`Azure Retail Prices has no Linux VM prices for ${region}: is it an Azure region (e.g. eastus, westeurope)?`);
        merge(prices, result.prices);
        fetches.push({
          service,
          region,
          what: 'vm-prices',
          url: result.meta.url,
          publicationDate: result.meta.publicationDate,
          fetchedAt: result.meta.fetchedAt,
        });
        progress(`${what}: ${Object.keys(result.prices.azureml?.[region]?.perInstanceHour ?? {}).length} VM sizes`);
      }
      continue;
    }
    const offer = AWS_OFFERS[service];
    const available = await awsOfferRegions(urls.aws, service, options(`${offer} region index`));
    const regions = request.regions ?? [...available.keys()].sort();
    const unknown = regions.filter((r) => !available.has(r));
    if (unknown.length > 0)
      throw new ModelsweepError(
        'invalid-input',
        `--region: the ${offer} price list has no ${unknown.join(', ')}; nearest: ${nearestTypes(unknown[0]!, [...available.keys()]).join(', ')}`,
      );
    for (const region of regions) {
      const what = `${offer} ${region}`;
      progress(`${what}: reading`);
      const result = await fetchAwsOffer(service, region, available.get(region)!, options(what));
      merge(prices, result.prices);
      for (const m of result.missing) warnings.push(`${what}: no ${m} found; prices under it (cache, snapshot) stay in use for it`);
      fetches.push({ service, region, what: 'on-demand', url: result.meta.url, ...published(result.meta), fetchedAt: result.meta.fetchedAt });
      progress(`${what}: done${result.meta.publicationDate ? ` (published ${result.meta.publicationDate.slice(0, 10)})` : ''}`);
    }
    if (request.commitments === false) continue;
    const plans = await savingsPlanRegions(urls.aws, service, options(`${service} Savings Plans region index`));
    for (const region of regions) {
      const url = plans.get(region);
      if (!url) {
        warnings.push(`no ${service === 'sagemaker' ? 'Machine Learning' : 'Compute'} Savings Plans rates for ${region}`);
        continue;
      }
      const what = `${service === 'sagemaker' ? 'Machine Learning' : 'Compute'} Savings Plans ${region}`;
      progress(`${what}: reading`);
      const result = await fetchSavingsPlanRates(service, region, url, options(what));
      merge(prices, result.prices);
      fetches.push({ service, region, what: 'savings-plans', url, ...published(result.meta), fetchedAt: result.meta.fetchedAt });
      progress(`${what}: ${result.rates} rates`);
    }
  }
  return { prices, fetches, warnings };
}

const published = (meta: { publicationDate?: string; version?: string }) => ({
  ...(meta.publicationDate ? { publicationDate: meta.publicationDate } : {}),
  ...(meta.version ? { version: meta.version } : {}),
});

/** Adds `more` into `into`, region blocks merged field by field (on-demand and committed rates of one region). */
export function merge(into: PriceLayerCatalog, more: PriceLayerCatalog): void {
  const target = into as Record<string, Record<string, Record<string, unknown>>>;
  for (const [service, regions] of Object.entries(more as Record<string, Record<string, Record<string, unknown>>>)) {
    if (typeof regions !== 'object' || regions === null) continue;
    for (const [region, block] of Object.entries(regions)) {
      const existing = ((target[service] ??= {})[region] ??= {});
      for (const [field, value] of Object.entries(block)) {
        existing[field] =
          typeof value === 'object' && value !== null && !Array.isArray(value) && typeof existing[field] === 'object'
            ? { ...(existing[field] as object), ...value }
            : value;
      }
    }
  }
}
