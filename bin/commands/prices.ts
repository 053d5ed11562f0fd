import { Command, Option } from 'commander';
import { z } from 'zod';

import { CATALOG_SERVICES, type CatalogService, COMMITMENTS } from '../../lib/catalog/price-catalog';
import { CATALOG_SERVICE, describeSource, type PricedCatalog, type PriceSource, stalenessOf } from '../../lib/cost/price-book';
import { defaultPriceCacheDir, diffPrices, localPriceBook, readPriceCache, writePriceCache } from '../../lib/cost/price-cache';
import { CATALOG_OF_USE, type InstanceUse } from '../../lib/cost/price-list/aws-products';
import { DEFAULT_DOWNLOAD_LIMITS } from '../../lib/cost/price-list/download';
import { fetchPriceLists, isAzureRegion, merge, PRICE_SERVICES, priceListUrls, type PriceService } from '../../lib/cost/price-list/update-prices';
import { ModelsweepError } from '../../lib/errors';
import { CliError, EXIT } from './cli-error';
import { durationFlag, interruptible, numberFlag, parseFlags, statusLine } from './flags';

const CACHE_OPTION = [
  '--price-cache <dir>',
  'where fetched prices are kept (default: MODELSWEEP_PRICE_CACHE, else $XDG_CACHE_HOME/modelsweep/prices or ~/.cache/modelsweep/prices)',
] as const;
const SERVICE_NAMES: Record<CatalogService, string> = {
  lambda: 'Lambda',
  sagemakerRealtime: 'SageMaker real-time',
  sagemakerAsync: 'SageMaker asynchronous inference',
  sagemakerBatchTransform: 'SageMaker Batch Transform',
  sagemakerServerless: 'SageMaker serverless',
  azureml: 'Azure VMs',
};
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `modelsweep prices`: fetch the providers' price lists into a dated cache, and show or compare what it holds. */
export function pricesCommand(): Command {
  const prices = new Command('prices').description(
    "The providers' price lists: fetch them into a dated cache (update), look a price up with where it came from (show), compare with the previous update (diff)",
  );
  prices.addCommand(updateCommand());
  prices.addCommand(showCommand());
  prices.addCommand(diffCommand());
  return prices;
}

