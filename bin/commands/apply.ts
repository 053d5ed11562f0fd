import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { Command } from 'commander';

import { NotDeployable, recommendationOf, updateContextFile, writeRecommendationToContext } from '../../lib/apply/apply-recommendation';
import { type Recommendation, recommendationParameterName } from '../../lib/apply/recommendation';
import { formatDurationMs, formatUsdPrecise } from '../../lib/format/format';
import { CliError } from './cli-error';
import { type CloudDependencies, defaultCloud, REGION_OPTION, STACK_OPTION, STORE_DIR_OPTION, type StoreFlags, withStore } from './cloud';
import { resultsOf } from './results';

/** How a recommendation reads in one line: `lambda-2048mb-arm64 (lambda: memorySizeMb 2048, architecture arm64)`. */
function describe(r: Recommendation): string {
  const fields = [
    'memorySizeMb',
    'architecture',
    'instanceType',
    'maxConcurrency',
    'provisionedConcurrency',
    'maxConcurrentInvocationsPerInstance',
    'maxConcurrentTransforms',
    'maxPayloadInMb',
    'batchStrategy',
  ].filter((k) => r.configuration[k] !== undefined);
  const instances =
    r.instances !== undefined && r.kind !== 'lambda' && r.kind !== 'sagemaker-serverless'
      ? `, ${r.instances} instance${r.instances === 1 ? '' : 's'}`
      : '';
  const job = r.job
    ? `; the job: ${formatUsdPrecise(r.job.usd)} in ${formatDurationMs(r.job.seconds * 1000)}` +
      (r.job.concurrentInvocations !== undefined ? ` at ${r.job.concurrentInvocations} invocations at once` : '') +
      (r.job.rowsPerRequest !== undefined ? `, ${r.job.rowsPerRequest} rows a request` : '')
    : '';
  return `${r.candidate} (${r.kind}: ${fields.map((k) => `${k} ${String(r.configuration[k])}`).join(', ')}${instances}${job})`;
}

/**
 * Removes CDK's cached lookups of the parameter from the context file, so the next synth reads
 * the value just written instead of the one it cached.
 */
function forgetCachedLookup(contextFile: string, parameterName: string): boolean {
  if (!existsSync(contextFile)) return false;
  let forgot = false;
  updateContextFile(contextFile, (context) => {
    const stale = Object.keys(context).filter((key) => key.startsWith('ssm:') && key.includes(`parameterName=${parameterName}:`));
    for (const key of stale) delete context[key];
    forgot = stale.length > 0;
    return forgot;
  });
  return forgot;
}

/** `modelsweep apply <sweepId>`: writes the recommendation where the model stack reads it. */
export function applyCommand(cloud: CloudDependencies = defaultCloud): Command {
  return new Command('apply')
    .description("Write a sweep's recommendation where the model stack reads it, so the next `cdk deploy` ships it")
    .argument('<sweepId>', 'the sweep whose recommendation to apply')
    .option(...STORE_DIR_OPTION)
    .option(...STACK_OPTION)
    .option(...REGION_OPTION)
    .option('--context-file <file>', "the CDK app's context file (local sweeps write the recommendation into it)", 'cdk.context.json')
    .addHelpText(
      'after',
      '\nLocal sweeps write a `modelsweep:recommendation:<model>` entry into cdk.context.json; with --stack, the\n' +
        'SSM parameter /modelsweep/<model>/recommendation. Stacks read it with ModelRecommendation.of(this, model).\n\n' +
        'Examples:\n  $ modelsweep apply demo-lambda-weekly-20261123t013308612z-7b55\n  $ modelsweep apply <sweepId> --stack ModelsweepSweep',
    )
    .action(async (sweepId: string, flags: StoreFlags & { contextFile: string }) => {
      const results = await withStore(flags, cloud, (store) => resultsOf(store, sweepId));
      let recommendation: Recommendation;
      try {
        recommendation = recommendationOf(results);
      } catch (error) {
        if (error instanceof NotDeployable) throw new CliError(error.message, results.recommended ? 2 : 1, { cause: error });
        throw error;
      }
      const contextFile = resolve(flags.contextFile);
      if (flags.stack) {
        const name = recommendationParameterName(recommendation.model);
        await cloud.ssm(flags.region).send(
          new PutParameterCommand({
            Name: name,
            Value: JSON.stringify(recommendation),
            Type: 'String',
            Overwrite: true,
            Description: `modelsweep recommendation for ${recommendation.model} (sweep ${sweepId})`,
          }),
        );
        const forgot = forgetCachedLookup(contextFile, name);
        console.log(
          `applied ${describe(recommendation)} to SSM parameter ${name}${forgot ? ` (and cleared its cached lookup in ${flags.contextFile})` : ''}`,
        );
      } else {
        writeRecommendationToContext(contextFile, recommendation);
        console.log(`applied ${describe(recommendation)} to ${flags.contextFile} (modelsweep:recommendation:${recommendation.model})`);
      }
      console.log('the next `npx cdk deploy` of the model stack ships it');
    });
}
