/**
 * `npm run prices:snapshot`: regenerates the bundled price snapshot (lib/catalog/prices.json) from
 * the providers' price lists, with the same code as `modelsweep prices update`. Needs the network
 * (or MODELSWEEP_AWS_PRICING_URL / MODELSWEEP_AZURE_PRICES_URL pointing at a mirror).
 *
 *   npm run prices:snapshot -- [--out file] [--region r ...] [--azure-region r ...]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { PACKAGE_ROOT } from '../lib/build/asset-paths';
import { snapshotFrom } from '../lib/cost/price-list/snapshot';
import { fetchPriceLists, merge } from '../lib/cost/price-list/update-prices';

/** Azure's API cannot list regions: these are refreshed unless others are named. */
const AZURE_REGIONS = ['eastus', 'eastus2', 'westus2', 'westeurope', 'northeurope', 'swedencentral', 'japaneast', 'australiaeast'];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, region: { type: 'string', multiple: true }, 'azure-region': { type: 'string', multiple: true } },
  });
  const out = values.out ?? join(PACKAGE_ROOT, 'lib', 'catalog', 'prices.json');
  const onProgress = (line: string) => console.error(line);
  const aws = await fetchPriceLists({ services: ['sagemaker', 'lambda'], regions: values.region, onProgress });
  const azure = await fetchPriceLists({ services: ['azure'], regions: values['azure-region'] ?? AZURE_REGIONS, onProgress });
  merge(aws.prices, azure.prices);
  const { catalog, leftOut } = snapshotFrom(aws.prices, new Date());
  for (const line of [...aws.warnings, ...azure.warnings, ...leftOut.map((l) => `left out (incomplete): ${l}`)]) console.error(`warning: ${line}`);
  writeFileSync(out, `${JSON.stringify(catalog, null, 1)}\n`);
  const count = (service: keyof typeof catalog) => Object.keys(catalog[service] as object).length;
  console.log(
    `wrote ${out}: Lambda ${count('lambda')}, SageMaker real-time ${count('sagemakerRealtime')}, serverless ${count('sagemakerServerless')}, Azure ${count('azureml')} regions`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`prices:snapshot: ${error.message}`);
    process.exit(1);
  },
);
