import type { CommittedTerm, PriceLayerCatalog } from '../../catalog/price-catalog';
import { CATALOG_SERVICE, type InstanceCatalog } from '../price-book';

/**
 * How AWS Price List products map to what modelsweep bills, in one place. Checked against public
 * parsers of the offer files: SageMaker hosting is productFamily "ML Instance" with
 * `platoinstancetype` (or `component`) "Hosting" and the type in `instanceName`; "AsyncInf"
 * (asynchronous endpoints) and "BatchTransform" (transform jobs) are priced apart in the same
 * way; Training, Notebook and the rest are other values of the same attribute and are never taken
 * for any of them. Serverless on demand is usagetype `…ServerlessInf:Mem-4GB`
 * per second. Lambda's products are told apart by `group` (`AWS-Lambda-Duration`,
 * `AWS-Lambda-Requests`, `…-ARM`, `AWS-Lambda-Provisioned-Concurrency`, `AWS-Lambda-Duration-Provisioned`).
 * Serverless provisioned concurrency and data processing follow the same usagetype pattern and
 * are taken where present; a region without them keeps what the layers under it have.
 */
export type ProductCharge =
  | { readonly service: 'sagemaker'; readonly charge: InstanceUse; readonly instanceType: string }
  | {
      readonly service: 'sagemaker';
      readonly charge: 'serverless-compute' | 'serverless-provisioned' | 'serverless-provisioned-duration';
      readonly memoryMb: number;
    }
  | { readonly service: 'sagemaker'; readonly charge: 'serverless-data' }
  | {
      readonly service: 'lambda';
      readonly charge: 'duration' | 'requests' | 'provisioned' | 'provisioned-duration' | 'storage';
      readonly architecture: 'x86_64' | 'arm64';
    };

/** What a SageMaker ML instance is billed for: an endpoint's hours, an asynchronous endpoint's, or a transform job's. */
export type InstanceUse = 'hosting' | 'async' | 'batch-transform';
const INSTANCE_USE: Readonly<Record<string, InstanceUse>> = { Hosting: 'hosting', AsyncInf: 'async', BatchTransform: 'batch-transform' };
/** The catalog each use's rates go to. */
export const CATALOG_OF_USE = {
  hosting: 'sagemaker-realtime',
  async: 'sagemaker-async',
  'batch-transform': 'sagemaker-batch-transform',
} as const satisfies Record<InstanceUse, InstanceCatalog>;

