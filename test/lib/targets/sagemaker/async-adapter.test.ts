import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointAsyncCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { recommendationOf } from '../../../../lib/apply/apply-recommendation';
import { PriceBook } from '../../../../lib/cost/price-book';
import { parseSpec } from '../../../../lib/spec/load-spec';
import { sageMakerAsyncAdapter } from '../../../../lib/targets/sagemaker/adapter';
import { awsError, cloudSpec, type CommandLog, createdAndDeleted, IMAGE, loggedTo, ROLE, runCloudSweep } from '../../../helpers/cloud-sweep';
import { fakeBucket, type FakeObject } from '../../../helpers/fake-bucket';

const sagemaker = mockClient(SageMakerClient);
const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
let log: CommandLog;
/** The bucket, as S3 would hold it. */
let objects: Map<string, FakeObject>;

/**
 * SageMaker and S3 that work: each queued request's answer (or, with `fail`, its failure) is in
 * S3 once the request has been looked for `looksBeforeDone` times.
 */
function healthyAws({ fail = false, looksBeforeDone = 1 } = {}) {
  log = [];
  for (const client of [sagemaker, runtime, s3]) client.reset();
  const logged = loggedTo(log);
  sagemaker.on(CreateModelCommand).callsFake(logged('CreateModel', (i) => ({ ModelArn: `arn:model/${i.ModelName}` })));
  sagemaker.on(CreateEndpointCommand).callsFake(logged('CreateEndpoint'));
  sagemaker.on(DescribeEndpointCommand).callsFake(logged('DescribeEndpoint', (i) => ({ EndpointName: i.EndpointName, EndpointStatus: 'InService' })));
  sagemaker.on(DeleteEndpointCommand).callsFake(logged('DeleteEndpoint'));
  sagemaker.on(DeleteEndpointConfigCommand).callsFake(logged('DeleteEndpointConfig'));
  sagemaker.on(DeleteModelCommand).callsFake(logged('DeleteModel'));
  const configs = new Map<string, any>();
  sagemaker.on(CreateEndpointConfigCommand).callsFake((i) => {
    log.push(['CreateEndpointConfig', i]);
    configs.set(i.EndpointConfigName, i.AsyncInferenceConfig);
    return {};
  });
  const looks = new Map<string, number>();
  const pending = new Map<string, string>();
  let n = 0;
  const appear = (key: string) => {
    const location = `s3://bucket/${key}`;
    const seen = (looks.get(location) ?? 0) + 1;
    looks.set(location, seen);
    if (pending.has(location) && seen >= looksBeforeDone) {
      objects.set(key, { body: new TextEncoder().encode(pending.get(location)!), at: new Date() });
      pending.delete(location);
    }
  };
  objects = fakeBucket(s3, log, { beforeLook: appear });
  runtime.on(InvokeEndpointAsyncCommand).callsFake((i) => {
    log.push(['InvokeEndpointAsync', i]);
    const input = i.InputLocation.replace('s3://bucket/', '');
    if (!objects.has(input)) throw awsError('ValidationError', `no input at ${i.InputLocation}`);
    const { S3OutputPath, S3FailurePath } = configs.get(i.EndpointName).OutputConfig;
    const id = `req-${(n += 1)}`;
    const output = `${S3OutputPath}/${id}.out`;
    const failure = `${S3FailurePath}/${id}-error.out`;
    pending.set(fail ? failure : output, fail ? 'model crashed' : '{"predictions":[[0.1,0.9]]}');
    return { InferenceId: id, OutputLocation: output, FailureLocation: failure };
  });
}

