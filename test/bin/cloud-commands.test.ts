import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';

import type { CloudDependencies } from '../../bin/commands/cloud';
import { withLocalStore } from '../../bin/commands/local-store';
import { DemoLambdaStack, DemoServerlessStack } from '../../bin/demo-stacks';
import { buildProgram, main } from '../../bin/modelsweep';
import { recommendationContextKey } from '../../lib/apply/recommendation';
import { PriceBook } from '../../lib/cost/price-book';
import { type LocalExecutionResult, runLocalExecution } from '../../lib/local/run-local';
import { prebuiltSweepDefinition } from '../../lib/local/run-sweep';
import { type LocalDynamo, startLocalDynamo } from '../../lib/store/local-dynamo';
import { ResultsStore } from '../../lib/store/results-store';
import { httpTarget } from '../../lib/targets/http-target';
import { s3BlobStore } from '../../lib/workflow/s3-blob-store';
import { testApp } from '../helpers/cdk';
import { fixedDelayServer, type TestServer } from '../helpers/test-servers';

const dir = mkdtempSync(join(tmpdir(), 'cloud-cli-'));
const BUCKET = 'sweep-bucket';
const STACK = { stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Sweep', bucketName: BUCKET, tableName: 'cloud-results' };

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);

/** Output of one in-process CLI run. */
async function cli(args: string[], cloud: CloudDependencies) {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    const code = await main(args, buildProgram({ cloud }));
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    process.exitCode = undefined;
  }
}

