import {
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  PublishVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

import { PriceBook } from '../../../../lib/cost/price-book';
import { lambdaAdapter } from '../../../../lib/targets/lambda/adapter';
import { RESTORE_TAG } from '../../../../lib/targets/lambda/common';
import { parseRestoreTag } from '../../../../lib/targets/lambda/restore';
import { cloudSpec, type CommandLog, ForgetfulRegistry, runCloudSweep } from '../../../helpers/cloud-sweep';

const lambda = mockClient(LambdaClient);
/** A function's error body as Invoke returns it (the SDK's blob type adds string helpers the adapter does not use). */
const functionErrorPayload = (json: string) => new TextEncoder().encode(json) as never;
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:scorer';
const awsError = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

interface FunctionState {
  memory: number;
  arch: 'x86_64' | 'arm64';
  env: Record<string, string>;
}

/**
 * A stateful fake of one Lambda function: $LATEST, versions, aliases and tags, with updates that
 * stay InProgress for one poll, and invocations that are cold on a version's first call.
 */
function fakeFunction(options: { packageType?: 'Zip' | 'Image'; codeSize?: number; jsonLogs?: boolean; invokeDelayMs?: number } = {}) {
  lambda.reset();
  const log: CommandLog = [];
  const original: FunctionState = { memory: 1024, arch: 'x86_64', env: { MODEL: 'resnet' } };
  const latest: FunctionState = structuredClone(original);
  const versions = new Map<string, FunctionState & { description: string }>();
  const aliases = new Map<string, string>();
  const tags: Record<string, string> = { team: 'ml' };
  const warmVersions = new Set<string>();
  let pendingPolls = 0;
  let published = 3;
  let inFlight = 0;
  const stats = { maxInFlight: 0 };
  const on = (command: any, name: string, answer: (input: any) => unknown) =>
    lambda.on(command).callsFake(async (input: any) => {
      log.push([name, input]);
      return answer(input);
    });
  on(GetFunctionCommand, 'GetFunction', () => ({
    Configuration: {
      FunctionArn: ARN,
      MemorySize: latest.memory,
      Architectures: [latest.arch],
      Environment: { Variables: { ...latest.env } },
      PackageType: options.packageType ?? 'Zip',
      CodeSize: options.codeSize ?? 12_000_000,
    },
    Code:
      options.packageType === 'Image'
        ? { RepositoryType: 'ECR', ImageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/scorer:1' }
        : { RepositoryType: 'S3', Location: 'https://code.example/scorer.zip' },
  }));
  on(TagResourceCommand, 'TagResource', (i) => Object.assign(tags, i.Tags));
  on(UntagResourceCommand, 'UntagResource', (i) => i.TagKeys.forEach((k: string) => delete tags[k]));
  on(UpdateFunctionCodeCommand, 'UpdateFunctionCode', (i) => {
    latest.arch = i.Architectures[0];
    pendingPolls = 1;
    return {};
  });
  on(UpdateFunctionConfigurationCommand, 'UpdateFunctionConfiguration', (i) => {
    latest.memory = i.MemorySize;
    latest.env = { ...i.Environment.Variables };
    pendingPolls = 1;
    return {};
  });
  on(GetFunctionConfigurationCommand, 'GetFunctionConfiguration', (i) => {
    if (i.Qualifier) return { State: 'Active' };
    return { LastUpdateStatus: pendingPolls-- > 0 ? 'InProgress' : 'Successful' };
  });
  on(PublishVersionCommand, 'PublishVersion', (i) => {
    const version = String(++published);
    versions.set(version, { ...structuredClone(latest), description: i.Description });
    return { Version: version, Description: i.Description };
  });
  on(CreateAliasCommand, 'CreateAlias', (i) => aliases.set(i.Name, i.FunctionVersion));
  on(DeleteAliasCommand, 'DeleteAlias', (i) => {
    if (!aliases.delete(i.Name)) throw awsError('ResourceNotFoundException', 'Alias not found');
  });
  on(DeleteFunctionCommand, 'DeleteFunction', (i) => {
    if (!versions.delete(i.Qualifier)) throw awsError('ResourceNotFoundException', 'Function not found');
  });
  lambda.on(InvokeCommand).callsFake(async (i: any) => {
    log.push(['Invoke', i]);
    const version = aliases.get(i.Qualifier)!;
    const cold = !warmVersions.has(version);
    warmVersions.add(version);
    stats.maxInFlight = Math.max(stats.maxInFlight, ++inFlight);
    await new Promise((resolve) => setTimeout(resolve, options.invokeDelayMs ?? 1));
    inFlight--;
    const report = options.jsonLogs
      ? JSON.stringify({
          type: 'platform.report',
          record: {
            metrics: {
              durationMs: 9.5,
              billedDurationMs: 10,
              memorySizeMB: versions.get(version)!.memory,
              ...(cold ? { initDurationMs: 300.5 } : {}),
            },
          },
        })
      : `REPORT RequestId: r\tDuration: 9.50 ms\tBilled Duration: 10 ms\tMemory Size: ${versions.get(version)!.memory} MB\tMax Memory Used: 80 MB\t${cold ? 'Init Duration: 300.50 ms\t' : ''}`;
    return {
      StatusCode: 200,
      LogResult: Buffer.from(`START RequestId: r\nEND RequestId: r\n${report}\n`).toString('base64'),
      Payload: new TextEncoder().encode('{"predictions":[1]}'),
    };
  });
  return { log, original, latest, versions, aliases, tags, stats };
}

const options = { pollIntervalMs: 1, sleep: async () => {}, fetchCode: async () => new Uint8Array([80, 75, 3, 4]) };
const group = (extra: Record<string, unknown> = {}) => ({
  kind: 'lambda',
  region: 'us-east-1',
  functionName: 'scorer',
  memorySizesMb: [2048],
  architectures: ['arm64'],
  ...extra,
});
const commands = (log: CommandLog) => log.filter(([c]) => c !== 'Invoke').map(([c]) => c);

/** The function is as the sweep found it: $LATEST, no versions or aliases of the sweep's, no sweep tags. */
function expectUntouched(fn: ReturnType<typeof fakeFunction>) {
  expect(fn.latest).toEqual(fn.original);
  expect([...fn.versions.keys()]).toEqual([]);
  expect([...fn.aliases.keys()]).toEqual([]);
  expect(fn.tags).toEqual({ team: 'ml' });
}

describe('Lambda adapter', () => {
  let fn: ReturnType<typeof fakeFunction>;
  beforeEach(() => {
    fn = fakeFunction();
  });

  it('publishes a version per candidate, restores $LATEST at once, measures through an alias, then deletes both', async () => {
    const outcome = await runCloudSweep(cloudSpec([group({ environment: { THREADS: '2' } })]), { lambda: lambdaAdapter(options) });
    expect(outcome.records[0].status).toBe('measured');
    expect(commands(fn.log)).toEqual([
      'GetFunction', // access check
      'GetFunction',
      'TagResource',
      'UpdateFunctionCode',
      'GetFunctionConfiguration',
      'GetFunctionConfiguration',
      'UpdateFunctionConfiguration',
      'GetFunctionConfiguration',
      'GetFunctionConfiguration',
      'PublishVersion',
      'CreateAlias',
      'UpdateFunctionCode',
      'GetFunctionConfiguration',
      'GetFunctionConfiguration',
      'UpdateFunctionConfiguration',
      'GetFunctionConfiguration',
      'GetFunctionConfiguration',
      'UntagResource',
      'GetFunctionConfiguration',
      'DeleteAlias',
      'DeleteFunction',
    ]);
    const input = (name: string, n = 0) => fn.log.filter(([c]) => c === name)[n][1];
    expect(input('UpdateFunctionCode')).toEqual({ FunctionName: 'scorer', ZipFile: new Uint8Array([80, 75, 3, 4]), Architectures: ['arm64'] });
    expect(input('UpdateFunctionConfiguration')).toEqual({
      FunctionName: 'scorer',
      MemorySize: 2048,
      Environment: { Variables: { MODEL: 'resnet', THREADS: '2' } },
    });
    expect(input('UpdateFunctionConfiguration', 1)).toEqual({
      FunctionName: 'scorer',
      MemorySize: 1024,
      Environment: { Variables: { MODEL: 'resnet' } },
    });
    // The restore note says what $LATEST was, for the janitor.
    expect(parseRestoreTag(input('TagResource').Tags[RESTORE_TAG])).toEqual({
      memorySizeMb: 1024,
      architecture: 'x86_64',
      environment: { MODEL: 'resnet' },
    });
    const alias = input('CreateAlias');
    expect(JSON.parse(alias.Description).modelsweep['modelsweep:candidate-id']).toBe('lambda-2048mb-arm64');
    expect(
      fn.log
        .filter(([c]) => c === 'Invoke')
        .every(([, i]) => i.Qualifier === alias.Name && i.LogType === 'Tail' && i.InvocationType === 'RequestResponse'),
    ).toBe(true);
    expectUntouched(fn);
  });

  it('works when every step runs in another process (the cloud workflow): teardown finds alias and version by the handle', async () => {
    const outcome = await runCloudSweep(
      cloudSpec([group({ memorySizesMb: [2048, 3008] })]),
      { lambda: lambdaAdapter(options) },
      { live: new ForgetfulRegistry() },
    );
    expect(outcome.records.map((r) => r.status)).toEqual(['measured', 'measured']);
    const aliases = fn.log.filter(([c]) => c === 'CreateAlias').map(([, i]) => i.Name);
    expect(outcome.records.map((r) => r.deployment?.alias)).toEqual(aliases);
    expect(fn.log.filter(([c]) => c === 'DeleteAlias').map(([, i]) => i.Name)).toEqual(aliases);
    expect(fn.log.filter(([c]) => c === 'DeleteFunction').map(([, i]) => i.Qualifier)).toEqual(outcome.records.map((r) => r.deployment?.version));
    expect(fn.log.filter(([c]) => c === 'Invoke').every(([, i]) => aliases.includes(i.Qualifier))).toBe(true);
    expectUntouched(fn);
  });

  it('reports the cold start apart, with its init duration, and billed durations from the REPORT line', async () => {
    const outcome = await runCloudSweep(cloudSpec([group()]), { lambda: lambdaAdapter(options) });
    const record = outcome.records[0];
    expect(record.coldStarts).toEqual([expect.objectContaining({ after: 'deploy', ok: true, initMs: 300.5, billedMs: 10 })]);
    expect(record.phases[0].coldStarts).toBeUndefined(); // every phase request found a warm environment
    expect(record.phases[0].billedDurationMs?.mean).toBeCloseTo(10, 1); // HDR histogram: 3 significant digits
    // Priced from the billed duration: 10 ms at 2 GB arm64 for 10 rps over a month.
    const verdict = outcome.selection.candidates[0];
    expect(verdict.monthlyCostUsd).toBeGreaterThan(0);
  });

  it('reads JSON-format logs as well', async () => {
    fn = fakeFunction({ jsonLogs: true });
    const outcome = await runCloudSweep(cloudSpec([group()]), { lambda: lambdaAdapter(options) });
    expect(outcome.records[0].coldStarts?.[0]).toMatchObject({ initMs: 300.5, billedMs: 10 });
    expect(outcome.records[0].phases[0].billedDurationMs?.mean).toBeCloseTo(10, 1);
  });

  it('changes nothing but what differs: same architecture means no code upload', async () => {
    await runCloudSweep(cloudSpec([group({ architectures: ['x86_64'] })]), { lambda: lambdaAdapter(options) });
    expect(commands(fn.log)).not.toContain('UpdateFunctionCode');
    expectUntouched(fn);
  });

  it('switches a container-image function by its image URI', async () => {
    fn = fakeFunction({ packageType: 'Image' });
    await runCloudSweep(cloudSpec([group()]), { lambda: lambdaAdapter(options) });
    expect(fn.log.find(([c]) => c === 'UpdateFunctionCode')![1]).toEqual({
      FunctionName: 'scorer',
      ImageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/scorer:1',
      Architectures: ['arm64'],
    });
    expectUntouched(fn);
  });

  it('never has more invocations in flight than maxParallelInvocations', async () => {
    fn = fakeFunction({ invokeDelayMs: 20 });
    const spec = cloudSpec([group({ maxParallelInvocations: 3 })], {
      load: { phases: [{ mode: 'open', rate: 400, duration: '250ms' }], timeout: '5s' },
    });
    const outcome = await runCloudSweep(spec, { lambda: lambdaAdapter(options) });
    expect(outcome.records[0].phases[0].successes).toBeGreaterThan(50);
    expect(fn.stats.maxInFlight).toBe(3);
  });

  it('retries throttling and an update still in progress, then succeeds', async () => {
    let refusals = 0;
    lambda.on(PublishVersionCommand).callsFake((i: any) => {
      if (refusals++ === 0) throw awsError('TooManyRequestsException', 'Rate exceeded');
      if (refusals === 2)
        throw awsError('ResourceConflictException', 'The operation cannot be performed at this time. An update is in progress for resource: scorer');
      fn.log.push(['PublishVersion', i]);
      fn.versions.set('9', { ...structuredClone(fn.latest), description: i.Description });
      return { Version: '9', Description: i.Description };
    });
    const outcome = await runCloudSweep(cloudSpec([group()]), { lambda: lambdaAdapter(options) });
    expect(refusals).toBe(3);
    expect(outcome.records[0].status).toBe('measured');
    expectUntouched(fn);
  });

  const faults: Array<[string, () => void, 'failed' | 'unavailable' | 'measured', RegExp | undefined]> = [
    [
      'TagResource',
      () => lambda.on(TagResourceCommand).rejects(awsError('AccessDeniedException', 'not allowed to tag')),
      'failed',
      /not allowed to tag/,
    ],
    [
      'UpdateFunctionCode',
      () =>
        lambda
          .on(UpdateFunctionCodeCommand)
          .rejects(awsError('InvalidParameterValueException', 'Layers are not compatible with the architecture arm64')),
      'unavailable',
      /not compatible/,
    ],
    ['the update (Failed)', () => failFirstUpdate(), 'failed', /update of scorer failed: Image not found/],
    [
      'UpdateFunctionConfiguration',
      () => lambda.on(UpdateFunctionConfigurationCommand).rejectsOnce(awsError('InvalidParameterValueException', 'bad memory')),
      'failed',
      /bad memory/,
    ],
    [
      'PublishVersion',
      () => lambda.on(PublishVersionCommand).rejects(awsError('CodeStorageExceededException', 'Code storage limit exceeded')),
      'unavailable',
      /Code storage limit exceeded/,
    ],
    ['CreateAlias', () => lambda.on(CreateAliasCommand).rejects(awsError('ServiceException', 'internal')), 'failed', /internal/],
    [
      'waitReady',
      () =>
        lambda
          .on(GetFunctionConfigurationCommand)
          .callsFake((i: any) => (i.Qualifier ? { State: 'Failed', StateReason: 'bad handler' } : { LastUpdateStatus: 'Successful' })),
      'failed',
      /failed to become active: bad handler/,
    ],
    [
      'Invoke',
      () =>
        lambda
          .on(InvokeCommand)
          .resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: functionErrorPayload('{"errorType":"Error","errorMessage":"boom"}') }),
      // every request failed: nothing to judge, so failed, with its error kinds (its phases kept)
      'failed',
      /^every one of its \d+ requests failed: target_Error=\d+$/,
    ],
  ];
  /** The first update is reported Failed once it has been applied; later ones succeed. */
  function failFirstUpdate() {
    let polls = 0;
    lambda.on(GetFunctionConfigurationCommand).callsFake((i: any) => {
      if (i.Qualifier) return { State: 'Active' };
      return polls++ === 0 ? { LastUpdateStatus: 'Failed', LastUpdateStatusReason: 'Image not found' } : { LastUpdateStatus: 'Successful' };
    });
  }

  it.each(faults)('leaves the function as it found it when %s fails', async (_step, inject, status, reason) => {
    inject();
    const outcome = await runCloudSweep(cloudSpec([group()]), { lambda: lambdaAdapter(options) });
    expect(outcome.records[0].status).toBe(status);
    if (reason) expect(outcome.records[0].reason).toMatch(reason);
    if (_step === 'Invoke') expect(outcome.records[0].phases[0].errors).toHaveProperty('target_Error');
    expectUntouched(fn);
  });

  it('reports a candidate whose code cannot run on the architecture as unavailable, and cleans up', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: functionErrorPayload(
        '{"errorType":"Runtime.InvalidEntrypoint","errorMessage":"RequestId: r Error: fork/exec /var/task/bootstrap: exec format error"}',
      ),
    });
    const outcome = await runCloudSweep(cloudSpec([group()]), { lambda: lambdaAdapter(options) });
    expect(outcome.records[0]).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/cannot run on this architecture/) });
    expectUntouched(fn);
  });

  it('reports an architecture switch of code over the 50 MB upload limit as unavailable without changing anything', async () => {
    fn = fakeFunction({ codeSize: 80 * 2 ** 20 });
    const outcome = await runCloudSweep(cloudSpec([group()]), { lambda: lambdaAdapter(options) });
    expect(outcome.records[0]).toMatchObject({
      status: 'unavailable',
      reason: expect.stringMatching(/at 80 MB it is over Lambda's 50 MB direct-upload limit/),
    });
    expect(commands(fn.log)).toEqual(['GetFunction', 'GetFunction']);
  });

  it('treats an alias or version that is already gone as torn down', async () => {
    const adapter = lambdaAdapter(options);
    const outcome = await runCloudSweep(cloudSpec([group()]), { lambda: adapter });
    expect(outcome.records[0].teardownError).toBeUndefined();
    // A second teardown of the same resources (as a retried workflow step would) succeeds too.
    expect(fn.log.filter(([c]) => c === 'DeleteAlias')).toHaveLength(1);
    lambda.on(DeleteAliasCommand).rejects(awsError('ResourceNotFoundException'));
    lambda.on(DeleteFunctionCommand).rejects(awsError('ResourceNotFoundException'));
    const again = await runCloudSweep(cloudSpec([group()]), { lambda: adapter });
    expect(again.records[0].teardownError).toBeUndefined();
  });

  it('stops before changing anything when the function does not exist', async () => {
    lambda.on(GetFunctionCommand).rejects(awsError('ResourceNotFoundException', 'Function not found: scorer'));
    await expect(runCloudSweep(cloudSpec([group()]), { lambda: lambdaAdapter(options) })).rejects.toThrow(
      /lambda candidates: cannot read function scorer in us-east-1: ResourceNotFoundException/,
    );
  });
});