const options = { pollIntervalMs: 1, metricsSettleMs: 0, answerPollMs: 1, sleep: async () => {} };
const adapters = () => ({ 'sagemaker-async': sageMakerAsyncAdapter(options) });
const names = (input: Record<string, any>) => input.EndpointName ?? input.EndpointConfigName ?? input.ModelName;
const asyncGroup = (extra: Record<string, unknown> = {}) => ({
  kind: 'sagemaker-async',
  region: 'us-east-1',
  instanceTypes: ['ml.c6i.xlarge'],
  s3Path: 's3://bucket/async-sweeps/',
  image: IMAGE,
  executionRoleArn: ROLE,
  ...extra,
});
/** What the bundled snapshot lacks: asynchronous instance-hours (the price lists' AsyncInf SKUs). */
const ASYNC_PRICES = { sagemakerAsync: { 'us-east-1': { perInstanceHour: { 'ml.c6i.xlarge': 0.204, 'ml.g5.xlarge': 1.41 } } } };
const offlineSpec = (groups: unknown[], extra: Record<string, unknown> = {}) => ({
  ...cloudSpec(groups),
  traffic: undefined,
  load: { phases: [], timeout: '2s' },
  slo: { maxErrorRate: 0.05 },
  offline: { rows: 1_000_000, deadline: '2h', saturation: { from: 1, to: 4, stepDuration: '200ms', precision: 0.5 } },
  pricing: { prices: ASYNC_PRICES },
  ...extra,
});

/** A candidate and an adapter context, to drive the adapter directly. */
function outsideASweep(sweepId: string, timeoutMs: number) {
  const [candidate] = parseSpec(stringify(offlineSpec([asyncGroup()])), 'spec.yaml', '/').candidates;
  const now = new Date();
  const context = { sweepId, baseDir: '/', timeoutMs, createdAt: now, expiresAt: new Date(now.getTime() + 3_600_000), prices: PriceBook.snapshot() };
  return { candidate: candidate!, context };
}

