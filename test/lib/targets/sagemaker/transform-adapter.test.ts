import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateModelCommand,
  CreateTransformJobCommand,
  DeleteModelCommand,
  DescribeTransformJobCommand,
  SageMakerClient,
  StopTransformJobCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { recommendationOf } from '../../../../lib/apply/apply-recommendation';
import { PriceBook } from '../../../../lib/cost/price-book';
import { htmlReport } from '../../../../lib/report/html-report';
import { resultsText } from '../../../../lib/report/results-text';
import { resultsCsv } from '../../../../lib/report/sweep-results';
import { parseSpec } from '../../../../lib/spec/load-spec';
import { sageMakerTransformAdapter } from '../../../../lib/targets/sagemaker/transform-job';
import { awsError, cloudSpec, type CommandLog, IMAGE, loggedTo, ROLE, runCloudSweep } from '../../../helpers/cloud-sweep';
import { fakeBucket, type FakeObject, objectText } from '../../../helpers/fake-bucket';

const sagemaker = mockClient(SageMakerClient);
const s3 = mockClient(S3Client);
let log: CommandLog;
/** The bucket, as S3 would hold it. */
let objects: Map<string, FakeObject>;

/** A job of known speed: it waits `startupS` for an instance, then `loadS` billed before its first file, then each file at `secondsPerRow`. */
interface KnownJob {
  readonly startupS: number;
  readonly loadS: number;
  readonly secondsPerRow: number;
  /** Looks at the job before it completes. */
  readonly looksBeforeDone?: number;
  readonly status?: 'Completed' | 'Failed';
}

const T0 = Date.parse('2026-12-06T10:00:00Z');

/**
 * SageMaker and S3 that run a transform job as a known machine would: the files of the sample one
 * after another, each output written (LastModified, to the second) when its file is done.
 */
function knownAws(job: KnownJob = { startupS: 240, loadS: 60, secondsPerRow: 0.01 }) {
  log = [];
  for (const client of [sagemaker, s3]) client.reset();
  const logged = loggedTo(log);
  sagemaker.on(CreateModelCommand).callsFake(logged('CreateModel', (i) => ({ ModelArn: `arn:model/${i.ModelName}` })));
  sagemaker.on(DeleteModelCommand).callsFake(logged('DeleteModel'));
  sagemaker.on(StopTransformJobCommand).callsFake(logged('StopTransformJob'));
  const jobs = new Map<string, { input: any; looks: number }>();
  sagemaker.on(CreateTransformJobCommand).callsFake((i) => {
    log.push(['CreateTransformJob', i]);
    jobs.set(i.TransformJobName, { input: i, looks: 0 });
    return { TransformJobArn: `arn:transform-job/${i.TransformJobName}` };
  });
  sagemaker.on(DescribeTransformJobCommand).callsFake((i) => {
    log.push(['DescribeTransformJob', i]);
    const j = jobs.get(i.TransformJobName);
    if (!j) throw awsError('ResourceNotFound', `Could not find job ${i.TransformJobName}`);
    j.looks += 1;
    if (j.looks <= (job.looksBeforeDone ?? 1)) return { TransformJobName: i.TransformJobName, TransformJobStatus: 'InProgress' };
    if (job.status === 'Failed')
      return { TransformJobName: i.TransformJobName, TransformJobStatus: 'Failed', FailureReason: 'ClientError: the model returned 500' };
    return completed(i.TransformJobName, j.input, job);
  });
  objects = fakeBucket(s3, log, { now: () => new Date(T0) });
}

/** Writes the job's outputs as a machine of the job's speed would, and describes it as completed. */
function completed(name: string, input: any, job: KnownJob) {
  const inPrefix = input.TransformInput.DataSource.S3DataSource.S3Uri.replace('s3://bucket/', '');
  const outPrefix = input.TransformOutput.S3OutputPath.replace('s3://bucket/', '');
  const started = T0 + job.startupS * 1000;
  let at = started + job.loadS * 1000;
  for (const key of [...objects.keys()].filter((k) => k.startsWith(inPrefix)).sort()) {
    const lines = objectText(objects.get(key)).trim().split('\n').length;
    at += lines * job.secondsPerRow * 1000;
    const out = `${outPrefix}/${key.slice(inPrefix.length)}.out`;
    // S3 keeps LastModified to the second.
    const body = new TextEncoder().encode('{"predictions":[1]}\n'.repeat(lines));
    if (!objects.has(out)) objects.set(out, { body, at: new Date(Math.floor(at / 1000) * 1000) });
  }
  return {
    TransformJobName: name,
    TransformJobStatus: 'Completed',
    CreationTime: new Date(T0),
    TransformStartTime: new Date(started),
    TransformEndTime: new Date(at + 5000),
    MaxConcurrentTransforms: input.MaxConcurrentTransforms ?? 1,
  };
}