function specFile(candidates: unknown[], name = 'cloud-cli'): string {
  const file = join(dir, `${name}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    stringify({
      name,
      model: { name: 'demo' },
      payloads: [{ body: '{"x":1}' }],
      candidates,
      load: { phases: [{ mode: 'open', rate: 250, duration: '400ms' }] },
      slo: { percentile: 95, latencyMs: 40 },
      traffic: { averageRps: 10, peakRps: 30 },
    }),
  );
  return file;
}

describe('modelsweep start, status and apply against a deployed sweep stack (S3, Step Functions, SSM mocked; DynamoDB is dynalite)', () => {
  let dynamo: LocalDynamo;
  let endpoint: TestServer;
  const objects = new Map<string, Uint8Array>();
  let execution: Promise<LocalExecutionResult> | undefined;
  let done: LocalExecutionResult | undefined;
  let cloud: CloudDependencies;

  beforeAll(async () => {
    dynamo = await startLocalDynamo({ tableName: STACK.tableName });
    endpoint = await fixedDelayServer(2);
    cloud = {
      stack: async (name) => {
        if (name !== 'ModelsweepSweep') throw new Error(`no stack ${name}`);
        return STACK;
      },
      sfn: () => new SFNClient({ region: 'us-east-1' }),
      s3: () => new S3Client({ region: 'us-east-1' }),
      dynamo: () => dynamo.client as DynamoDBClient,
      ssm: () => new SSMClient({ region: 'us-east-1' }),
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
    };
  });
  afterEach(() => {
    s3.reset();
    sfn.reset();
    ssm.reset();
  });
  afterAll(async () => {
    await Promise.all([dynamo.close(), endpoint.close()]);
  });

  /** "The cloud": S3 keeps objects; StartExecution runs the very state machine locally with the blob store on that S3. */
  function cloudBehaves() {
    s3.on(PutObjectCommand).callsFake((input) => {
      objects.set(input.Key, typeof input.Body === 'string' ? Buffer.from(input.Body) : input.Body);
      return {};
    });
    s3.on(GetObjectCommand).callsFake((input) => {
      const body = objects.get(input.Key);
      if (!body) throw Object.assign(new Error('no such key'), { name: 'NoSuchKey' });
      return { Body: { transformToByteArray: async () => body } };
    });
    done = undefined;
    sfn.on(StartExecutionCommand).callsFake((input) => {
      const env = {
        store: new ResultsStore(dynamo.client, STACK.tableName),
        blobs: s3BlobStore(new S3Client({ region: 'us-east-1' }), BUCKET),
        adapters: { http: httpTarget },
        prices: PriceBook.snapshot(),
      };
      execution = runLocalExecution(prebuiltSweepDefinition(), JSON.parse(input.input), env).then((r) => (done = r));
      return { executionArn: `${STACK.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: new Date() };
    });
    sfn.on(DescribeExecutionCommand).callsFake(() => (done ? { status: done.status } : { status: 'RUNNING' }));
  }

  it('start stages the spec in the bucket, starts an execution and follows it to the recommendation', async () => {
    cloudBehaves();
    const { code, stdout, stderr } = await cli(
      [
        'start',
        specFile([{ kind: 'http', name: 'existing', url: endpoint.url, costPerHour: 0.2 }]),
        '--stack',
        'ModelsweepSweep',
        '--poll-interval',
        '1s',
      ],
      cloud,
    );
    await execution;
    expect([code, stderr]).toEqual([0, expect.any(String)]);
    const start = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    const input = JSON.parse(start.input!);
    expect(start).toMatchObject({ stateMachineArn: STACK.stateMachineArn, name: input.sweepId });
    expect(input).toEqual({ specKey: `sweeps/${input.sweepId}/spec.json`, sweepId: input.sweepId });
    expect([...objects.keys()]).toEqual(
      expect.arrayContaining([`sweeps/${input.sweepId}/spec.json`, `sweeps/${input.sweepId}/payloads/0`, `reports/${input.sweepId}/report.html`]),
    );
    expect(stdout).toMatch(new RegExp(`^started sweep ${input.sweepId} \\(1 candidates\\)`, 'm'));
    expect(stdout).toMatch(/^recommendation: existing — /m);
    expect(stdout).toContain(`report: s3://${BUCKET}/reports/${input.sweepId}/report.html`);
    expect(stderr).toMatch(/\[1\/1\] existing: measured/);

    const status = await cli(['status', input.sweepId, '--stack', 'ModelsweepSweep'], cloud);
    expect([status.code, status.stderr]).toEqual([0, '']);
    expect(status.stdout).toMatch(
      new RegExp(`^sweep ${input.sweepId} \\(model demo\\): succeeded \\(execution SUCCEEDED\\), 1 of 1 candidates recorded`, 'm'),
    );
    expect(status.stdout).toMatch(/^recommendation: existing$/m);
  });

  it('start refuses, exit 2, before touching the cloud: a bad spec, local candidates, an unknown stack', async () => {
    cloudBehaves();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: Bad Name\n');
    expect((await cli(['start', bad, '--stack', 'ModelsweepSweep'], cloud)).code).toBe(2);
    const local = await cli(
      ['start', specFile([{ kind: 'local', threads: 1, modelPath: __filename, costPerHour: 1 }]), '--stack', 'ModelsweepSweep'],
      cloud,
    );
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(
      /candidates\[0\]\.kind: local candidates cannot run in the cloud workflow; run this spec with `modelsweep sweep .* --local`/,
    );
    expect((await cli(['start', specFile([{ kind: 'http', url: endpoint.url, costPerHour: 1 }]), '--stack', 'Nope'], cloud)).code).toBe(1);
    expect(
      (
        await cli(
          ['start', specFile([{ kind: 'http', url: endpoint.url, costPerHour: 1 }]), '--stack', 'ModelsweepSweep', '--concurrency', '0'],
          cloud,
        )
      ).stderr,
    ).toMatch(/--concurrency must be a whole number of at least 1/);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('start --no-follow returns once the execution has started', async () => {
    cloudBehaves();
    const { code, stdout } = await cli(
      ['start', specFile([{ kind: 'http', url: endpoint.url, costPerHour: 1 }]), '--stack', 'ModelsweepSweep', '--no-follow'],
      cloud,
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/follow it: modelsweep status \S+ --stack ModelsweepSweep/);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
    await execution;
  });

  it('apply --stack writes the SSM parameter the model stack looks up, and forgets the cached lookup', async () => {
    const store = new ResultsStore(dynamo.client, STACK.tableName);
    const sweepId = await recordLambdaWinner(store, 'cloud-apply');
    const contextFile = join(dir, 'cdk.context.json');
    const cacheKey = 'ssm:account=123456789012:parameterName=/modelsweep/demo/recommendation:region=us-east-1';
    writeFileSync(contextFile, JSON.stringify({ [cacheKey]: 'stale', other: 1 }));
    ssm.on(PutParameterCommand).resolves({ Version: 2 });
    const { code, stdout } = await cli(['apply', sweepId, '--stack', 'ModelsweepSweep', '--context-file', contextFile], cloud);
    expect(code).toBe(0);
    const put = ssm.commandCalls(PutParameterCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ Name: '/modelsweep/demo/recommendation', Type: 'String', Overwrite: true });
    expect(JSON.parse(put.Value!)).toMatchObject({
      model: 'demo',
      sweepId,
      candidate: 'lambda-3008mb-x86_64',
      kind: 'lambda',
      configuration: { memorySizeMb: 3008, architecture: 'x86_64' },
    });
    expect(JSON.parse(readFileSync(contextFile, 'utf8'))).toEqual({ other: 1 });
    expect(stdout).toMatch(
      /^applied lambda-3008mb-x86_64 \(lambda: memorySizeMb 3008, architecture x86_64\) to SSM parameter \/modelsweep\/demo\/recommendation/m,
    );
  });
});

