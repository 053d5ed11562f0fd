import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { S3Client } from '@aws-sdk/client-s3';
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
import {
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  ModelError,
  SageMakerRuntimeClient,
} from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

import { htmlReport } from '../../../../lib/report/html-report';
import { resultsText } from '../../../../lib/report/results-text';
import { resultsCsv } from '../../../../lib/report/sweep-results';
import { TAG_KEYS } from '../../../../lib/targets/cloud/resource-tags';
import { sageMakerRealtimeAdapter, sageMakerServerlessAdapter } from '../../../../lib/targets/sagemaker/adapter';
import { cloudWorkflowEnv } from '../../../../lib/workflow/cloud-env';
import {
  awsError,
  cloudSpec,
  type CommandLog,
  createdAndDeleted,
  ForgetfulRegistry,
  IMAGE,
  loggedTo,
  ROLE,
  runCloudSweep,
} from '../../../helpers/cloud-sweep';

const sagemaker = mockClient(SageMakerClient);
const runtime = mockClient(SageMakerRuntimeClient);
const cloudwatch = mockClient(CloudWatchClient);
const pricing = mockClient(PricingClient);
let log: CommandLog;

const throttle = () => awsError('ThrottlingException', 'Rate exceeded');

/** A SageMaker that works: endpoints go Creating → InService; every command is logged in order. */
function healthySageMaker() {
  log = [];
  sagemaker.reset();
  runtime.reset();
  cloudwatch.reset();
  const logged = loggedTo(log);
  const describes = new Map<string, number>();
  sagemaker.on(CreateModelCommand).callsFake(logged('CreateModel', (i) => ({ ModelArn: `arn:model/${i.ModelName}` })));
  sagemaker.on(CreateEndpointConfigCommand).callsFake(logged('CreateEndpointConfig'));
  sagemaker.on(CreateEndpointCommand).callsFake(logged('CreateEndpoint'));
  sagemaker.on(DescribeEndpointCommand).callsFake(
    logged('DescribeEndpoint', (i) => {
      const n = (describes.get(i.EndpointName) ?? 0) + 1;
      describes.set(i.EndpointName, n);
      return { EndpointName: i.EndpointName, EndpointStatus: n < 2 ? 'Creating' : 'InService' };
    }),
  );
  sagemaker.on(DeleteEndpointCommand).callsFake(logged('DeleteEndpoint'));
  sagemaker.on(DeleteEndpointConfigCommand).callsFake(logged('DeleteEndpointConfig'));
  sagemaker.on(DeleteModelCommand).callsFake(logged('DeleteModel'));
  runtime.on(InvokeEndpointCommand).callsFake(logged('InvokeEndpoint', () => ({ Body: new Uint8Array() })));
  cloudwatch.on(GetMetricDataCommand).callsFake(
    logged('GetMetricData', (i) => ({
      MetricDataResults: i.MetricDataQueries.map((q: any) => ({
        Id: q.Id,
        // ModelLatency in µs: 12 ms and 14 ms per minute; CPU 40% / 60%.
        Values:
          q.MetricStat.Metric.MetricName === 'ModelLatency' ? [12_000, 14_000] : q.MetricStat.Metric.MetricName === 'CPUUtilization' ? [40, 60] : [],
      })),
    })),
  );
}

const names = (input: Record<string, any>) => input.EndpointName ?? input.EndpointConfigName ?? input.ModelName;
const withoutInvokes = (l: CommandLog) => l.filter(([c]) => c !== 'InvokeEndpoint').map(([c]) => c);
const options = { pollIntervalMs: 1, metricsSettleMs: 0, sleep: async () => {} };
const adapters = () => ({ 'sagemaker-realtime': sageMakerRealtimeAdapter(options), 'sagemaker-serverless': sageMakerServerlessAdapter(options) });
const realtime = (extra: Record<string, unknown> = {}) => ({
  kind: 'sagemaker-realtime',
  region: 'us-east-1',
  instanceTypes: ['ml.c6i.xlarge'],
  image: IMAGE,
  executionRoleArn: ROLE,
  environment: { THREADS: '2' },
  ...extra,
});