function updateCommand(): Command {
  return new Command('update')
    .description(
      'Download the AWS Price List (SageMaker, Lambda, their Savings Plans) and Azure Retail Prices into the price cache. A failed download changes nothing. Base URLs: MODELSWEEP_AWS_PRICING_URL, MODELSWEEP_AZURE_PRICES_URL',
    )
    .addOption(new Option('--service <service>', 'only this service (repeatable)').choices(PRICE_SERVICES).argParser(collect))
    .option('--region <region>', 'only this region (repeatable); default: every AWS region, and the Azure regions already cached', collect)
    .option('--no-commitments', 'skip Savings Plans rates and Azure reservations')
    .option(...CACHE_OPTION)
    .option('--max-download-mb <mb>', 'the largest file accepted', String(DEFAULT_DOWNLOAD_LIMITS.maxBytes / 1024 / 1024))
    .option('--stall-timeout <duration>', 'give up on a download that sends nothing this long', '30s')
    .addHelpText(
      'after',
      '\nExamples:\n  $ modelsweep prices update --region eu-central-1\n  $ modelsweep prices update --service lambda\n  $ modelsweep prices update --service azure --region westeurope',
    )
    .action(
      async (raw: {
        service?: string[];
        region?: string[];
        commitments: boolean;
        priceCache?: string;
        maxDownloadMb: string;
        stallTimeout: string;
      }) => {
        const flags = parseFlags(
          z.object({
            maxDownloadMb: numberFlag('--max-download-mb', { min: 1, max: 16_384 }),
            stallTimeout: durationFlag('--stall-timeout', '30s or 2m', 3_600_000),
            region: z.array(z.string().regex(/^[a-z0-9-]{2,40}$/, '--region is a region code such as eu-central-1 or westeurope')).optional(),
          }),
          raw,
        );
        const dir = raw.priceCache ?? defaultPriceCacheDir();
        const regions = flags.region;
        const services: PriceService[] =
          (raw.service as PriceService[] | undefined) ??
          (regions
            ? [...new Set(regions.flatMap((r): PriceService[] => (isAzureRegion(r) ? ['azure'] : ['sagemaker', 'lambda'])))]
            : [...PRICE_SERVICES]);
        // Azure's API cannot list its regions: without --region, the ones at hand are refreshed.
        const azureRegions = [...new Set(localPriceBook({ cacheDir: dir }).layers.flatMap((l) => Object.keys(l.prices.azureml ?? {})))];
        const regionsFor = (service: PriceService) => regions?.filter((r) => isAzureRegion(r) === (service === 'azure'));
        for (const service of services) {
          if (regions && regionsFor(service)!.length === 0)
            throw new CliError(
              `--region ${regions.join(', ')}: ${service === 'azure' ? 'Azure regions have no hyphen (westeurope, eastus)' : `AWS regions look like eu-central-1 (--service ${service})`}`,
            );
        }
        const started = Date.now();
        await interruptible(
          async (signal) => {
            const byService = async (service: PriceService) =>
              fetchPriceLists(
                {
                  services: [service],
                  regions: regionsFor(service),
                  azureRegions,
                  commitments: raw.commitments,
                  limits: {
                    maxBytes: flags.maxDownloadMb * 1024 * 1024,
                    stallMs: flags.stallTimeout,
                    deadlineMs: DEFAULT_DOWNLOAD_LIMITS.deadlineMs,
                  },
                  signal,
                  onProgress: (line) => {
                    statusLine.clear();
                    console.error(line);
                  },
                  onBytes: (what, received, total) =>
                    statusLine.show(
                      what.startsWith('Azure')
                        ? `${what}: page ${received}`
                        : `${what}: ${(received / 1024 / 1024).toFixed(1)}${total ? ` of ${(total / 1024 / 1024).toFixed(1)}` : ''} MB`,
                    ),
                },
                priceListUrls(),
              );
            const results = [];
            try {
              for (const service of services) results.push(await byService(service));
            } catch (error) {
              statusLine.clear();
              if (signal.aborted) throw new CliError('interrupted: the price cache was not changed', EXIT.interrupted);
              throw new CliError(
                `${(error as Error).message} (the price cache was not changed)`,
                error instanceof ModelsweepError && error.code === 'invalid-input' ? EXIT.badInput : EXIT.failed,
                {
                  cause: error,
                },
              );
            }
            statusLine.clear();
            const merged: Parameters<typeof writePriceCache>[1] = { prices: {}, fetches: results.flatMap((r) => r.fetches) };
            for (const r of results) merge(merged.prices, r.prices);
            if (merged.fetches.length === 0) throw new CliError('nothing to fetch: name a --region (Azure regions are not listed by the API)');
            writePriceCache(dir, merged, new Date());
            for (const warning of results.flatMap((r) => r.warnings)) console.error(`warning: ${warning}`);
            const count = (service: CatalogService) => Object.keys(merged.prices[service] ?? {}).length;
            const updated = CATALOG_SERVICES.filter((s) => count(s) > 0).map(
              (s) => `${SERVICE_NAMES[s]} in ${count(s)} region${count(s) === 1 ? '' : 's'}`,
            );
            const files = `${merged.fetches.length} file${merged.fetches.length === 1 ? '' : 's'}`;
            console.log(`updated ${dir} from ${files} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${updated.join(', ')}`);
          },
          () => console.error('\ninterrupted: stopping the download; the price cache stays as it was'),
        );
      },
    );
}

function readCacheOrFail(dir: string, which: 'current' | 'previous' = 'current') {
  try {
    return readPriceCache(dir, which);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.badInput, { cause: error });
  }
}

