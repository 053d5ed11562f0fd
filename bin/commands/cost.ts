import { Command, Option } from 'commander';
import { z } from 'zod';

import { type PriceCatalog, pricesFromFile } from '../../lib/cost/catalog';
import { type CostEstimate, instanceMonthlyCost, lambdaMonthlyCost, serverlessMonthlyCost } from '../../lib/cost/estimate';
import { costEstimateJson, formatCostEstimate } from '../../lib/cost/report';
import { CliError, EXIT } from './cli-error';
import { numberFlag, parseFlags } from './flags';

const num = (flag: string, min = 0) => numberFlag(flag, { min });
const int = (flag: string, min = 0) => numberFlag(flag, { integer: true, min });

const common = { region: z.string().min(1), prices: z.string().optional(), json: z.boolean().default(false) };

function run<T extends z.ZodType>(schema: T, estimate: (flags: z.output<T>, prices: PriceCatalog) => CostEstimate) {
  return (raw: Record<string, unknown>) => {
    const flags = parseFlags(schema, raw) as z.output<T> & { prices?: string; json: boolean };
    let result: CostEstimate;
    try {
      result = estimate(flags, pricesFromFile(flags.prices));
    } catch (error) {
      throw new CliError((error as Error).message, EXIT.badInput, { cause: error });
    }
    console.log(flags.json ? JSON.stringify(costEstimateJson(result), null, 2) : formatCostEstimate(result));
  };
}

const withCommon = (command: Command, defaultRegion: string) =>
  command
    .option('--region <region>', 'the price catalog region', defaultRegion)
    .option('--prices <file>', 'a JSON file overriding any part of the price catalog')
    .option('--json', 'print the estimate as JSON');

export function costCommand(): Command {
  const cost = new Command('cost').description('Estimate a monthly bill without a sweep, from the dated price catalog');

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
          memory: int('--memory', 128).refine((m) => m <= 10240, '--memory must be at most 10240 MB'),
          durationMs: num('--duration-ms'),
          requestsPerMonth: num('--requests-per-month'),
          architecture: z.enum(['x86_64', 'arm64']),
          ephemeralStorage: int('--ephemeral-storage', 512).refine((m) => m <= 10240, '--ephemeral-storage must be at most 10240 MB'),
          provisionedConcurrency: int('--provisioned-concurrency'),
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
              instances: int('--instances', 1).optional(),
              peakRps: num('--peak-rps').optional(),
              rpsPerInstance: num('--rps-per-instance').optional(),
              minInstances: int('--min-instances', 1),
            })
            .refine((f) => f.instances !== undefined || (f.peakRps !== undefined && f.rpsPerInstance !== undefined), {
              message: 'give --instances, or --peak-rps with --rps-per-instance',
            }),
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
          memory: int('--memory', 1024),
          durationMs: num('--duration-ms'),
          requestsPerMonth: num('--requests-per-month'),
          bytesPerRequest: num('--bytes-per-request'),
          provisionedConcurrency: int('--provisioned-concurrency'),
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