describe('SageMaker real-time adapter', () => {
  beforeEach(healthySageMaker);

  it('works when every step runs in another process (the cloud workflow): each finds the endpoint by its handle', async () => {
    const outcome = await runCloudSweep(cloudSpec([realtime({ instanceTypes: ['ml.c6i.xlarge', 'ml.g5.xlarge'] })]), adapters(), {
      live: new ForgetfulRegistry(),
    });
    expect(outcome.records.map((r) => r.status)).toEqual(['measured', 'measured']);
    const model = log.find(([c]) => c === 'CreateModel')![1].ModelName;
    expect(outcome.records.map((r) => r.deployment)).toEqual([
      { region: 'us-east-1', endpointName: expect.stringMatching(/^ms-sagemaker-realtime-ml-c6i-xlarge/), modelName: model },
      { region: 'us-east-1', endpointName: expect.stringMatching(/^ms-sagemaker-realtime-ml-g5-xlarge/), modelName: model },
    ]);
    expect(log.filter(([c]) => c === 'InvokeEndpoint').length).toBeGreaterThan(0);
    const { created, deleted } = createdAndDeleted(log, names);
    expect(deleted).toEqual(created);
    expect(log.filter(([c]) => c === 'DeleteModel')).toHaveLength(1);
  });

  it('creates the model once, a config and an endpoint per candidate, waits, invokes, reads metrics and deletes everything', async () => {
    const outcome = await runCloudSweep(cloudSpec([realtime({ instanceTypes: ['ml.c6i.xlarge', 'ml.g5.xlarge'] })]), adapters());

    expect(outcome.records.map((r) => r.status)).toEqual(['measured', 'measured']);
    expect(withoutInvokes(log)).toEqual([
      'CreateModel',
      'CreateEndpointConfig',
      'CreateEndpoint',
      'DescribeEndpoint',
      'DescribeEndpoint',
      'GetMetricData',
      'DeleteEndpoint',
      'DeleteEndpointConfig',
      'CreateEndpointConfig',
      'CreateEndpoint',
      'DescribeEndpoint',
      'DescribeEndpoint',
      'GetMetricData',
      'DeleteEndpoint',
      'DeleteEndpointConfig',
      'DeleteModel',
    ]);
    const [, model] = log.find(([c]) => c === 'CreateModel')!;
    expect(model).toMatchObject({ ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE, Environment: { THREADS: '2' } } });
    const configs = log.filter(([c]) => c === 'CreateEndpointConfig').map(([, i]) => i);
    expect(configs.map((c) => c.ProductionVariants)).toEqual([
      [{ VariantName: 'AllTraffic', ModelName: model.ModelName, InstanceType: 'ml.c6i.xlarge', InitialInstanceCount: 1 }],
      [{ VariantName: 'AllTraffic', ModelName: model.ModelName, InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }],
    ]);
    // Every resource carries the sweep, its candidate and an expiry after now.
    for (const [command, input] of log.filter(([c]) => c.startsWith('Create'))) {
      const tags = Object.fromEntries(input.Tags.map((t: any) => [t.Key, t.Value]));
      expect(tags[TAG_KEYS.sweepId], command).toBe(outcome.sweepId);
      expect(Date.parse(tags[TAG_KEYS.expiresAt])).toBeGreaterThan(Date.now());
      if (command !== 'CreateModel') expect(tags[TAG_KEYS.candidateId]).toMatch(/^sagemaker-realtime-ml\.(c6i|g5)\.xlarge-x1$/);
    }
    const invoke = log.find(([c]) => c === 'InvokeEndpoint')![1];
    expect(invoke).toMatchObject({ ContentType: 'application/json', Accept: 'application/json', EndpointName: configs[0].EndpointConfigName });
    expect(outcome.records[0].phases[0].serverMetrics).toEqual({
      ModelLatency: { average: 13, maximum: 14, unit: 'ms', datapoints: 2 },
      CPUUtilization: { average: 50, maximum: 60, unit: 'percent', datapoints: 2 },
    });
    expect(createdAndDeleted(log, names).deleted).toEqual(createdAndDeleted(log, names).created);
    expect(outcome.stored).toBe(2);
  });

  it('streams a generative candidate through InvokeEndpointWithResponseStream and judges it on its tokens', async () => {
    const sse =
      ['a', 'b', 'c']
        .map((t, i) => `data: ${JSON.stringify({ choices: [{ delta: { content: t }, ...(i === 2 ? { finish_reason: 'stop' } : {}) }] })}\n\n`)
        .join('') + 'data: [DONE]\n\n';
    runtime.on(InvokeEndpointWithResponseStreamCommand).callsFake(() => ({
      Body: (async function* () {
        for (let i = 0; i < sse.length; i += 9) yield { PayloadPart: { Bytes: Buffer.from(sse.slice(i, i + 9)) } };
      })(),
    }));
    const outcome = await runCloudSweep(
      cloudSpec([realtime({ api: 'openai-chat' })], {
        payloads: [{ body: '{"model":"m","messages":[{"role":"user","content":"Hi"}]}' }],
        slo: { percentile: 95, latencyMs: 200, maxErrorRate: 0.05, timeToFirstToken: { ms: 150 } },
      }),
      adapters(),
    );
    expect(runtime.commandCalls(InvokeEndpointCommand)).toHaveLength(0);
    const [phase] = outcome.records[0]!.phases;
    expect(phase!.tokens).toMatchObject({ countedBy: 'chunks', outputTokens: 3 * phase!.successes });
    expect(outcome.results!.candidates[0]!.tokenLatenciesMs!.timeToFirstToken).toBeGreaterThan(0);
    expect(createdAndDeleted(log, names).deleted).toEqual(createdAndDeleted(log, names).created);
  });

  it('retries throttling with backoff and then succeeds', async () => {
    let throttled = 0;
    sagemaker.on(CreateEndpointConfigCommand).callsFake((input) => {
      if (throttled++ < 2) throw throttle();
      log.push(['CreateEndpointConfig', input]);
      return {};
    });
    const outcome = await runCloudSweep(cloudSpec([realtime()]), adapters());
    expect(throttled).toBe(3);
    expect(outcome.records[0].status).toBe('measured');
  });

  it('marks a candidate unavailable on a quota error, deletes what it created, and goes on', async () => {
    sagemaker.on(CreateEndpointCommand).callsFake((input) => {
      if (input.EndpointName.includes('g5'))
        throw awsError('ResourceLimitExceeded', 'The account-level service limit for ml.g5.xlarge for endpoint usage is 0 Instances');
      log.push(['CreateEndpoint', input]);
      return {};
    });
    const outcome = await runCloudSweep(cloudSpec([realtime({ instanceTypes: ['ml.g5.xlarge', 'ml.c6i.xlarge'] })]), adapters());
    expect(outcome.records.map((r) => [r.candidate.id, r.status])).toEqual([
      ['sagemaker-realtime-ml.g5.xlarge-x1', 'unavailable'],
      ['sagemaker-realtime-ml.c6i.xlarge-x1', 'measured'],
    ]);
    expect(outcome.records[0].reason).toMatch(/ResourceLimitExceeded: The account-level service limit for ml\.g5\.xlarge/);
    const { created, deleted } = createdAndDeleted(log, names);
    expect(deleted).toEqual(created);
  });

  const faults: Array<[string, () => void, 'failed' | 'measured', RegExp | undefined]> = [
    [
      'CreateModel',
      () => sagemaker.on(CreateModelCommand).rejects(awsError('ValidationException', 'Could not access model data at s3://x')),
      'failed',
      /Could not access model data/,
    ],
    [
      'CreateEndpointConfig',
      () => sagemaker.on(CreateEndpointConfigCommand).rejects(awsError('ValidationException', 'bad config')),
      'failed',
      /bad config/,
    ],
    ['CreateEndpoint', () => sagemaker.on(CreateEndpointCommand).rejects(awsError('InternalFailure', 'boom', 500)), 'failed', /boom/],
    [
      'DescribeEndpoint (Failed)',
      () =>
        sagemaker
          .on(DescribeEndpointCommand)
          .resolves({ EndpointStatus: 'Failed', FailureReason: 'The primary container did not pass the ping health check' }),
      'failed',
      /Failed: The primary container did not pass the ping health check \(logs: CloudWatch log group \/aws\/sagemaker\/Endpoints\/ms-/,
    ],
    [
      'InvokeEndpoint',
      () => runtime.on(InvokeEndpointCommand).rejects(new ModelError({ message: 'model crashed', $metadata: {} })),
      // every request failed: nothing to judge, so failed, with its error kinds (its phases kept)
      'failed',
      /^every one of its \d+ requests failed: target_ModelError=\d+$/,
    ],
    ['GetMetricData', () => cloudwatch.on(GetMetricDataCommand).rejects(awsError('AccessDenied', 'no')), 'measured', undefined],
  ];
  it.each(faults)('deletes every created resource when %s fails', async (_step, inject, status, reason) => {
    inject();
    const outcome = await runCloudSweep(cloudSpec([realtime()]), adapters());
    const record = outcome.records[0];
    expect(record.status).toBe(status);
    if (reason) expect(record.reason).toMatch(reason);
    if (_step === 'InvokeEndpoint') expect(Object.keys(record.phases[0].errors)).toEqual(['target_ModelError']);
    if (_step === 'GetMetricData') expect(record.phases[0].serverMetrics).toBeUndefined();
    const { created, deleted } = createdAndDeleted(log, names);
    expect(deleted).toEqual(created);
    expect(record.teardownError).toBeUndefined();
  });

  it('treats already-deleted resources as torn down, and retries a throttled delete', async () => {
    sagemaker.on(DeleteEndpointCommand).rejects(awsError('ValidationException', 'Could not find endpoint "ms-x".'));
    let throttled = false;
    sagemaker.on(DeleteEndpointConfigCommand).callsFake((input) => {
      if (!throttled) {
        throttled = true;
        throw throttle();
      }
      log.push(['DeleteEndpointConfig', input]);
      return {};
    });
    sagemaker.on(DeleteModelCommand).rejects(awsError('ValidationException', 'Could not find model "ms-model".'));
    const outcome = await runCloudSweep(cloudSpec([realtime()]), adapters());
    expect(outcome.records[0]).toMatchObject({ status: 'measured' });
    expect(outcome.records[0].teardownError).toBeUndefined();
    expect(log.filter(([c]) => c === 'DeleteEndpointConfig')).toHaveLength(1);
  });

  it('records a teardown that could not finish, and still keeps the measurements', async () => {
    sagemaker.on(DeleteEndpointCommand).rejects(awsError('AccessDeniedException', 'not allowed to delete'));
    const outcome = await runCloudSweep(cloudSpec([realtime()]), adapters());
    expect(outcome.records[0].status).toBe('measured');
    expect(outcome.records[0].teardownError).toMatch(
      /teardown incomplete \(what is left carries the sweep id and an expiry in its tags\): delete endpoint ms-.*not allowed to delete/,
    );
    // The config was still deleted: one failure does not stop the other steps.
    expect(log.filter(([c]) => c === 'DeleteEndpointConfig')).toHaveLength(1);
  });

  it('refuses a candidate over the budget before creating anything for it', async () => {
    // ml.g5.xlarge for 15 min of provisioning plus the load is over $0.05.
    const outcome = await runCloudSweep(cloudSpec([realtime({ instanceTypes: ['ml.g5.xlarge'] })], { budget: { maxUsd: 0.05 } }), adapters());
    expect(outcome.records[0].status).toBe('over-budget');
    expect(outcome.records[0].reason).toMatch(
      /measuring it would cost about \$0\.\d\d \(0\.25 h of 1 × ml\.g5\.xlarge at \$\d\.\d{3}\/h \(including ~15 min to deploy and remove\)\); \$0\.05 of the \$0\.05 budget is left/,
    );
    expect(log).toEqual([]);
  });
});