describe('SageMaker asynchronous endpoints, in an offline sweep', () => {
  beforeEach(() => healthyAws());

  it("queues requests through the candidate's S3 folder, measures the drain rate at saturation, prices asynchronous hours, and deletes the endpoint, its config and every object", async () => {
    const spec = offlineSpec([asyncGroup({ maxConcurrentInvocationsPerInstance: [2] })]);

    const outcome = await runCloudSweep(spec, adapters());

    expect(outcome.records.map((r) => [r.status, r.reason])).toEqual([['measured', undefined]]);
    const candidateId = outcome.records[0]!.candidate.id;
    const [, config] = log.find(([c]) => c === 'CreateEndpointConfig')!;
    const folder = `s3://bucket/async-sweeps/${outcome.sweepId}/${candidateId}`;
    expect(config.AsyncInferenceConfig).toEqual({
      OutputConfig: { S3OutputPath: `${folder}/out`, S3FailurePath: `${folder}/failed` },
      ClientConfig: { MaxConcurrentInvocationsPerInstance: 2 },
    });
    expect(config.ProductionVariants).toEqual([expect.objectContaining({ InstanceType: 'ml.c6i.xlarge', InitialInstanceCount: 1 })]);
    const invokes = log.filter(([c]) => c === 'InvokeEndpointAsync');
    expect(invokes.length).toBeGreaterThan(10);
    expect(invokes.every(([, i]) => i.InputLocation.startsWith(`${folder}/in/`))).toBe(true);
    const [verdict] = outcome.results!.candidates;
    expect(verdict).toMatchObject({ costPerHourUsd: 0.204, priceSources: [{ catalog: 'sagemaker-async', origin: 'override' }] });
    expect(verdict!.job!.estimate).toMatchObject({ fits: true, instances: expect.any(Number) });
    // `modelsweep apply` ships it: the configuration, the instances that end the job in time, and the job's estimate.
    const applied = recommendationOf(outcome.results!);
    expect(applied).toMatchObject({
      kind: 'sagemaker-async',
      candidate: candidateId,
      configuration: { instanceType: 'ml.c6i.xlarge', maxConcurrentInvocationsPerInstance: 2 },
      instances: verdict!.instances,
      job: { rows: 1_000_000, deadlineSeconds: 7200, usd: (verdict!.job!.estimate as { usd: number }).usd },
    });
    // Nothing left: the endpoint, its config, the model, and every request, answer and failure in S3.
    const { created, deleted } = createdAndDeleted(log, names);
    expect(deleted).toEqual(created);
    expect(objects.size).toBe(0);
    expect(log.filter(([c]) => c === 'S3 DeleteObjects').length).toBeGreaterThan(0);
  });

  it('counts answers that land in the failure folder as errors, and still deletes everything', async () => {
    healthyAws({ fail: true });

    const outcome = await runCloudSweep(offlineSpec([asyncGroup()]), adapters());

    const [record] = outcome.records;
    expect(record!.status).not.toBe('measured');
    expect(JSON.stringify(record)).toMatch(/target_AsyncInferenceFailed/);
    const { created, deleted } = createdAndDeleted(log, names);
    expect(deleted).toEqual(created);
    expect(objects.size).toBe(0);
  });

  it('times out a request whose answer never appears, as a timeout and not as a measurement', async () => {
    healthyAws({ looksBeforeDone: Number.POSITIVE_INFINITY });
    const adapter = sageMakerAsyncAdapter({ ...options, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });
    const { candidate, context } = outsideASweep('sweep-1', 300);
    const deployment = await adapter.deploy(candidate, context);

    const outcome = await adapter.invoker(deployment, context).invoke({ body: '{}', contentType: 'application/json', weight: 1 } as never);

    expect(outcome).toEqual({ ok: false, failure: { kind: 'timeout' } });
    await deployment.teardown();
    expect(objects.size).toBe(0);
  });

  it("reads a request's answer back from S3 (quality examples), and names a failure", async () => {
    const adapter = sageMakerAsyncAdapter(options);
    const { candidate, context } = outsideASweep('sweep-2', 2000);
    const deployment = await adapter.deploy(candidate, context);
    const payload = { body: '{}', contentType: 'application/json', weight: 1 } as never;

    const answer = await adapter.invoker(deployment, context).answer!(payload);

    expect(answer.ok && new TextDecoder().decode(answer.body)).toBe('{"predictions":[[0.1,0.9]]}');
    healthyAws({ fail: true });
    const failed = await adapter.invoker(await adapter.deploy(candidate, context), context).answer!(payload);
    expect(failed).toEqual({ ok: false, failure: { kind: 'target', code: 'AsyncInferenceFailed' } });
  });

  it('deletes the config and the folder when the endpoint cannot be created, and reports the quota', async () => {
    sagemaker
      .on(CreateEndpointCommand)
      .rejects(awsError('ResourceLimitExceeded', 'The account-level service limit ml.c6i.xlarge for endpoint usage is 0 Instances'));

    const outcome = await runCloudSweep(offlineSpec([asyncGroup()]), adapters());

    expect(outcome.records[0]).toMatchObject({ status: 'unavailable' });
    expect(log.map(([c]) => c)).toEqual(expect.arrayContaining(['DeleteEndpointConfig', 'DeleteModel']));
    expect(log.some(([c]) => c === 'DeleteEndpoint')).toBe(false);
  });

  it('stops before creating anything when the bucket of s3Path cannot be reached', async () => {
    s3.on(HeadBucketCommand).rejects(awsError('AccessDenied', 'Access Denied', 403));

    await expect(runCloudSweep(offlineSpec([asyncGroup()]), adapters())).rejects.toThrow(
      /sagemaker-async candidates: cannot reach s3Path's bucket bucket \(AccessDenied: Access Denied\); the sweep's credentials need s3:ListBucket/,
    );
    expect(log.filter(([c]) => c.startsWith('Create'))).toEqual([]);
  });

  it('refuses a sweep whose prices have no asynchronous rate for a candidate, before anything is created', async () => {
    await expect(runCloudSweep(offlineSpec([asyncGroup()], { pricing: undefined }), adapters())).rejects.toThrow(
      /no SageMaker asynchronous inference prices for region us-east-1.*modelsweep prices update --service sagemaker --region us-east-1/,
    );
    expect(log.filter(([c]) => c.startsWith('Create'))).toEqual([]);
  });

  it('is refused in a real-time sweep, naming the field', () => {
    expect(() => parseSpec(stringify(cloudSpec([asyncGroup()])), 'spec.yaml', '/')).toThrow(
      /candidates\[0\]\.kind \(line \d+\): sagemaker-async answers through a queue, not within a latency SLO/,
    );
  });
});
