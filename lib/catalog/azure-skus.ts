import { z } from 'zod';

import skusJson from './azure-skus.json';
import { type HardwareFacts, hardwareFactsSchema } from './sagemaker-instances';

const skuCatalog = z
  .strictObject({ source: z.string().min(1), note: z.string().optional(), skus: z.record(z.string(), hardwareFactsSchema) })
  .parse(skusJson);

/** The hardware of an Azure VM SKU, or undefined when the catalog does not list it. */
export function findAzureSku(name: string): (HardwareFacts & { readonly name: string }) | undefined {
  const facts = skuCatalog.skus[name];
  return facts ? { name, ...facts } : undefined;
}

/** Where the SKU facts come from. */
export const AZURE_SKU_CATALOG_SOURCE = skuCatalog.source;
