import type { PriceLayerCatalog } from '../../catalog/price-catalog';
import { ModelsweepError } from '../../errors';
import { committedTermOf, OfferAccumulator, type OfferMeta, type OfferProduct } from './aws-products';
import { type DownloadLimits, fetchJson, linkOnBase, type OnBytes, streamJson } from './download';

/** The AWS offers modelsweep reads, by the `prices update --service` that asks for them. */
export const AWS_OFFERS = { sagemaker: 'AmazonSageMaker', lambda: 'AWSLambda' } as const;
/** The Savings Plans that discount each: SageMaker's Machine Learning Savings Plans, Compute Savings Plans for Lambda. */
const SAVINGS_PLANS = { sagemaker: 'AWSMachineLearningSavingsPlans', lambda: 'AWSComputeSavingsPlan' } as const;

interface FetchOptions {
  readonly limits: DownloadLimits;
  readonly signal?: AbortSignal;
  readonly onBytes?: OnBytes;
  readonly now: () => Date;
}

/** The regions an offer has, each with the URL of its current file (`/offers/v1.0/aws/{offer}/current/region_index.json`). */
export async function awsOfferRegions(base: string, service: keyof typeof AWS_OFFERS, options: FetchOptions): Promise<Map<string, string>> {
  const url = `${base}/offers/v1.0/aws/${AWS_OFFERS[service]}/current/region_index.json`;
  const index = (await fetchJson(url, options.limits, options)) as { regions?: Record<string, { currentVersionUrl?: string }> } | undefined;
  const regions = new Map<string, string>();
  for (const [region, entry] of Object.entries(index?.regions ?? {})) {
    if (typeof entry?.currentVersionUrl === 'string') regions.set(region, linkOnBase(base, entry.currentVersionUrl, url));
  }
  if (regions.size === 0) throw new ModelsweepError('platform', `${url}: not an offer region index (no regions with a currentVersionUrl)`);
  return regions;
}

/** One region's offer file, streamed: the prices modelsweep bills by, with where they came from. */
export async function fetchAwsOffer(
  service: keyof typeof AWS_OFFERS,
  region: string,
  url: string,
  options: FetchOptions,
): Promise<{ prices: PriceLayerCatalog; missing: string[]; meta: OfferMeta }> {
  const offers = new OfferAccumulator(AWS_OFFERS[service]);
  const head: Record<string, string> = {};
  let products = 0;
  await streamJson(
    url,
    ['$.products.*', '$.terms.*.*', '$.publicationDate', '$.version', '$.offerCode'],
    (value, path) => {
      if (path[0] === 'products') {
        products += 1;
        offers.addProduct(value as OfferProduct);
      } else if (path[0] === 'terms') {
        if (path[1] === 'OnDemand') offers.addOnDemandTerms(String(path[2]), value);
      } else if (typeof value === 'string') head[String(path[0])] = value;
    },
    options.limits,
    options,
  );
  if (products === 0) throw new ModelsweepError('platform', `${url}: not an offer file (no products)`);
  if (head.offerCode && head.offerCode !== AWS_OFFERS[service])
    throw new ModelsweepError('platform', `${url}: is the ${head.offerCode} offer, not ${AWS_OFFERS[service]}`);
  const meta: OfferMeta = { region, url, publicationDate: head.publicationDate, version: head.version, fetchedAt: options.now().toISOString() };
  return { ...offers.blocks(meta), meta };
}

/** The regions a Savings Plans offer has (`/savingsPlan/v1.0/aws/{plan}/current/region_index.json`). */
export async function savingsPlanRegions(base: string, service: keyof typeof AWS_OFFERS, options: FetchOptions): Promise<Map<string, string>> {
  const url = `${base}/savingsPlan/v1.0/aws/${SAVINGS_PLANS[service]}/current/region_index.json`;
  const index = (await fetchJson(url, options.limits, options)) as { regions?: Array<{ regionCode?: string; versionUrl?: string }> } | undefined;
  const regions = new Map<string, string>();
  for (const entry of Array.isArray(index?.regions) ? index.regions : []) {
    if (typeof entry?.regionCode === 'string' && typeof entry.versionUrl === 'string')
      regions.set(entry.regionCode, linkOnBase(base, entry.versionUrl, url));
  }
  if (regions.size === 0) throw new ModelsweepError('platform', `${url}: not a Savings Plans region index (no regions with a versionUrl)`);
  return regions;
}

/**
 * One region's Savings Plans rates for what modelsweep bills: SageMaker hosting instances
 * (usage types `…-Host:ml.*`) or Lambda duration (`…Lambda-GB-Second`, `-ARM`). A rate is the
 * effective hourly (or per GB-second) rate of a plan's term and payment option.
 */
export async function fetchSavingsPlanRates(
  service: keyof typeof AWS_OFFERS,
  region: string,
  url: string,
  options: FetchOptions,
): Promise<{ prices: PriceLayerCatalog; meta: OfferMeta; rates: number }> {
  const plans = new Map<string, string>();
  const committed: Record<string, Record<string, number>> = {};
  const head: Record<string, string> = {};
  let rates = 0;
  await streamJson(
    url,
    ['$.products.*', '$.terms.savingsPlan.*', '$.publicationDate', '$.version'],
    (value, path) => {
      if (path[0] === 'products') {
        const p = value as { sku?: string; attributes?: { purchaseTerm?: string; purchaseOption?: string } };
        const term = committedTermOf(p.attributes?.purchaseTerm, p.attributes?.purchaseOption);
        if (p.sku && term) plans.set(p.sku, term);
      } else if (path[0] === 'terms') {
        const t = value as {
          sku?: string;
          rates?: Array<{ discountedServiceCode?: string; discountedUsageType?: string; discountedRate?: { price?: string; currency?: string } }>;
        };
        const term = t.sku ? plans.get(t.sku) : undefined;
        if (!term) return;
        for (const r of t.rates ?? []) {
          if (r.discountedRate?.currency !== undefined && r.discountedRate.currency !== 'USD') continue;
          const price = Number(r.discountedRate?.price);
          if (!Number.isFinite(price)) continue;
          const usage = r.discountedUsageType ?? '';
          let key: string | undefined;
          if (service === 'sagemaker' && r.discountedServiceCode === 'AmazonSageMaker') key = /-Host:(ml\.[\w.-]+)$/.exec(usage)?.[1];
          else if (
            service === 'lambda' &&
            r.discountedServiceCode === 'AWSLambda' &&
            /Lambda-GB-Second(-ARM)?$/.test(usage) &&
            !/Provisioned/.test(usage)
          )
            key = usage.endsWith('-ARM') ? 'arm64' : 'x86_64';
          if (!key) continue;
          (committed[term] ??= {})[key] = price;
          rates += 1;
        }
      } else if (typeof value === 'string') head[String(path[0])] = value;
    },
    options.limits,
    options,
  );
  const meta: OfferMeta = { region, url, publicationDate: head.publicationDate, version: head.version, fetchedAt: options.now().toISOString() };
  const prices: PriceLayerCatalog =
    rates === 0
      ? {}
      : service === 'sagemaker'
        ? { sagemakerRealtime: { [region]: { committedPerInstanceHour: committed } } }
        : { lambda: { [region]: { committedComputePerGbSecond: committed } } };
  return { prices, meta, rates };
}