const lambdaCandidate = (memorySizeMb: number, architecture: 'arm64' | 'x86_64') => ({
  id: `lambda-${memorySizeMb}mb-${architecture}`,
  group: 0,
  environment: {},
  kind: 'lambda' as const,
  functionName: 'modelsweep-demo',
  memorySizeMb,
  architecture,
  maxParallelInvocations: 10,
});

/** A finished sweep of the demo model in the store, with these candidates measured and this one recommended. */
async function recordSweep(
  store: ResultsStore,
  name: string,
  candidates: Array<{ id: string } & Record<string, unknown>>,
  recommended: string | undefined,
): Promise<string> {
  const sweepId = `${name}-${Math.random().toString(36).slice(2, 8)}`;
  const spec = {
    name,
    model: { name: 'demo' },
    slo: { percentile: 95, latencyMs: 100, maxErrorRate: 0.01 },
    traffic: { averageRps: 10, peakRps: 30 },
    candidates: [],
  };
  await store.createSweep({ sweepId, name, model: 'demo', createdAt: new Date().toISOString(), spec });
  for (const c of candidates)
    await store.putCandidateResult({ sweepId, candidate: c as never, status: 'measured', phases: [], recordedAt: new Date().toISOString() });
  const verdict = (id: string) => ({
    id,
    status: 'measured' as const,
    feasible: id === recommended,
    onFrontier: id === recommended,
    recommended: id === recommended,
    reason: id === recommended ? 'recommended: the cheapest' : 'fails the SLO',
    ...(id === recommended ? { monthlyCostUsd: 12.5, sloLatencyMs: 40 } : {}),
  });
  await store.putSelection({
    sweepId,
    selection: {
      ...(recommended ? { recommended } : {}),
      strategy: { type: 'cost', weight: 0.5 },
      frontier: recommended ? [recommended] : [],
      candidates: candidates.map((c) => verdict(c.id)),
    },
    recordedAt: new Date().toISOString(),
  });
  await store.markSweepFinished(sweepId, 'succeeded', new Date().toISOString());
  return sweepId;
}

const recordLambdaWinner = (store: ResultsStore, name: string) =>
  recordSweep(store, name, [lambdaCandidate(1024, 'arm64'), lambdaCandidate(3008, 'x86_64')], 'lambda-3008mb-x86_64');

