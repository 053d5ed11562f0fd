import { type Filter, GetProductsCommand, type PricingClient } from '@aws-sdk/client-pricing';

import type { PriceLayerCatalog } from '../../catalog/price-catalog';
import { ModelsweepError } from '../../errors';
import type { PriceKey, PriceLayer } from '../price-book';
import { OfferAccumulator, type OfferProduct } from './aws-products';
import { merge } from './update-prices';

/** Pages of one query: a type's hosting SKUs are one page, a region's Lambda products two. */
const MAX_PAGES = 20;
export const QUERY_API_LABEL = 'AWS Price List Query API';

/**
 * The AWS prices `keys` need, read with the Price List Query API (`pricing:GetProducts`) and
 * turned into catalog blocks by the same rules as the bulk offer files. Azure keys are left to
 * the other layers. Used by the cloud workflow at the start of every sweep.
 */
export async function queryAwsPrices(
  client: PricingClient,
  keys: readonly PriceKey[],
  now: Date,
): Promise<{ layer: PriceLayer; warnings: string[] }> {
  const prices: PriceLayerCatalog = {};
  const warnings: string[] = [];
  const queries = new Map<string, { offer: 'AmazonSageMaker' | 'AWSLambda'; region: string; filters: Filter[] }>();
  for (const key of keys) {
    const region = { Type: 'TERM_MATCH' as const, Field: 'regionCode', Value: key.region };
    if (key.catalog === 'lambda') queries.set(`lambda/${key.region}`, { offer: 'AWSLambda', region: key.region, filters: [region] });
    else if (key.catalog === 'sagemaker-serverless')
      queries.set(`serverless/${key.region}`, {
        offer: 'AmazonSageMaker',
        region: key.region,
        filters: [region, { Type: 'TERM_MATCH', Field: 'productFamily', Value: 'ML Serverless' }],
      });
    // One query finds a type's hosting, asynchronous and batch transform rates alike.
    else if (key.catalog !== 'azureml' && 'type' in key)
      queries.set(`instance/${key.region}/${key.type}`, {
        offer: 'AmazonSageMaker',
        region: key.region,
        filters: [region, { Type: 'TERM_MATCH', Field: 'instanceName', Value: key.type }],
      });
  }
  for (const [name, query] of queries) {
    const offers = new OfferAccumulator(query.offer);
    let publicationDate: string | undefined;
    let version: string | undefined;
    let token: string | undefined;
    let page = 0;
    do {
      page += 1;
      if (page > MAX_PAGES) throw new ModelsweepError('platform', `pricing:GetProducts ${name}: more than ${MAX_PAGES} pages`);
      const out = await client.send(
        new GetProductsCommand({ ServiceCode: query.offer, Filters: query.filters, FormatVersion: 'aws_v1', MaxResults: 100, NextToken: token }),
      );
      for (const text of out.PriceList ?? []) {
        const item = JSON.parse(text) as { product?: OfferProduct; terms?: { OnDemand?: unknown }; publicationDate?: string; version?: string };
        if (!item.product?.sku) continue;
        offers.addProduct(item.product);
        offers.addOnDemandTerms(item.product.sku, item.terms?.OnDemand);
        publicationDate ??= item.publicationDate;
        version ??= item.version;
      }
      token = out.NextToken;
    } while (token);
    const { prices: found } = offers.blocks({
      region: query.region,
      url: `pricing:GetProducts ${query.offer} ${query.filters.map((f) => `${f.Field}=${f.Value}`).join(' ')}`,
      publicationDate,
      version,
      fetchedAt: now.toISOString(),
    });
    // Only what was asked: an instance type's query finds no serverless prices, and should not.
    if (name.startsWith('instance/')) delete found.sagemakerServerless;
    if (name.startsWith('serverless/')) {
      delete found.sagemakerRealtime;
      delete found.sagemakerAsync;
      delete found.sagemakerBatchTransform;
    }
    if (Object.keys(found).length === 0) warnings.push(`the Price List Query API returned no ${name} prices`);
    merge(prices, found);
  }
  return { layer: { origin: 'price-list', label: QUERY_API_LABEL, prices }, warnings };
}
