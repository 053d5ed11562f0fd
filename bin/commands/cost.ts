import { Command, Option } from 'commander';
import { z } from 'zod';

import { COMMITMENTS } from '../../lib/catalog/price-catalog';
import { type CostEstimate, instanceMonthlyCost, lambdaMonthlyCost, roundUpToCent, serverlessMonthlyCost } from '../../lib/cost/estimate';
import { costEstimateJson, formatCostEstimate } from '../../lib/cost/estimate-text';
import { type PriceBook, stalenessOf } from '../../lib/cost/price-book';
import { localPriceBook } from '../../lib/cost/price-cache';
import { LIMITS } from '../../lib/spec/limits';
import { CliError, EXIT } from './cli-error';
import { numberFlag, parseFlags } from './flags';

const num = (flag: string, max: number, min = 0) => numberFlag(flag, { min, max });
const int = (flag: string, max: number, min = 0) => numberFlag(flag, { integer: true, min, max });
/** Lambda's and SageMaker serverless's longest request. */
const MAX_DURATION_MS = 15 * 60_000;
/** Requests in a month at the busiest traffic a spec may describe. */
const MAX_REQUESTS_PER_MONTH = LIMITS.trafficRps * 3600 * 24 * 31;

const common = {
  region: z.string().min(1).max(64, '--region is at most 64 characters'),
  prices: z.string().optional(),
  priceCache: z.string().min(1).optional(),
  commitment: z.enum(COMMITMENTS, { error: `--commitment is one of ${COMMITMENTS.join(', ')}` }),
  json: z.boolean().default(false),
};

type CommonFlags = { prices?: string; priceCache?: string; commitment: (typeof COMMITMENTS)[number]; json: boolean };

function run<T extends z.ZodType>(schema: T, estimate: (flags: z.output<T>, prices: PriceBook) => CostEstimate) {
  return (raw: Record<string, unknown>) => {
    const flags = parseFlags(schema, raw) as z.output<T> & CommonFlags;
    let result: CostEstimate;
    let onDemand: CostEstimate | undefined;
    try {
      const book = localPriceBook({ pricesFile: flags.prices, cacheDir: flags.priceCache, commitment: flags.commitment });
      result = estimate(flags, book);
      if (flags.commitment !== 'on-demand') onDemand = estimate(flags, book.with({ commitment: 'on-demand' }));
    } catch (error) {
      throw new CliError((error as Error).message, EXIT.badInput, { cause: error });
    }
    const now = new Date();
    const warnings = [...new Set(result.lines.flatMap((l) => stalenessOf(l.source, now) ?? []))];
    for (const warning of warnings) console.error(`warning: ${warning}`);
    if (flags.json) {
      console.log(
        JSON.stringify({ ...costEstimateJson(result), ...(onDemand ? { onDemandMonthlyUsd: onDemand.monthlyUsd } : {}), warnings }, null, 2),
      );
      return;
    }
    console.log(formatCostEstimate(result));
    if (onDemand) {
      const saved = onDemand.monthlyUsd - result.monthlyUsd;
      console.log(
        `on demand: $${roundUpToCent(onDemand.monthlyUsd).toFixed(2)} per month; ${flags.commitment} saves $${roundUpToCent(saved).toFixed(2)} (${onDemand.monthlyUsd > 0 ? ((saved / onDemand.monthlyUsd) * 100).toFixed(1) : '0.0'}%)`,
      );
    }
  };
}

const withCommon = (command: Command, defaultRegion: string) =>
  command
    .option('--region <region>', 'the region to price in', defaultRegion)
    .option('--prices <file>', 'a JSON file overriding any part of the price catalog (wins over fetched prices and the snapshot)')
    .addOption(
      new Option('--commitment <term>', 'price under a Savings Plan or reservation term; the on-demand cost is printed beside it')
        .choices(COMMITMENTS)
        .default('on-demand'),
    )
    .option(
      '--price-cache <dir>',
      'where `modelsweep prices update` keeps fetched prices (default: MODELSWEEP_PRICE_CACHE or ~/.cache/modelsweep/prices)',
    )
    .option('--json', 'print the estimate as JSON');