export interface OfferProduct {
  readonly sku: string;
  readonly productFamily?: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

/** One on-demand price dimension as AWS writes it. */
export interface PriceDimension {
  readonly unit?: string;
  readonly beginRange?: string;
  readonly endRange?: string;
  readonly pricePerUnit?: Readonly<Record<string, string>>;
}

/** What a product is billed as, or undefined when modelsweep bills nothing by it. */
export function chargeOf(offerCode: 'AmazonSageMaker' | 'AWSLambda', product: OfferProduct): ProductCharge | undefined {
  const a = product.attributes ?? {};
  // Outposts, Local Zones and the global ("Any") free-tier rows are not a region's price.
  if (a.locationType !== undefined && a.locationType !== 'AWS Region') return undefined;
  if (offerCode === 'AWSLambda') {
    const group = a.group ?? '';
    if (!group.startsWith('AWS-Lambda-') || /Edge/i.test(group)) return undefined;
    const architecture = /-ARM$/.test(group) ? 'arm64' : 'x86_64';
    const base = group.replace(/-ARM$/, '');
    const charge = (
      {
        'AWS-Lambda-Duration': 'duration',
        'AWS-Lambda-Requests': 'requests',
        'AWS-Lambda-Provisioned-Concurrency': 'provisioned',
        'AWS-Lambda-Duration-Provisioned': 'provisioned-duration',
        'AWS-Lambda-Storage-Duration': 'storage',
      } as const
    )[base];
    return charge ? { service: 'lambda', charge, architecture } : undefined;
  }
  const usage = a.usagetype ?? '';
  if (product.productFamily === 'ML Instance') {
    const use = INSTANCE_USE[a.platoinstancetype ?? a.component ?? ''];
    if (!use) return undefined;
    // `instanceType` carries the use as a suffix (`ml.m5.large-AsyncInf`); `instanceName` does not.
    const instanceType = (a.instanceName ?? a.instanceType ?? '').replace(/-[A-Za-z]+$/, '');
    return instanceType.startsWith('ml.') ? { service: 'sagemaker', charge: use, instanceType } : undefined;
  }
  if (product.productFamily === 'ML Serverless' || /ServerlessInf/.test(usage)) {
    const memory = /Mem-(\d+)GB$/.exec(usage);
    if (memory) {
      const memoryMb = Number(memory[1]) * 1024;
      if (!/Provisioned|-PC/i.test(usage)) return { service: 'sagemaker', charge: 'serverless-compute', memoryMb };
      return {
        service: 'sagemaker',
        charge: /Duration|Inference/i.test(usage) ? 'serverless-provisioned-duration' : 'serverless-provisioned',
        memoryMb,
      };
    }
    if (/Data|Bytes/i.test(usage)) return { service: 'sagemaker', charge: 'serverless-data' };
  }
  return undefined;
}

/** Lambda facts the price lists do not carry per region: the monthly free tier and the free /tmp. */
const LAMBDA_FREE_TIER = { requests: 1_000_000, gbSeconds: 400_000 };
const LAMBDA_FREE_STORAGE_MB = 512;

/** Where a set of products came from, written into every block made from them. */
export interface OfferMeta {
  readonly region: string;
  readonly url: string;
  readonly publicationDate?: string;
  readonly version?: string;
  readonly fetchedAt: string;
}

/**
 * Gathers priced products of one region, from an offer file streamed product by product or from
 * Query API results, and turns them into catalog blocks. Products must arrive before their terms
 * (as offer files order them); terms of products it does not bill by are dropped at once, so a
 * whole offer file is never held.
 */
export class OfferAccumulator {
  private readonly charges = new Map<string, ProductCharge>();
  private readonly dims = new Map<string, PriceDimension[]>();
  /** Price dimensions in another currency than USD, skipped. */
  skippedNonUsd = 0;

  constructor(readonly offerCode: 'AmazonSageMaker' | 'AWSLambda') {}

  addProduct(product: OfferProduct): void {
    const charge = chargeOf(this.offerCode, product);
    if (charge) this.charges.set(product.sku, charge);
  }

  /** One SKU's on-demand terms: `{ offerTermCode: { priceDimensions: { rateCode: dimension } } }`. */
  addOnDemandTerms(sku: string, terms: unknown): void {
    if (!this.charges.has(sku) || typeof terms !== 'object' || terms === null) return;
    const dimensions: PriceDimension[] = [];
    for (const term of Object.values(terms as Record<string, { priceDimensions?: Record<string, PriceDimension> }>)) {
      for (const d of Object.values(term?.priceDimensions ?? {})) {
        if (d?.pricePerUnit?.USD === undefined) this.skippedNonUsd += 1;
        else dimensions.push(d);
      }
    }
    if (dimensions.length > 0) this.dims.set(sku, dimensions);
  }