describe('SageMaker serverless adapter', () => {
  beforeEach(healthySageMaker);

  it('configures memory, max and provisioned concurrency, times the first request as a cold start and one after idle', async () => {
    const group = {
      kind: 'sagemaker-serverless',
      memorySizesMb: [2048],
      maxConcurrency: 10,
      provisionedConcurrency: [0, 2],
      image: IMAGE,
      executionRoleArn: ROLE,
      coldStartAfterIdle: '10m',
    };
    const outcome = await runCloudSweep(cloudSpec([group]), adapters());
    expect(outcome.records.map((r) => r.status)).toEqual(['measured', 'measured']);
    expect(log.filter(([c]) => c === 'CreateEndpointConfig').map(([, i]) => i.ProductionVariants[0].ServerlessConfig)).toEqual([
      { MemorySizeInMB: 2048, MaxConcurrency: 10 },
      { MemorySizeInMB: 2048, MaxConcurrency: 10, ProvisionedConcurrency: 2 },
    ]);
    expect(outcome.records[0].coldStarts?.map((c) => [c.after, c.ok])).toEqual([
      ['deploy', true],
      ['idle', true],
    ]);
    // Priced per request: the verdict has a monthly cost but no instance count beyond one.
    const verdict = outcome.selection.candidates.find((c) => c.id === outcome.records[0].candidate.id)!;
    expect(verdict.monthlyCostUsd).toBeGreaterThan(0);
    expect(createdAndDeleted(log, names).deleted).toEqual(createdAndDeleted(log, names).created);
  });
});