describe('modelsweep apply (local)', () => {
  const storeDir = join(dir, 'store');
  const noCloud = {} as CloudDependencies;

  it('writes the winner into cdk.context.json, and a stack synthesized after it carries the winning configuration', async () => {
    const sweepId = await withLocalStore(storeDir, (store) => recordLambdaWinner(store, 'apply'));
    const contextFile = join(dir, 'apply-context.json');
    writeFileSync(contextFile, JSON.stringify({ 'some-other-entry': true }));
    const { code, stdout } = await cli(['apply', sweepId, '--store-dir', storeDir, '--context-file', contextFile], noCloud);
    expect(code).toBe(0);
    expect(stdout).toContain(`to ${contextFile} (modelsweep:recommendation:demo)`);
    const context = JSON.parse(readFileSync(contextFile, 'utf8'));
    expect(context['some-other-entry']).toBe(true);
    expect(context[recommendationContextKey('demo')]).toMatchObject({ sweepId, candidate: 'lambda-3008mb-x86_64' });

    const before = Template.fromStack(new DemoLambdaStack(testApp(), 'Before'));
    const after = Template.fromStack(new DemoLambdaStack(testApp(context), 'After'));
    const demoFunction = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'modelsweep-demo' } }))[0] as any;
    expect(demoFunction(before).Properties).toMatchObject({ MemorySize: 2048, Architectures: ['arm64'] });
    expect(demoFunction(after).Properties).toMatchObject({ MemorySize: 3008, Architectures: ['x86_64'] });
    // a stack of another kind keeps its defaults, with a warning saying why
    const serverless = new DemoServerlessStack(testApp(context), 'Serverless');
    Template.fromStack(serverless).hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 } })],
    });
  });

  it('status without a sweep id lists the latest sweeps, newest first; with one, its candidates', async () => {
    const statusDir = join(dir, 'status-store');
    const [older, newer] = await withLocalStore(statusDir, async (store) => {
      const first = await recordLambdaWinner(store, 'older');
      await new Promise((r) => setTimeout(r, 5));
      return [first, await recordLambdaWinner(store, 'newer')];
    });
    const list = await cli(['status', '--store-dir', statusDir], noCloud);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n').map((l) => l.split(' ')[0])).toEqual([newer, older]);
    const one = await cli(['status', older!, '--store-dir', statusDir], noCloud);
    expect(one.stdout).toMatch(new RegExp(`^sweep ${older} \\(model demo\\): succeeded, 2 of \\d+ candidates recorded`, 'm'));
    expect(one.stdout).toMatch(/^ {2}lambda-3008mb-x86_64: measured$/m);
    expect(one.stdout).toMatch(/^recommendation: lambda-3008mb-x86_64$/m);
  });

  it('refuses a sweep whose winner no stack can deploy (exit 2), one without a winner (exit 1), and an unknown sweep', async () => {
    const local = { id: 'local-threads1', group: 0, environment: {}, kind: 'local', threads: 1, maxBatchSize: 1, costPerHour: 0.1 };
    const [localWinner, noWinner] = await withLocalStore(storeDir, async (store) => [
      await recordSweep(store, 'local-winner', [local], 'local-threads1'),
      await recordSweep(store, 'no-winner', [local], undefined),
    ]);
    const contextFile = join(dir, 'refused-context.json');
    const refused = await cli(['apply', localWinner!, '--store-dir', storeDir, '--context-file', contextFile], noCloud);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /recommends local-threads1, a local candidate, which no CDK stack deploys; apply ships lambda, sagemaker-realtime, sagemaker-serverless, sagemaker-async, sagemaker-batch-transform recommendations/,
    );
    const none = await cli(['apply', noWinner!, '--store-dir', storeDir, '--context-file', contextFile], noCloud);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/recommends nothing: no candidate met the SLO/);
    expect(existsSync(contextFile)).toBe(false);
    const unknown = await cli(['apply', 'no-such-sweep', '--store-dir', storeDir], noCloud);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringMatching(/no sweep no-such-sweep in the results/)]);
  });
});