function showCommand(): Command {
  return new Command('show')
    .description(
      'A price as modelsweep would use it, with where it came from, when it was published and fetched, and the other prices at hand for it',
    )
    .argument('<what>', 'an instance type (ml.g6e.xlarge), an Azure VM SKU (Standard_NC24ads_A100_v4), lambda, or serverless')
    .option('--region <region>', 'the region (default: us-east-1, or eastus for an Azure SKU)')
    .addOption(
      new Option(
        '--use <use>',
        "what a SageMaker instance type is billed for: a real-time endpoint's, an asynchronous endpoint's or a batch transform job's hours",
      )
        .choices(Object.keys(CATALOG_OF_USE))
        .default('hosting'),
    )
    .option('--prices <file>', 'a JSON file overriding any part of the price catalog')
    .option(...CACHE_OPTION)
    .option('--json', 'print it as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ modelsweep prices show ml.g6e.xlarge --region eu-central-1\n  $ modelsweep prices show lambda --region eu-west-1',
    )
    .action((what: string, flags: { region?: string; use: InstanceUse; prices?: string; priceCache?: string; json?: boolean }) => {
      const catalog: PricedCatalog = what.startsWith('Standard_')
        ? 'azureml'
        : what === 'lambda'
          ? 'lambda'
          : what === 'serverless'
            ? 'sagemaker-serverless'
            : CATALOG_OF_USE[flags.use];
      const region = flags.region ?? (catalog === 'azureml' ? 'eastus' : 'us-east-1');
      const now = new Date();
      try {
        const book = localPriceBook({ pricesFile: flags.prices, cacheDir: flags.priceCache });
        if (catalog === 'lambda' || catalog === 'sagemaker-serverless') {
          const found = catalog === 'lambda' ? book.lambda(region) : book.serverless(region);
          if (flags.json) console.log(JSON.stringify(found, null, 2));
          else {
            console.log(`${catalog} in ${region}:`);
            console.log(JSON.stringify({ ...found.prices, source: undefined, asOf: undefined }, null, 2));
            printSource(found.source, now);
          }
          return;
        }
        const chosen = book.instanceHour(catalog, region, what);
        const committed = Object.fromEntries(
          COMMITMENTS.filter((c) => c !== 'on-demand').flatMap((c) => {
            try {
              // A rate priced on demand for want of a committed one is not a committed rate.
              const rate = book.with({ commitment: c }).instanceHour(catalog, region, what);
              return rate.source.commitment ? [[c, rate.usd]] : [];
            } catch {
              return [];
            }
          }),
        );
        const alternatives = book.layers.flatMap((layer) => {
          const block = layer.prices[CATALOG_SERVICE[catalog]]?.[region] as { perInstanceHour?: Record<string, number> } | undefined;
          const usd = block?.perInstanceHour?.[what];
          return usd === undefined ? [] : [{ label: layer.label, usd }];
        });
        if (flags.json) {
          console.log(
            JSON.stringify(
              { type: what, region, usdPerHour: chosen.usd, committedUsdPerHour: committed, source: chosen.source, alternatives },
              null,
              2,
            ),
          );
          return;
        }
        console.log(`${what}${flags.use === 'hosting' ? '' : ` (${flags.use})`} in ${region}: $${chosen.usd} per hour on demand`);
        for (const [c, usd] of Object.entries(committed))
          console.log(`  ${c}: $${usd.toFixed(4)} per hour (${((1 - usd / chosen.usd) * 100).toFixed(1)}% off)`);
        printSource(chosen.source, now);
        for (const a of alternatives.slice(1)) console.log(`  also at hand: $${a.usd} from ${a.label}`);
      } catch (error) {
        throw new CliError((error as Error).message, EXIT.badInput, { cause: error });
      }
    });
}

function printSource(source: PriceSource, now: Date): void {
  console.log(`source: ${describeSource(source)}`);
  const warning = stalenessOf(source, now);
  if (warning) console.error(`warning: ${warning}`);
}

function diffCommand(): Command {
  return new Command('diff')
    .description('What the last `prices update` changed: prices added, removed, and changed with their old and new values')
    .option(...CACHE_OPTION)
    .option('--limit <n>', 'changes to list (the counts cover all)', '40')
    .option('--json', 'print every change as JSON')
    .action((flags: { priceCache?: string; limit: string; json?: boolean }) => {
      const { limit } = parseFlags(z.object({ limit: numberFlag('--limit', { integer: true, min: 0, max: 1_000_000 }) }), { limit: flags.limit });
      const dir = flags.priceCache ?? defaultPriceCacheDir();
      const current = readCacheOrFail(dir);
      if (!current) throw new CliError(`no price cache in ${dir}: run \`modelsweep prices update\` first`, EXIT.badInput);
      const previous = readCacheOrFail(dir, 'previous');
      if (!previous) {
        console.log(`only one update so far (${current.updatedAt}): nothing to compare`);
        return;
      }
      const diff = diffPrices(previous.prices, current.prices);
      if (flags.json) {
        console.log(JSON.stringify({ from: previous.updatedAt, to: current.updatedAt, ...diff }, null, 2));
        return;
      }
      console.log(
        `${previous.updatedAt} → ${current.updatedAt}: ${diff.changed.length} changed, ${diff.added.length} added, ${diff.removed.length} removed`,
      );
      const lines = [
        ...diff.changed.map(
          (c) => `  changed ${c.key}: ${c.before} → ${c.after} (${c.before ? (((c.after - c.before) / c.before) * 100).toFixed(1) : '∞'}%)`,
        ),
        ...diff.added.map((a) => `  added   ${a.key}: ${a.usd}`),
        ...diff.removed.map((r) => `  removed ${r.key}: ${r.usd}`),
      ];
      for (const line of lines.slice(0, limit)) console.log(line);
      if (lines.length > limit) console.log(`  … and ${lines.length - limit} more (--limit, or --json for all)`);
    });
}