describe('access check', () => {
  beforeEach(healthySageMaker);

  it('stops before creating anything when there are no credentials', async () => {
    const noCredentials = sageMakerRealtimeAdapter({
      ...options,
      clients: () => ({
        sagemaker: new SageMakerClient({
          region: 'us-east-1',
          credentials: async () => Promise.reject(new Error('Could not load credentials from any providers')),
        }),
        runtime: new SageMakerRuntimeClient({}),
        cloudwatch: new CloudWatchClient({}),
        s3: new S3Client({}),
      }),
    });
    await expect(runCloudSweep(cloudSpec([realtime()]), { 'sagemaker-realtime': noCredentials })).rejects.toThrow(
      /sagemaker-realtime candidates: no AWS credentials \(Could not load credentials from any providers\); set AWS_PROFILE/,
    );
    expect(log).toEqual([]);
  });

  it('stops before creating anything when the catalog has no price for an instance type', async () => {
    await expect(runCloudSweep(cloudSpec([realtime({ instanceTypes: ['ml.c6i.xlarge', 'ml.p5.48xlarge'] })]), adapters())).rejects.toThrow(
      /cannot price every candidate: no price for ml\.p5\.48xlarge \(SageMaker real-time\) in us-east-1 in bundled snapshot \(2025-10\); nearest priced: .*; fetch current prices with `modelsweep prices update --service sagemaker --region us-east-1`, or give it with --prices/,
    );
    expect(log).toEqual([]);
  });
});