describe('Lambda in an offline sweep, priced per request', () => {
  const offline = (extra: Record<string, unknown> = {}) => ({
    ...cloudSpec([group()]),
    traffic: undefined,
    load: { phases: [], timeout: '2s' },
    slo: { maxErrorRate: 0.05 },
    offline: { rows: 1_000_000, deadline: '1h', saturation: { from: 1, to: 4, stepDuration: '300ms', precision: 0.5 }, ...extra },
  });

  it('runs as many invocations at once as end the job by its deadline, and prices its requests at the billed duration, with no free tier', async () => {
    const fn = fakeFunction({ invokeDelayMs: 20 });

    const outcome = await runCloudSweep(offline(), { lambda: lambdaAdapter(options) });

    const [verdict] = outcome.results!.candidates;
    const { saturation, estimate } = verdict!.job!;
    expect(verdict!.recommended).toBe(true);
    expect(estimate).toMatchObject({ unit: 'invocations' });
    // Each invocation holds 20 ms: at most 50 rows/s an invocation, measured at the best probe's concurrency.
    const perInvocation = saturation.interval.map((t) => t / saturation.concurrency);
    expect(perInvocation[0]).toBeLessThan(50);
    // No cold start met in the probes (the first, cold request is timed apart): the deadline is all rows.
    expect(estimate!.instances).toBe(Math.ceil(1_000_000 / (perInvocation[0]! * 3600)));
    // 1,000,000 requests × 10 ms billed × 2 GB at arm64's first tier, + the requests: the snapshot's rates, by hand.
    const rates = PriceBook.snapshot().lambda('us-east-1').prices;
    const hand = 1_000_000 * 0.01 * 2 * rates.computePerGbSecond.arm64[0]!.price + rates.requestsPerMillion;
    // Within the billed-duration histogram's 0.1% resolution.
    expect(Math.abs(estimate!.usd / hand - 1)).toBeLessThan(0.001);
    expect(estimate!.usdRange[0]).toBeLessThanOrEqual(hand);
    expect(estimate!.usdRange[1]).toBeGreaterThanOrEqual(hand);
    expect(verdict!.reason).toMatch(
      new RegExp(`on ${estimate!.instances} invocations at once, .*measured at concurrency ${saturation.concurrency}, is taken to hold at any`),
    );
    expect(verdict!.priceSources).toEqual([expect.objectContaining({ catalog: 'lambda' })]);
    expectUntouched(fn);
  });

  it("probes no higher than the candidate's maxParallelInvocations, which its invoker would queue past", async () => {
    const fn = fakeFunction({ invokeDelayMs: 20 });
    const spec = { ...offline(), candidates: [group({ maxParallelInvocations: 2 })] };

    const outcome = await runCloudSweep(spec, { lambda: lambdaAdapter(options) });

    const { saturation } = outcome.results!.candidates[0]!.job!;
    expect(saturation.curve.map((p) => p.concurrency)).toEqual([1, 2]);
    expect(fn.stats.maxInFlight).toBeLessThanOrEqual(2);
    expect(saturation.stoppedBecause).toMatch(/concurrency 2, the most probed/);
  });

  it('cannot end the job when that would take more invocations at once than offline.maxConcurrentInvocations, and says how many', async () => {
    fakeFunction({ invokeDelayMs: 20 });

    const outcome = await runCloudSweep(offline({ maxConcurrentInvocations: 2 }), { lambda: lambdaAdapter(options) });

    expect(outcome.results!.recommended).toBeUndefined();
    expect(outcome.results!.candidates[0]!.reason).toMatch(
      /cannot end 1,000,000 rows within 1h: it would take \d+ invocations at once to end by the deadline .* more than offline\.maxConcurrentInvocations \(2\)/,
    );
  });
});
