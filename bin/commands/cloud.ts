import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';

import { ResultsStore } from '../../lib/store/results-store';
import { realSleep } from '../../lib/targets/cloud/retry';
import { SWEEP_STACK_OUTPUTS } from '../../lib/workflow/cloud-names';
import { CliError, EXIT } from './cli-error';
import { STORE_DIR_OPTION, withLocalStore } from './local-store';

/** What a deployed sweep stack says about itself (its CloudFormation outputs). */
export interface SweepStack {
  readonly stateMachineArn: string;
  readonly bucketName: string;
  readonly tableName: string;
  readonly topicArn?: string;
}

/** The clouds the start, status, apply and results commands talk to; tests replace them. */
export interface CloudDependencies {
  stack(name: string, region: string | undefined): Promise<SweepStack>;
  sfn(region: string | undefined): SFNClient;
  s3(region: string | undefined): S3Client;
  dynamo(region: string | undefined): DynamoDBClient;
  ssm(region: string | undefined): SSMClient;
  sleep(ms: number): Promise<void>;
}

export const defaultCloud: CloudDependencies = {
  async stack(name, region) {
    let outputs: Record<string, string>;
    try {
      const { Stacks = [] } = await new CloudFormationClient({ region }).send(new DescribeStacksCommand({ StackName: name }));
      outputs = Object.fromEntries((Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
    } catch (error) {
      throw new CliError(
        `cannot read stack ${name}${region ? ` in ${region}` : ''}: ${(error as Error).name}: ${(error as Error).message} (deploy it with \`npx cdk deploy ${name}\`, and check your AWS credentials and region)`,
        EXIT.badInput,
        { cause: error },
      );
    }
    const need = (key: string) => {
      if (!outputs[key])
        throw new CliError(
          `stack ${name} has no ${key} output: is it a modelsweep sweep stack (a BenchmarkSweep with its outputs, like bin/app.ts's ModelsweepSweep)?`,
        );
      return outputs[key]!;
    };
    return {
      stateMachineArn: need(SWEEP_STACK_OUTPUTS.stateMachineArn),
      bucketName: need(SWEEP_STACK_OUTPUTS.bucketName),
      tableName: need(SWEEP_STACK_OUTPUTS.tableName),
      ...(outputs[SWEEP_STACK_OUTPUTS.topicArn] ? { topicArn: outputs[SWEEP_STACK_OUTPUTS.topicArn] } : {}),
    };
  },
  sfn: (region) => new SFNClient({ region }),
  s3: (region) => new S3Client({ region }),
  dynamo: (region) => new DynamoDBClient({ region }),
  ssm: (region) => new SSMClient({ region }),
  sleep: realSleep,
};

export const STACK_OPTION = [
  '--stack <name>',
  'a deployed sweep stack (its results table, bucket and state machine) instead of the local store',
] as const;
export const REGION_OPTION = ['--region <region>', "the sweep stack's region (default: your AWS configuration's)"] as const;

export interface StoreFlags {
  readonly storeDir: string;
  readonly stack?: string;
  readonly region?: string;
}

/** Runs `use` with the results of a deployed sweep stack (`--stack`), or the local store. */
export async function withStore<T>(
  flags: StoreFlags,
  cloud: CloudDependencies,
  use: (store: ResultsStore, stack?: SweepStack) => Promise<T>,
): Promise<T> {
  if (!flags.stack) return withLocalStore(flags.storeDir, (store) => use(store), { create: false });
  const stack = await cloud.stack(flags.stack, flags.region);
  return use(new ResultsStore(cloud.dynamo(flags.region), stack.tableName), stack);
}

export { STORE_DIR_OPTION };