  /** The blocks for `meta.region`, with what could not be found. */
  blocks(meta: OfferMeta): { prices: PriceLayerCatalog; missing: string[] } {
    const provenance = {
      source: meta.url,
      asOf: (meta.publicationDate ?? meta.fetchedAt).slice(0, 10),
      fetchedAt: meta.fetchedAt,
      ...(meta.version ? { version: meta.version.slice(0, 64) } : {}),
    };
    const priced = [...this.charges].flatMap(([sku, charge]) => (this.dims.has(sku) ? [{ charge, dims: this.dims.get(sku)! }] : []));
    const rate = (dims: PriceDimension[]) => Number(dims[0]!.pricePerUnit!.USD);
    const missing: string[] = [];
    if (this.offerCode === 'AWSLambda') {
      const lambda: Record<string, unknown> = { ...provenance, freeTier: LAMBDA_FREE_TIER, ephemeralStorageFreeMb: LAMBDA_FREE_STORAGE_MB };
      const compute: Record<string, unknown> = {};
      const provisioned: Record<string, Record<string, number>> = {};
      for (const { charge, dims } of priced) {
        if (charge.service !== 'lambda') continue;
        if (charge.charge === 'duration') compute[charge.architecture] = tiersOf(dims);
        else if (charge.charge === 'requests' && charge.architecture === 'x86_64')
          lambda.requestsPerMillion = Number((rate(dims) * 1e6).toPrecision(12));
        else if (charge.charge === 'storage' && charge.architecture === 'x86_64') lambda.ephemeralStoragePerGbSecond = rate(dims);
        else if (charge.charge === 'provisioned') (provisioned[charge.architecture] ??= {}).perGbSecond = rate(dims);
        else if (charge.charge === 'provisioned-duration') (provisioned[charge.architecture] ??= {}).durationPerGbSecond = rate(dims);
      }
      if (compute.x86_64 && compute.arm64) lambda.computePerGbSecond = compute;
      else missing.push('Lambda duration for both architectures');
      if (provisioned.x86_64?.perGbSecond !== undefined && provisioned.arm64?.perGbSecond !== undefined) lambda.provisionedConcurrency = provisioned;
      for (const field of ['requestsPerMillion', 'ephemeralStoragePerGbSecond'] as const)
        if (lambda[field] === undefined) missing.push(`Lambda ${field}`);
      return { prices: { lambda: { [meta.region]: lambda } }, missing };
    }
    const perInstanceHour: Record<InstanceUse, Record<string, number>> = { hosting: {}, async: {}, 'batch-transform': {} };
    const serverless: Record<string, Record<string, number> | number> = {};
    const byMemory = (field: string, memoryMb: number, usd: number) =>
      (((serverless[field] ??= {}) as Record<string, number>)[String(memoryMb)] = usd);
    for (const { charge, dims } of priced) {
      if (charge.service !== 'sagemaker') continue;
      if ('instanceType' in charge) perInstanceHour[charge.charge][charge.instanceType] = rate(dims);
      else if (charge.charge === 'serverless-compute') byMemory('computePerSecondByMemoryMb', charge.memoryMb, rate(dims));
      else if (charge.charge === 'serverless-provisioned') byMemory('provisionedConcurrencyPerSecondByMemoryMb', charge.memoryMb, rate(dims));
      else if (charge.charge === 'serverless-provisioned-duration') byMemory('provisionedDurationPerSecondByMemoryMb', charge.memoryMb, rate(dims));
      else serverless.dataProcessingPerGb = rate(dims);
    }
    const prices: PriceLayerCatalog = {};
    for (const [use, byType] of Object.entries(perInstanceHour) as Array<[InstanceUse, Record<string, number>]>)
      if (Object.keys(byType).length > 0)
        prices[CATALOG_SERVICE[CATALOG_OF_USE[use]] as 'sagemakerRealtime'] = { [meta.region]: { ...provenance, perInstanceHour: sorted(byType) } };
    if (!prices.sagemakerRealtime) missing.push('SageMaker hosting instances');
    if (serverless.computePerSecondByMemoryMb) prices.sagemakerServerless = { [meta.region]: { ...provenance, ...serverless } };
    else missing.push('SageMaker serverless inference');
    return { prices, missing };
  }
}

/** Lambda's duration tiers from `beginRange`/`endRange` dimensions (`Inf` for the last). */
function tiersOf(dims: PriceDimension[]): Array<{ upToGbSecondsPerMonth: number | null; price: number }> {
  return [...dims]
    .sort((a, b) => Number(a.beginRange ?? 0) - Number(b.beginRange ?? 0))
    .map((d) => ({
      upToGbSecondsPerMonth: d.endRange === undefined || d.endRange === 'Inf' ? null : Number(d.endRange),
      price: Number(d.pricePerUnit!.USD),
    }));
}

const sorted = (record: Record<string, number>) => Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));

/** `1yr` + `No Upfront` → `1y-no-upfront`. */
export function committedTermOf(purchaseTerm: string | undefined, purchaseOption: string | undefined): CommittedTerm | undefined {
  const years = /^([13])\s*(yr|year)/i.exec(purchaseTerm ?? '')?.[1];
  const option = { 'no upfront': 'no-upfront', 'partial upfront': 'partial-upfront', 'all upfront': 'all-upfront' }[
    (purchaseOption ?? '').toLowerCase()
  ];
  return years && option ? (`${years}y-${option}` as CommittedTerm) : undefined;
}