describe('pricing a cloud sweep', () => {
  /** A Price List item as GetProducts returns it: one product with its OnDemand terms, as a JSON string. */
  const priceListItem = (sku: string, component: string, type: string, usd: string) =>
    JSON.stringify({
      product: {
        productFamily: 'ML Instance',
        sku,
        attributes: {
          regionCode: 'us-east-1',
          locationType: 'AWS Region',
          platoinstancetype: component,
          component,
          instanceName: type,
          usagetype: `USE1-${component}:${type}`,
        },
      },
      serviceCode: 'AmazonSageMaker',
      terms: {
        OnDemand: { [`${sku}.JRTCKXETXF`]: { priceDimensions: { [`${sku}.JRTCKXETXF.6YS6EN2CT7`]: { unit: 'Hrs', pricePerUnit: { USD: usd } } } } },
      },
      version: '20261201000000',
      publicationDate: '2026-12-01T00:00:00Z',
    });
  // The cloud's own environment, as the step functions build it; its fetchPrices reads the Query API through the mocked PricingClient.
  const { fetchPrices } = cloudWorkflowEnv({ MODELSWEEP_TABLE: 'results', MODELSWEEP_BUCKET: 'bucket' });

  beforeEach(() => {
    healthySageMaker();
    pricing.reset();
    pricing.on(GetProductsCommand).callsFake((input) => {
      log.push(['GetProducts', input]);
      const type = input.Filters.find((f: any) => f.Field === 'instanceName')?.Value;
      return {
        PriceList: type === 'ml.g6e.xlarge' ? [priceListItem('T1', 'Training', type, '3.1000'), priceListItem('H1', 'Hosting', type, '2.6432')] : [],
      };
    });
  });

  it('prices each candidate from the Price List at the start, before anything is created, and records the prices with the sweep', async () => {
    const outcome = await runCloudSweep(cloudSpec([realtime({ instanceTypes: ['ml.g6e.xlarge'] })]), adapters(), { fetchPrices });

    expect(outcome.records.map((r) => r.status)).toEqual(['measured']);
    const [first, second] = log.map(([c]) => c);
    expect([first, second]).toEqual(['GetProducts', 'CreateModel']);
    expect(log[0]![1]).toMatchObject({
      ServiceCode: 'AmazonSageMaker',
      Filters: [
        { Type: 'TERM_MATCH', Field: 'regionCode', Value: 'us-east-1' },
        { Type: 'TERM_MATCH', Field: 'instanceName', Value: 'ml.g6e.xlarge' },
      ],
    });
    const [candidate] = outcome.results!.candidates;
    expect(candidate).toMatchObject({
      costPerHourUsd: 2.6432,
      priceSources: [
        { catalog: 'sagemaker-realtime', region: 'us-east-1', origin: 'price-list', label: 'AWS Price List Query API', asOf: '2026-12-01' },
      ],
    });
    expect(outcome.results!.pricing).toEqual({ commitment: 'on-demand', warnings: [] });
    // Every way the results are read says where the price came from.
    const source =
      /AWS Price List Query API, pricing:GetProducts AmazonSageMaker regionCode=us-east-1 instanceName=ml\.g6e\.xlarge, us-east-1, published 2026-12-01, fetched \d{4}-\d{2}-\d{2}/;
    expect(resultsText(outcome.results!)).toMatch(new RegExp(`^prices: ${source.source}$`, 'm'));
    expect(resultsCsv(outcome.results!)).toMatch(source);
    expect(htmlReport(outcome.results!)).toMatch(source);
  });

  it("lets the spec's pricing.prices override the Price List, and says so", async () => {
    const spec = cloudSpec([realtime({ instanceTypes: ['ml.g6e.xlarge'] })], {
      pricing: { prices: { sagemakerRealtime: { 'us-east-1': { perInstanceHour: { 'ml.g6e.xlarge': 2 } } } } },
    });

    const outcome = await runCloudSweep(spec, adapters(), { fetchPrices });

    expect(outcome.results!.candidates[0]).toMatchObject({ costPerHourUsd: 2, priceSources: [{ origin: 'override', label: 'spec pricing.prices' }] });
  });

  it('prices from the snapshot, with a warning recorded, when the Price List cannot be read', async () => {
    pricing
      .on(GetProductsCommand)
      .rejects(Object.assign(new Error('User is not authorized to perform: pricing:GetProducts'), { name: 'AccessDeniedException' }));

    const outcome = await runCloudSweep(cloudSpec([realtime({ instanceTypes: ['ml.g5.xlarge'] })]), adapters(), { fetchPrices });

    expect(outcome.records.map((r) => r.status)).toEqual(['measured']);
    expect(outcome.results!.candidates[0]).toMatchObject({ costPerHourUsd: 1.408, priceSources: [{ origin: 'snapshot' }] });
    expect(outcome.results!.pricing!.warnings).toEqual([
      expect.stringMatching(
        /^could not read current prices \(User is not authorized to perform: pricing:GetProducts\); priced from the prices at hand$/,
      ),
      expect.stringMatching(/SageMaker real-time prices for us-east-1 come from the bundled snapshot dated 2025-10/),
    ]);
  });

  it('prices with a commitment, keeping the on-demand cost beside it', async () => {
    const spec = cloudSpec([realtime({ instanceTypes: ['ml.g5.xlarge'] })], {
      pricing: {
        commitment: '1y-no-upfront',
        prices: { sagemakerRealtime: { 'us-east-1': { committedPerInstanceHour: { '1y-no-upfront': { 'ml.g5.xlarge': 1 } } } } },
      },
    });

    const outcome = await runCloudSweep(spec, adapters(), { fetchPrices });

    const [candidate] = outcome.results!.candidates;
    expect(candidate!.costPerHourUsd).toBe(1);
    expect(candidate!.monthlyCostUsd! / candidate!.onDemandMonthlyCostUsd!).toBeCloseTo(1 / 1.408, 9);
    expect(outcome.results!.pricing!.commitment).toBe('1y-no-upfront');
    // Measuring is billed on demand: the same measurement cost as without the commitment.
    const onDemand = await runCloudSweep(cloudSpec([realtime({ instanceTypes: ['ml.g5.xlarge'] })]), adapters(), { fetchPrices });
    expect(outcome.records[0]!.measurementCostUsd).toBeGreaterThan(0);
    expect(outcome.records[0]!.measurementCostUsd).toBe(onDemand.records[0]!.measurementCostUsd);
    expect(resultsText(outcome.results!)).toMatch(
      /^commitment: 1y-no-upfront; sagemaker-realtime-ml\.g5\.xlarge-x1 costs \$730\.00\/month under it, \$1027\.84 on demand$/m,
    );
    expect(htmlReport(outcome.results!)).toMatch(/<th class="num">\$\/month on demand<\/th>/);
  });

  it('stops before creating anything when neither the Price List nor the prices at hand know an instance type', async () => {
    await expect(runCloudSweep(cloudSpec([realtime({ instanceTypes: ['ml.p5.48xlarge'] })]), adapters(), { fetchPrices })).rejects.toThrow(
      /cannot price every candidate: no price for ml\.p5\.48xlarge/,
    );
    expect(log.map(([c]) => c)).toEqual(['GetProducts']);
  });
});
