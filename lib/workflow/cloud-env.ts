import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PricingClient } from '@aws-sdk/client-pricing';
import { S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';

import { PriceBook } from '../cost/price-book';
import { queryAwsPrices } from '../cost/price-list/aws-query-api';
import { ModelsweepError } from '../errors';
import type { Candidate } from '../spec/expand';
import { ResultsStore } from '../store/results-store';
import { ALL_KINDS, whyNotInCloud } from '../targets/kind-rules';
import { CLOUD_ENV } from './cloud-names';
import { defaultAdapters } from './default-adapters';
import type { WorkflowEnv } from './env';
import { s3BlobStore } from './s3-blob-store';
import type { SweepSummary } from './sweep-summary';

/** Why a kind cannot run in the cloud workflow, or was not enabled on it. */
function unsupportedKinds(enabled: readonly string[]): Map<Candidate['kind'], string> {
  const why = new Map<Candidate['kind'], string>();
  for (const kind of ALL_KINDS) {
    const notInCloud = whyNotInCloud(kind);
    if (notInCloud) why.set(kind, notInCloud);
    else if (!enabled.includes(kind))
      why.set(
        kind,
        `this BenchmarkSweep was not given the permissions for ${kind} candidates (see its ${kind === 'lambda' ? 'lambdaFunctions' : 'sageMaker'} prop)`,
      );
  }
  return why;
}

/** The steps' environment in a Lambda function, from the variables the construct set. */
export function cloudWorkflowEnv(variables: NodeJS.ProcessEnv = process.env): WorkflowEnv {
  const required = (name: string) => {
    const value = variables[name];
    if (!value) throw new ModelsweepError('not-installed', `environment variable ${name} is not set: this function runs as part of a BenchmarkSweep`);
    return value;
  };
  const topicArn = variables[CLOUD_ENV.topic];
  const sns = topicArn ? new SNSClient({}) : undefined;
  return {
    store: new ResultsStore(new DynamoDBClient({}), required(CLOUD_ENV.table)),
    blobs: s3BlobStore(new S3Client({}), required(CLOUD_ENV.bucket)),
    adapters: defaultAdapters(),
    prices: PriceBook.snapshot(),
    // Each sweep is priced from the Price List as it is at its start; the snapshot stands in for what it lacks.
    fetchPrices: (keys) => queryAwsPrices(pricingClient(), keys, new Date()),
    unsupportedKinds: unsupportedKinds((variables[CLOUD_ENV.kinds] ?? '').split(',').filter(Boolean)),
    maxRatePerGenerator: Number(variables[CLOUD_ENV.maxRatePerGenerator] ?? 200),
    maxPhaseMs: Number(variables[CLOUD_ENV.maxPhaseSeconds] ?? 600) * 1000,
    notify: sns && topicArn ? (summary) => sns.send(new PublishCommand(notification(topicArn, summary))).then(() => undefined) : undefined,
  };
}

/** The Price List Query API is served from us-east-1 (and two other regions), whatever region the sweep runs in. */
let pricing: PricingClient | undefined;
const pricingClient = () => (pricing ??= new PricingClient({ region: 'us-east-1' }));

/** The SNS message of a finished sweep: the winner, whether it changed, and where the report is. */
export function notification(topicArn: string, summary: SweepSummary) {
  const winner = summary.recommended ?? 'none (no candidate meets the SLO)';
  const change = summary.previous
    ? summary.changed
      ? `changed from ${summary.previous.recommended ?? 'none'}`
      : 'unchanged'
    : 'first sweep of this model';
  const subject = `modelsweep ${summary.model}: ${summary.status === 'failed' ? 'sweep failed' : `${winner} (${change})`}`;
  return {
    TopicArn: topicArn,
    Subject: subject.slice(0, 100),
    Message: JSON.stringify(summary, null, 2),
    MessageAttributes: {
      status: { DataType: 'String', StringValue: summary.status },
      changed: { DataType: 'String', StringValue: String(summary.changed) },
    },
  };
}
