import type { CommittedTerm, PriceLayerCatalog } from '../../catalog/price-catalog';
import { ModelsweepError } from '../../errors';
import type { OfferMeta } from './aws-products';
import { type DownloadLimits, fetchJson, linkOnBase } from './download';

/** More pages than a region's VM meters fill (a few hundred): a server that pages forever is cut off. */
export const MAX_AZURE_PAGES = 2000;
const HOURS_PER_YEAR = 8760;

/** One row of the Retail Prices API, as far as modelsweep reads it. */
interface RetailPrice {
  readonly currencyCode?: string;
  readonly retailPrice?: number;
  readonly armRegionName?: string;
  readonly armSkuName?: string;
  readonly productName?: string;
  readonly skuName?: string;
  readonly meterName?: string;
  readonly serviceName?: string;
  readonly unitOfMeasure?: string;
  readonly type?: string;
  readonly reservationTerm?: string;
  readonly isPrimaryMeterRegion?: boolean;
  readonly effectiveStartDate?: string;
}

/**
 * A region's VM prices from Azure Retail Prices (`{base}/api/retail/prices?$filter=…`, paged by
 * `NextPageLink`): the Linux, pay-as-you-go meter of each SKU (not Windows, Spot or Low Priority),
 * which is what a managed online endpoint bills, and reservations as effective hourly rates (a
 * reservation costs the same paid monthly or upfront, so it prices both the no-upfront and the
 * all-upfront commitment of its term).
 */
export async function fetchAzureVmPrices(
  base: string,
  region: string,
  options: { readonly limits: DownloadLimits; readonly signal?: AbortSignal; readonly now: () => Date; readonly onPage?: (page: number) => void },
): Promise<{ prices: PriceLayerCatalog; meta: OfferMeta; skipped: number }> {
  const filter = `serviceName eq 'Virtual Machines' and armRegionName eq '${region.replace(/'/g, "''")}'`;
  const first = `${base}/api/retail/prices?currencyCode='USD'&$filter=${encodeURIComponent(filter)}`;
  const perHour: Record<string, { usd: number; primary: boolean }> = {};
  const committed: Partial<Record<CommittedTerm, Record<string, number>>> = {};
  let skipped = 0;
  let latest = '';
  let next: string | undefined = first;
  for (let page = 1; next; page += 1) {
    if (page > MAX_AZURE_PAGES) throw new ModelsweepError('platform', `${first}: more than ${MAX_AZURE_PAGES} pages`);
    const body = (await fetchJson(next, options.limits, options)) as { Items?: unknown; NextPageLink?: unknown } | undefined;
    if (!body || !Array.isArray(body.Items)) throw new ModelsweepError('platform', `${next}: not a Retail Prices page (no Items)`);
    for (const item of body.Items as RetailPrice[]) {
      const sku = item.armSkuName;
      const usd = item.retailPrice;
      if (!sku || typeof usd !== 'number' || item.armRegionName !== region || item.serviceName !== 'Virtual Machines') continue;
      if (item.currencyCode !== 'USD') {
        skipped += 1;
        continue;
      }
      if (item.effectiveStartDate && item.effectiveStartDate > latest) latest = item.effectiveStartDate;
      if (item.type === 'Consumption' && isLinuxPayAsYouGo(item) && item.unitOfMeasure === '1 Hour') {
        const primary = item.isPrimaryMeterRegion !== false;
        if (!perHour[sku] || (primary && !perHour[sku].primary)) perHour[sku] = { usd, primary };
      } else if (item.type === 'Reservation') {
        const years = /^([13]) Years?$/.exec(item.reservationTerm ?? '')?.[1];
        if (!years) continue;
        const hourly = usd / (Number(years) * HOURS_PER_YEAR);
        for (const option of ['no-upfront', 'all-upfront'] as const) (committed[`${years}y-${option}` as CommittedTerm] ??= {})[sku] = hourly;
      }
    }
    options.onPage?.(page);
    next = typeof body.NextPageLink === 'string' && body.NextPageLink ? sameOrigin(base, body.NextPageLink, next) : undefined;
  }
  const fetchedAt = options.now().toISOString();
  const meta: OfferMeta = { region, url: first, publicationDate: latest ? latest.slice(0, 10) : undefined, fetchedAt };
  const rates = Object.fromEntries(
    Object.entries(perHour)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([sku, p]) => [sku, p.usd]),
  );
  if (Object.keys(rates).length === 0) return { prices: {}, meta, skipped };
  return {
    prices: {
      azureml: {
        [region]: {
          source: first,
          asOf: (meta.publicationDate ?? fetchedAt).slice(0, 10),
          fetchedAt,
          perInstanceHour: rates,
          ...(Object.keys(committed).length ? { committedPerInstanceHour: committed } : {}),
        },
      },
    },
    meta,
    skipped,
  };
}

function isLinuxPayAsYouGo(item: RetailPrice): boolean {
  const text = `${item.productName ?? ''} ${item.skuName ?? ''} ${item.meterName ?? ''}`;
  return !/Windows|Spot|Low Priority/i.test(text);
}

function sameOrigin(base: string, link: string, from: string): string {
  const url = new URL(link, `${base}/`);
  // The real API's links name its own host: follow them on the configured base (a mirror, a test server).
  const onConfigured = url.hostname === 'prices.azure.com' ? `${base}${url.pathname}${url.search}` : link;
  return linkOnBase(base, onConfigured, from, 'NextPageLink points');
}