export function costCommand(): Command {
  const cost = new Command('cost').description(
    'Estimate a monthly bill without a sweep: prices from --prices, else fetched price lists (`modelsweep prices update`), else the bundled snapshot',
  );

  cost.addCommand(
    withCommon(
      new Command('lambda')
        .description('Lambda: GB-seconds through the volume tiers, requests, ephemeral storage, provisioned concurrency')
        .requiredOption('--memory <mb>', 'memory size in MB')
        .requiredOption('--duration-ms <ms>', 'average billed duration of one request')
        .requiredOption('--requests-per-month <n>', 'requests in a month')
        .addOption(new Option('--architecture <arch>', 'CPU architecture').choices(['x86_64', 'arm64']).default('x86_64'))
        .option('--ephemeral-storage <mb>', 'size of /tmp in MB', '512')
        .option('--provisioned-concurrency <n>', 'environments kept warm all month', '0')
        .option('--free-tier', 'subtract the monthly free tier (1 M requests, 400,000 GB-s)')
        .addHelpText(
          'after',
          "\nExample (the Lambda pricing page's worked example, $18.74):\n  $ modelsweep cost lambda --memory 512 --duration-ms 1000 --requests-per-month 3000000 --free-tier",
        ),
      'us-east-1',
    ).action(
      run(
        z.object({
          ...common,
          memory: int('--memory', 10240, 128),
          durationMs: num('--duration-ms', MAX_DURATION_MS),
          requestsPerMonth: num('--requests-per-month', MAX_REQUESTS_PER_MONTH),
          architecture: z.enum(['x86_64', 'arm64']),
          ephemeralStorage: int('--ephemeral-storage', 10240, 512),
          provisionedConcurrency: int('--provisioned-concurrency', 10_000),
          freeTier: z.boolean().default(false),
        }),
        (f, prices) =>
          lambdaMonthlyCost(
            {
              region: f.region,
              architecture: f.architecture,
              memoryMb: f.memory,
              billedDurationMs: f.durationMs,
              requestsPerMonth: f.requestsPerMonth,
              ephemeralStorageMb: f.ephemeralStorage,
              provisionedConcurrency: f.provisionedConcurrency,
              freeTier: f.freeTier,
            },
            prices,
          ),
      ),
    ),
  );

  for (const kind of ['sagemaker-realtime', 'azureml'] as const) {
    cost.addCommand(
      withCommon(
        new Command(kind)
          .description(
            `${kind === 'azureml' ? 'Azure ML online endpoint' : 'SageMaker real-time endpoint'}: instance-hours; the count fixed, or ceil(peak rps / rps one instance sustains)`,
          )
          .requiredOption('--instance-type <type>', kind === 'azureml' ? 'VM SKU, e.g. Standard_DS3_v2' : 'instance type, e.g. ml.g5.xlarge')
          .option('--instances <n>', 'a fixed instance count')
          .option('--peak-rps <rps>', 'busiest requests/s to serve')
          .option('--rps-per-instance <rps>', 'highest requests/s one instance sustains within the SLO')
          .option('--min-instances <n>', 'floor on the count', '1')
          .addHelpText(
            'after',
            `\nExamples:\n  $ modelsweep cost ${kind} --instance-type ${kind === 'azureml' ? 'Standard_DS3_v2' : 'ml.g5.xlarge'} --instances 2\n  $ modelsweep cost ${kind} --instance-type ${kind === 'azureml' ? 'Standard_DS3_v2' : 'ml.c6i.xlarge'} --peak-rps 120 --rps-per-instance 45`,
          ),
        kind === 'azureml' ? 'eastus' : 'us-east-1',
      ).action(
        run(
          z
            .object({
              ...common,
              instanceType: z.string().min(1),
              instances: int('--instances', LIMITS.instances, 1).optional(),
              peakRps: num('--peak-rps', LIMITS.trafficRps).optional(),
              // Not below 0.001: a rate near 0 would size an endless number of instances.
              rpsPerInstance: num('--rps-per-instance', LIMITS.rateRps, 0.001).optional(),
              minInstances: int('--min-instances', LIMITS.instances, 1),
            })
            .refine((f) => f.instances !== undefined || (f.peakRps !== undefined && f.rpsPerInstance !== undefined), {
              message: 'give --instances, or --peak-rps with --rps-per-instance',
            })
            .refine((f) => f.instances === undefined || (f.peakRps === undefined && f.rpsPerInstance === undefined), {
              message: 'give either --instances or --peak-rps with --rps-per-instance, not both',
            })
            .refine(
              (f) => f.instances !== undefined || f.peakRps === undefined || f.rpsPerInstance === undefined || f.peakRps / f.rpsPerInstance <= 1e6,
              {
                message: '--peak-rps / --rps-per-instance asks for more than 1,000,000 instances',
              },
            ),
          (f, prices) =>
            instanceMonthlyCost(
              kind,
              {
                region: f.region,
                instanceType: f.instanceType,
                instances: f.instances,
                peakRps: f.peakRps,
                rpsPerInstance: f.rpsPerInstance,
                minInstances: f.minInstances,
              },
              prices,
            ),
        ),
      ),
    );
  }

  cost.addCommand(
    withCommon(
      new Command('sagemaker-serverless')
        .description('SageMaker serverless: compute seconds by memory size, data processed, provisioned concurrency')
        .requiredOption('--memory <mb>', 'memory size: 1024 to 6144 in steps of 1024')
        .requiredOption('--duration-ms <ms>', 'average inference duration')
        .requiredOption('--requests-per-month <n>', 'requests in a month')
        .option('--bytes-per-request <n>', 'request plus response size', '0')
        .option('--provisioned-concurrency <n>', 'workers kept warm all month', '0')
        .addHelpText('after', '\nExample:\n  $ modelsweep cost sagemaker-serverless --memory 2048 --duration-ms 100 --requests-per-month 10000000'),
      'us-east-1',
    ).action(
      run(
        z.object({
          ...common,
          memory: int('--memory', 6144, 1024),
          durationMs: num('--duration-ms', MAX_DURATION_MS),
          requestsPerMonth: num('--requests-per-month', MAX_REQUESTS_PER_MONTH),
          bytesPerRequest: num('--bytes-per-request', 2 * LIMITS.payloadBytes),
          provisionedConcurrency: int('--provisioned-concurrency', 200),
        }),
        (f, prices) =>
          serverlessMonthlyCost(
            {
              region: f.region,
              memoryMb: f.memory,
              durationMs: f.durationMs,
              requestsPerMonth: f.requestsPerMonth,
              bytesPerRequest: f.bytesPerRequest,
              provisionedConcurrency: f.provisionedConcurrency,
            },
            prices,
          ),
      ),
    ),
  );
  return cost;
}