const options = { pollIntervalMs: 1, sleep: async () => {} };
const adapters = () => ({ 'sagemaker-batch-transform': sageMakerTransformAdapter(options) });
const transformGroup = (extra: Record<string, unknown> = {}) => ({
  kind: 'sagemaker-batch-transform',
  region: 'us-east-1',
  instanceTypes: ['ml.c5.xlarge'],
  s3Path: 's3://bucket/transform-sweeps',
  sampleRows: 8000,
  image: IMAGE,
  executionRoleArn: ROLE,
  ...extra,
});
/** What the bundled snapshot lacks: Batch Transform instance-hours (the price lists' BatchTransform SKUs). */
const TRANSFORM_PRICES = { sagemakerBatchTransform: { 'us-east-1': { perInstanceHour: { 'ml.c5.xlarge': 0.2, 'ml.g4dn.xlarge': 0.736 } } } };
const offlineSpec = (groups: unknown[], extra: Record<string, unknown> = {}) => ({
  ...cloudSpec(groups),
  traffic: undefined,
  load: { phases: [], timeout: '2s' },
  slo: { maxErrorRate: 0.05 },
  offline: { rows: 10_000_000, deadline: '6h' },
  pricing: { prices: TRANSFORM_PRICES },
  ...extra,
});

describe('SageMaker Batch Transform candidates, in an offline sweep', () => {
  beforeEach(() => knownAws());

  it("runs a transform job on the sample from the candidate's folder, measures its throughput and start-up apart, prices the job, and leaves nothing", async () => {
    const spec = offlineSpec([transformGroup({ maxConcurrentTransforms: [4], batchStrategy: ['MultiRecord'], maxPayloadInMb: [2] })]);

    const outcome = await runCloudSweep(spec, adapters());

    expect(outcome.records.map((r) => [r.status, r.reason])).toEqual([['measured', undefined]]);
    const candidateId = outcome.records[0]!.candidate.id;
    const folder = `s3://bucket/transform-sweeps/${outcome.sweepId}/${candidateId}`;
    const [, job] = log.find(([c]) => c === 'CreateTransformJob')!;
    expect(job).toMatchObject({
      MaxConcurrentTransforms: 4,
      MaxPayloadInMB: 2,
      BatchStrategy: 'MultiRecord',
      TransformInput: {
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `${folder}/in/` } },
        SplitType: 'Line',
        ContentType: 'application/json',
      },
      TransformOutput: { S3OutputPath: `${folder}/out`, AssembleWith: 'Line' },
      TransformResources: { InstanceType: 'ml.c5.xlarge', InstanceCount: 1 },
    });
    expect(job.Tags).toEqual(expect.arrayContaining([expect.objectContaining({ Key: expect.stringMatching(/sweep/i), Value: outcome.sweepId })]));
    // The sample: 8,000 lines in 8 files of 1,000, each a payload compacted onto one line.
    const puts = log.filter(([c]) => c === 'S3 PutObject').map(([, i]) => i.Key);
    expect(puts).toHaveLength(8);
    // 0.01 s a row: 100 rows/s, measured from the files' times to within their one-second rounding.
    const [verdict] = outcome.results!.candidates;
    const { saturation, estimate } = verdict!.job!;
    expect(saturation.rowsPerSecond).toBeGreaterThan(99);
    expect(saturation.rowsPerSecond).toBeLessThan(101);
    expect(saturation.interval[0]).toBeLessThanOrEqual(100);
    expect(saturation.interval[1]).toBeGreaterThanOrEqual(100);
    expect(saturation.concurrency).toBe(4);
    // 240 s waiting for the instance (not billed), about 60 s of model load + 5 s wind-down (billed).
    const phase = outcome.records[0]!.phases.find((p) => p.job)!;
    expect(phase.job).toMatchObject({ method: 'files', unbilledStartupSeconds: 240 });
    expect(phase.job!.billedOverheadSeconds).toBeGreaterThan(60);
    expect(phase.job!.billedOverheadSeconds).toBeLessThan(70);
    // 10 M rows in 6 h at (at worst) ~100 rows/s an instance: ceil(10e6 / (low × (6 h − start-up))) instances.
    const startup = 240 + phase.job!.billedOverheadSeconds;
    const instances = Math.ceil(10_000_000 / (saturation.interval[0] * (6 * 3600 - startup)));
    expect(verdict).toMatchObject({ instances, priceSources: [{ catalog: 'sagemaker-batch-transform', origin: 'override' }] });
    const hand = (instances * 0.2 * (phase.job!.billedOverheadSeconds + 10_000_000 / (saturation.rowsPerSecond * instances))) / 3600;
    expect(estimate!.usd).toBeCloseTo(hand, 6);
    // The table, the CSV and the report read the job as they read a saturation search.
    expect(resultsText(outcome.results!)).toMatch(new RegExp(`\\* ${candidateId.replace(/\./g, '\\.')} .*recommended: the cheapest that ends`));
    expect(resultsCsv(outcome.results!)).toContain(candidateId);
    expect(htmlReport(outcome.results!)).toContain('one transform job on 8,000 rows');
    // `modelsweep apply` ships it to a BatchInferenceJob: the configuration and the instances that end the job in time.
    expect(recommendationOf(outcome.results!)).toMatchObject({
      kind: 'sagemaker-batch-transform',
      candidate: candidateId,
      configuration: { instanceType: 'ml.c5.xlarge', maxConcurrentTransforms: 4, maxPayloadInMb: 2, batchStrategy: 'MultiRecord' },
      instances,
      job: { rows: 10_000_000, deadlineSeconds: 21_600, usd: estimate!.usd },
    });
    // Nothing left: the model deleted, every sample and output object gone; a completed job is not stopped.
    expect(log.filter(([c]) => c === 'DeleteModel')).toHaveLength(1);
    expect(log.some(([c]) => c === 'StopTransformJob')).toBe(false);
    expect(objects.size).toBe(0);
  });

  it('counts a failed job as a failed candidate naming its reason and logs, and still deletes everything', async () => {
    knownAws({ startupS: 240, loadS: 60, secondsPerRow: 0.01, status: 'Failed' });

    const outcome = await runCloudSweep(offlineSpec([transformGroup()]), adapters());

    expect(outcome.records[0]).toMatchObject({ status: 'failed' });
    expect(outcome.records[0]!.reason).toMatch(
      /transform job ms-.* Failed: ClientError: the model returned 500 \(logs: CloudWatch log group \/aws\/sagemaker\/TransformJobs/,
    );
    expect(log.filter(([c]) => c === 'DeleteModel')).toHaveLength(1);
    expect(objects.size).toBe(0);
  });

  it('stops a job still running when the sweep gives up on it (its wait ran out), and empties its folder', async () => {
    knownAws({ startupS: 240, loadS: 60, secondsPerRow: 0.01, looksBeforeDone: Number.POSITIVE_INFINITY });
    const adapter = sageMakerTransformAdapter({ ...options, readyTimeoutMs: 5 });

    const outcome = await runCloudSweep(offlineSpec([transformGroup()]), { 'sagemaker-batch-transform': adapter });

    expect(outcome.records[0]).toMatchObject({ status: 'failed' });
    const stops = log.filter(([c]) => c === 'StopTransformJob');
    expect(stops.map(([, i]) => i.TransformJobName)).toEqual([log.find(([c]) => c === 'CreateTransformJob')![1].TransformJobName]);
    expect(objects.size).toBe(0);
  });

  it('reports a quota refusal as unavailable, and deletes the sample it wrote', async () => {
    sagemaker
      .on(CreateTransformJobCommand)
      .rejects(awsError('ResourceLimitExceeded', 'The account-level service limit ml.c5.xlarge for transform job usage is 0 Instances'));

    const outcome = await runCloudSweep(offlineSpec([transformGroup()]), adapters());

    expect(outcome.records[0]).toMatchObject({ status: 'unavailable' });
    expect(log.some(([c]) => c === 'StopTransformJob')).toBe(false);
    expect(objects.size).toBe(0);
  });

  it('falls back on the whole job when the files ended too close together, and says so', async () => {
    // 0.0001 s a row: a file of 1,000 rows in 0.1 s, below S3's one-second times.
    knownAws({ startupS: 240, loadS: 60, secondsPerRow: 0.0001 });

    const outcome = await runCloudSweep(offlineSpec([transformGroup()]), adapters());

    const phase = outcome.records[0]!.phases.find((p) => p.job)!;
    expect(phase.job).toMatchObject({ method: 'whole job', billedOverheadSeconds: 0 });
    expect(outcome.results!.candidates[0]!.reason).toMatch(/files ended too close together .* more sampleRows would separate them/);
  });

  it('stops before creating anything when a payload cannot be one line of the sample, naming it', async () => {
    const spec = offlineSpec([transformGroup()], { payloads: [{ body: 'a\nb', contentType: 'text/csv', name: 'two-lines' }] });

    await expect(runCloudSweep(spec, adapters())).rejects.toThrow(/payloads\[0\] \(two-lines\) holds a line break/);
    expect(log.filter(([c]) => c.startsWith('Create') || c === 'S3 PutObject')).toEqual([]);
  });

  it('stops before creating anything when the bucket of s3Path cannot be reached', async () => {
    s3.on(HeadBucketCommand).rejects(awsError('NotFound', 'NotFound', 404));

    await expect(runCloudSweep(offlineSpec([transformGroup()]), adapters())).rejects.toThrow(
      /sagemaker-batch-transform candidates: cannot reach s3Path's bucket bucket \(no such bucket\)/,
    );
    expect(log.filter(([c]) => c.startsWith('Create'))).toEqual([]);
  });

  it('refuses a sweep whose prices have no Batch Transform rate, before anything is created', async () => {
    await expect(runCloudSweep(offlineSpec([transformGroup()], { pricing: undefined }), adapters())).rejects.toThrow(
      /no SageMaker Batch Transform prices for region us-east-1.*modelsweep prices update --service sagemaker --region us-east-1/,
    );
    expect(log.filter(([c]) => c.startsWith('Create'))).toEqual([]);
  });

  it('is refused with load phases or a quality dataset, which it cannot take, naming the field', () => {
    const spec = offlineSpec([transformGroup()], { load: { phases: [{ mode: 'closed', concurrency: 1, duration: '1s' }], timeout: '2s' } });
    expect(() => parseSpec(stringify(spec), 'spec.yaml', '/')).toThrow(
      /load\.phases.*candidates\[0\] \(sagemaker-batch-transform\) is measured by its own transform job/,
    );
    expect(() => parseSpec(stringify(cloudSpec([transformGroup()])), 'spec.yaml', '/')).toThrow(
      /candidates\[0\]\.kind \(line \d+\): sagemaker-batch-transform answers through a batch job, not within a latency SLO/,
    );
  });

  it('makes one candidate per type, concurrency, payload size and strategy', () => {
    const spec = offlineSpec([
      transformGroup({
        instanceTypes: ['ml.c5.xlarge', 'ml.g4dn.xlarge'],
        maxConcurrentTransforms: [1, 8],
        batchStrategy: ['MultiRecord', 'SingleRecord'],
      }),
    ]);
    const { candidates } = parseSpec(stringify(spec), 'spec.yaml', '/');
    expect(candidates).toHaveLength(8);
    expect(candidates.map((c) => c.id)).toContain('sagemaker-batch-transform-ml.g4dn.xlarge-c8-6mb-single');
  });

  it('names each attempt at a job apart (a job name is never free again), and tears each down', async () => {
    const [candidate] = parseSpec(stringify(offlineSpec([transformGroup()])), 'spec.yaml', '/').candidates;
    const now = new Date();
    const context = {
      sweepId: 'sweep-1',
      baseDir: '/',
      timeoutMs: 1000,
      createdAt: now,
      expiresAt: new Date(now.getTime() + 3_600_000),
      prices: PriceBook.snapshot(),
      payloads: [{ body: '{"x": [1, 2]}', contentType: 'application/json' }],
    };
    const adapter = sageMakerTransformAdapter(options);

    const first = await adapter.deploy(candidate!, context);
    await new Promise((r) => setTimeout(r, 5));
    const second = await adapter.deploy(candidate!, context);

    expect(first.jobName).not.toBe(second.jobName);
    expect(first.jobName).toMatch(/^ms-sagemaker-batch-transform-ml-c5-xlarge-.*-[0-9a-f]{8}$/);
    // The sample's lines are the payload compacted: one JSON document a line.
    expect(objectText([...objects.values()][0]).split('\n')[0]).toBe('{"x":[1,2]}');
    await first.teardown();
    await second.teardown();
    expect(log.filter(([c]) => c === 'StopTransformJob')).toHaveLength(2);
    expect(objects.size).toBe(0);
  });
});
