import { type PriceCatalog, priceCatalogSchema, type PriceLayerCatalog } from '../../catalog/price-catalog';
import { instanceBlockSchema, lambdaBlockSchema, serverlessBlockSchema } from '../../catalog/price-catalog';

const WHOLE = {
  lambda: lambdaBlockSchema,
  sagemakerRealtime: instanceBlockSchema,
  sagemakerAsync: instanceBlockSchema,
  sagemakerBatchTransform: instanceBlockSchema,
  sagemakerServerless: serverlessBlockSchema,
  azureml: instanceBlockSchema,
};

/**
 * A bundled snapshot from fetched price lists: every region block that is whole (a snapshot is the
 * last layer, with nothing under it to complete a block), dated and sourced as fetched. What is
 * left out is listed, so the script that writes it can say so.
 */
export function snapshotFrom(fetched: PriceLayerCatalog, generatedAt: Date): { catalog: PriceCatalog; leftOut: string[] } {
  const leftOut: string[] = [];
  const catalog: Record<string, unknown> = {
    currency: 'USD',
    hoursPerMonth: 730,
    note: `On-demand and committed list prices read from the AWS Price List and Azure Retail Prices by \`npm run prices:snapshot\` on ${generatedAt.toISOString().slice(0, 10)}; each block names the file it came from and its publication date. Override any price with --prices <file> or a spec's pricing.prices; refresh with \`modelsweep prices update\`.`,
  };
  for (const [service, schema] of Object.entries(WHOLE) as Array<[keyof typeof WHOLE, (typeof WHOLE)[keyof typeof WHOLE]]>) {
    const regions: Record<string, unknown> = {};
    for (const [region, block] of Object.entries(fetched[service] ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      const parsed = schema.safeParse(block);
      if (parsed.success) regions[region] = parsed.data;
      else leftOut.push(`${service} ${region}: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
    }
    catalog[service] = regions;
  }
  return { catalog: priceCatalogSchema.parse(catalog), leftOut };
}
