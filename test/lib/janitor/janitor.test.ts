import {
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListTagsCommand as ListLambdaTagsCommand,
  ListVersionsByFunctionCommand,
  UntagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointConfigCommand,
  DescribeTransformJobCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  ListTagsCommand,
  ListTransformJobsCommand,
  SageMakerClient,
  StopTransformJobCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { buildProgram, main } from '../../../bin/modelsweep';
import { azureMlLeftovers } from '../../../lib/janitor/azureml-leftovers';
import { runJanitor } from '../../../lib/janitor/janitor';
import { lambdaLeftovers } from '../../../lib/janitor/lambda-leftovers';
import { sageMakerLeftovers } from '../../../lib/janitor/sagemaker-leftovers';
import { azureMlClient } from '../../../lib/targets/cloud/azure-access';
import { ownerTagList, ownerTags, type ResourceOwner } from '../../../lib/targets/cloud/resource-tags';
import { RESTORE_TAG } from '../../../lib/targets/lambda/common';
import { restoreTag } from '../../../lib/targets/lambda/restore';
import { fakeArm, fakeCredential } from '../../helpers/fake-arm';
import { fakeBucket } from '../../helpers/fake-bucket';

/** The CLI reads the clock: fixtures are relative to it. */
const NOW = new Date();
const hours = (h: number) => new Date(NOW.getTime() + h * 3_600_000);
/** Created 5 h ago, expired 1 h ago. */
const expired: ResourceOwner = { sweepId: 'sweep-old', candidateId: 'c1', createdAt: hours(-5), expiresAt: hours(-1) };
/** Created 3 h ago, expires in 1 h: a sweep may still be running. */
const running: ResourceOwner = { sweepId: 'sweep-running', candidateId: 'c2', createdAt: hours(-3), expiresAt: hours(1) };
/** What the expired sweep's candidates shared (a SageMaker model, an Azure endpoint): no candidate. */
const sharedExpired: ResourceOwner = { sweepId: 'sweep-old', createdAt: hours(-5), expiresAt: hours(-1) };

const sagemaker = mockClient(SageMakerClient);
const lambda = mockClient(LambdaClient);
let sent: string[];

/** A region with an expired endpoint, config and model, a running sweep's endpoint, and a user's endpoint named like ours. */
function sageMakerAccount() {
  sent = [];
  sagemaker.reset();
  const tags: Record<string, Array<{ Key: string; Value: string }>> = {
    'arn:endpoint/ms-old': ownerTagList(expired),
    'arn:endpoint/ms-running': ownerTagList(running),
    'arn:endpoint/ms-users-own': [{ Key: 'team', Value: 'search' }],
    'arn:endpoint-config/ms-old': ownerTagList(expired),
    'arn:model/ms-model-old': ownerTagList(sharedExpired),
  };
  sagemaker.on(ListEndpointsCommand).resolves({
    Endpoints: ['ms-old', 'ms-running', 'ms-users-own'].map((n) => ({
      EndpointName: n,
      EndpointArn: `arn:endpoint/${n}`,
      EndpointStatus: 'InService',
      CreationTime: NOW,
      LastModifiedTime: NOW,
    })),
  });
  sagemaker
    .on(ListEndpointConfigsCommand)
    .resolves({ EndpointConfigs: [{ EndpointConfigName: 'ms-old', EndpointConfigArn: 'arn:endpoint-config/ms-old', CreationTime: NOW }] });
  sagemaker.on(ListModelsCommand).resolves({ Models: [{ ModelName: 'ms-model-old', ModelArn: 'arn:model/ms-model-old', CreationTime: NOW }] });
  sagemaker.on(ListTransformJobsCommand).resolves({ TransformJobSummaries: [] });
  sagemaker.on(ListTagsCommand).callsFake((i) => ({ Tags: tags[i.ResourceArn] ?? [] }));
  for (const [command, field] of [
    [DeleteEndpointCommand, 'EndpointName'],
    [DeleteEndpointConfigCommand, 'EndpointConfigName'],
    [DeleteModelCommand, 'ModelName'],
  ] as const) {
    sagemaker.on(command as never).callsFake((i: Record<string, string>) => {
      sent.push(`${command.name.replace(/Command$/, '')} ${i[field]}`);
      return {};
    });
  }
}

/**
 * A region with a function a sweep changed and left (memory 2048 on arm64; it was 512 on x86_64),
 * its alias and version, and a user's alias and version.
 */
function lambdaAccount() {
  sent = [];
  lambda.reset();
  const arn = 'arn:aws:lambda:us-east-1:123456789012:function:classify';
  const description = JSON.stringify({ modelsweep: ownerTags(expired) });
  lambda.on(ListFunctionsCommand).resolves({
    Functions: [
      { FunctionName: 'classify', FunctionArn: arn },
      { FunctionName: 'other', FunctionArn: `${arn}-other` },
    ],
  });
  lambda.on(ListLambdaTagsCommand).callsFake((i) => {
    // A role scoped to the sweeps' functions may not read the others.
    if (i.Resource !== arn)
      throw Object.assign(new Error('not authorized to perform lambda:ListTags'), { name: 'AccessDeniedException', $metadata: {} });
    return {
      Tags: {
        ...ownerTags(expired),
        [RESTORE_TAG]: restoreTag({ memorySizeMb: 512, architecture: 'x86_64', environment: { MODE: 'prod' } }),
        team: 'ml',
      },
    };
  });
  lambda.on(ListAliasesCommand).callsFake((i) =>
    i.FunctionName === 'classify'
      ? {
          Aliases: [
            { Name: 'modelsweep-c1-1a2b3c4d', FunctionVersion: '7', Description: description },
            { Name: 'live', FunctionVersion: '3', Description: 'production' },
          ],
        }
      : { Aliases: [] },
  );
  lambda.on(ListVersionsByFunctionCommand).callsFake((i) =>
    i.FunctionName === 'classify'
      ? {
          Versions: [
            { Version: '$LATEST', Description: description },
            { Version: '3', Description: 'release 3' },
            { Version: '7', Description: description },
          ],
        }
      : { Versions: [] },
  );
  lambda.on(GetFunctionCommand).resolves({
    Configuration: {
      FunctionName: 'classify',
      FunctionArn: arn,
      MemorySize: 2048,
      Architectures: ['arm64'],
      PackageType: 'Zip',
      Environment: { Variables: { MODE: 'prod', SWEEP: '1' } },
    },
    Code: { Location: 'https://example.invalid/code.zip' },
  });
  lambda.on(GetFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful' });
  const log = (name: string) => (i: Record<string, unknown>) => {
    sent.push(`${name} ${JSON.stringify(i)}`);
    return {};
  };
  lambda.on(UpdateFunctionCodeCommand).callsFake(log('UpdateFunctionCode'));
  lambda.on(UpdateFunctionConfigurationCommand).callsFake(log('UpdateFunctionConfiguration'));
  lambda.on(UntagResourceCommand).callsFake(log('UntagResource'));
  lambda.on(DeleteAliasCommand).callsFake(log('DeleteAlias'));
  lambda.on(DeleteFunctionCommand).callsFake(log('DeleteFunction'));
}

const fetchCode = async () => new Uint8Array([80, 75, 3, 4]);
const quick = { retry: { sleep: async () => {} } };
const lambdaFinder = () =>
  lambdaLeftovers(new LambdaClient({ region: 'us-east-1' }), 'us-east-1', { fetchCode, pollIntervalMs: 1, sleep: async () => {} });
const sageMakerFinder = () => sageMakerLeftovers(new SageMakerClient({ region: 'us-east-1' }), 'us-east-1', quick.retry);

describe('janitor on SageMaker', () => {
  beforeEach(sageMakerAccount);

  it('deletes only expired resources a sweep tagged, endpoints first, and keeps the rest', async () => {
    const report = await runJanitor([sageMakerFinder()], { now: NOW });
    expect(sent).toEqual(['DeleteEndpoint ms-old', 'DeleteEndpointConfig ms-old', 'DeleteModel ms-model-old']);
    expect(report.removed.map((l) => `${l.kind} ${l.name}`)).toEqual([
      'SageMaker endpoint us-east-1/ms-old',
      'SageMaker endpoint config us-east-1/ms-old',
      'SageMaker model us-east-1/ms-model-old',
    ]);
    expect(report.kept).toBe(1);
    expect(report.failed).toEqual([]);
  });

  it('deletes nothing in a dry run', async () => {
    const report = await runJanitor([sageMakerFinder()], { now: NOW, dryRun: true });
    expect(sent).toEqual([]);
    expect(report.wouldRemove).toHaveLength(3);
    expect(report.removed).toEqual([]);
  });

  it('with --older-than also removes what a running sweep created long enough ago', async () => {
    await runJanitor([sageMakerFinder()], { now: NOW, olderThanMs: 2 * 3_600_000 });
    expect(sent).toContain('DeleteEndpoint ms-running');
    expect(sent).not.toContain('DeleteEndpoint ms-users-own');
  });

  it('goes on after a deletion fails, counts an already-deleted resource as done, and reports the failure', async () => {
    sagemaker.on(DeleteEndpointCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $metadata: {} }));
    sagemaker
      .on(DeleteModelCommand)
      .rejects(Object.assign(new Error('Could not find model "ms-model-old".'), { name: 'ValidationException', $metadata: {} }));
    const report = await runJanitor([sageMakerFinder()], { now: NOW });
    expect(report.failed.map((f) => [f.leftover.name, f.error])).toEqual([['us-east-1/ms-old', 'not allowed']]);
    expect(report.removed.map((l) => l.kind)).toEqual(['SageMaker endpoint config', 'SageMaker model']);
  });
});

const s3 = mockClient(S3Client);
/** A bucket holding objects at these keys, behind the mocked S3 client. */
function bucketHolding(keys: string[]) {
  s3.reset();
  const objects = fakeBucket(s3, []);
  for (const key of keys) objects.set(key, { body: new Uint8Array(), at: NOW });
  return objects;
}

describe('janitor on an asynchronous endpoint a killed sweep left', () => {
  beforeEach(sageMakerAccount);

  it("empties the S3 folder its config points to, after the config, with the config's owner; and none for a real-time config", async () => {
    const objects = bucketHolding([
      'async/sweep-old/c1/in/1',
      'async/sweep-old/c1/out/1.out',
      'async/sweep-old/c1/failed/2-error.out',
      'async/other/keep',
    ]);
    sagemaker
      .on(DescribeEndpointConfigCommand)
      .resolves({ AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://jobs/async/sweep-old/c1/out' } } });
    const finder = sageMakerLeftovers(new SageMakerClient({ region: 'us-east-1' }), 'us-east-1', quick.retry, new S3Client({ region: 'us-east-1' }));

    const report = await runJanitor([finder], { now: NOW });

    expect(report.removed.map((l) => `${l.kind} ${l.name}`)).toEqual([
      'SageMaker endpoint us-east-1/ms-old',
      'SageMaker endpoint config us-east-1/ms-old',
      'S3 folder of an asynchronous endpoint s3://jobs/async/sweep-old/c1/',
      'SageMaker model us-east-1/ms-model-old',
    ]);
    expect([...objects.keys()]).toEqual(['async/other/keep']);

    sagemaker.on(DescribeEndpointConfigCommand).resolves({});
    const realtime = await runJanitor([finder], { now: NOW, dryRun: true });
    expect(realtime.wouldRemove.map((l) => l.kind)).not.toContain('S3 folder of an asynchronous endpoint');
  });
});

describe('janitor on transform jobs a killed sweep left', () => {
  beforeEach(sageMakerAccount);

  it("stops an expired sweep's running job and empties its folder; empties an ended one's folder only while objects are left; leaves the rest", async () => {
    const objects = bucketHolding(['t/sweep-old/c1/in/part-00', 't/sweep-old/c1/out/part-00.out', 't/sweep-old/c3/in/part-00', 't/other/keep']);
    const job = (name: string, status: 'InProgress' | 'Completed') => ({
      TransformJobName: name,
      TransformJobArn: `arn:transform-job/${name}`,
      TransformJobStatus: status,
      CreationTime: NOW,
    });
    sagemaker.on(ListTransformJobsCommand).resolves({
      TransformJobSummaries: [
        job('ms-running-old', 'InProgress'),
        job('ms-ended-old', 'Completed'),
        job('ms-ended-emptied', 'Completed'),
        job('ms-running-current', 'InProgress'),
      ],
    });
    const tags: Record<string, Array<{ Key: string; Value: string }>> = {
      'arn:endpoint/ms-old': ownerTagList(expired),
      'arn:endpoint-config/ms-old': ownerTagList(expired),
      'arn:model/ms-model-old': ownerTagList(sharedExpired),
      'arn:transform-job/ms-running-old': ownerTagList(expired),
      'arn:transform-job/ms-ended-old': ownerTagList({ ...expired, candidateId: 'c3' }),
      'arn:transform-job/ms-ended-emptied': ownerTagList({ ...expired, candidateId: 'c4' }),
      'arn:transform-job/ms-running-current': ownerTagList(running),
    };
    sagemaker.on(ListTagsCommand).callsFake((i) => ({ Tags: tags[i.ResourceArn] ?? [] }));
    const outputs: Record<string, string> = {
      'ms-running-old': 's3://jobs/t/sweep-old/c1/out',
      'ms-ended-old': 's3://jobs/t/sweep-old/c3/out',
      'ms-ended-emptied': 's3://jobs/t/sweep-old/c4/out',
      'ms-running-current': 's3://jobs/t/sweep-running/c2/out',
    };
    sagemaker.on(DescribeTransformJobCommand).callsFake((i) => ({ TransformOutput: { S3OutputPath: outputs[i.TransformJobName] } }));
    sagemaker.on(StopTransformJobCommand).callsFake((i) => {
      sent.push(`StopTransformJob ${i.TransformJobName}`);
      return {};
    });
    const finder = sageMakerLeftovers(new SageMakerClient({ region: 'us-east-1' }), 'us-east-1', quick.retry, new S3Client({ region: 'us-east-1' }));

    const report = await runJanitor([finder], { now: NOW });

    expect(report.removed.map((l) => `${l.action} ${l.kind} ${l.name}`)).toEqual(
      expect.arrayContaining([
        'stop SageMaker transform job us-east-1/ms-running-old',
        'delete S3 folder of a transform job s3://jobs/t/sweep-old/c1/',
        'delete S3 folder of a transform job s3://jobs/t/sweep-old/c3/',
      ]),
    );
    expect(report.removed.map((l) => l.name).join(' ')).not.toMatch(/ms-ended|c4|sweep-running|ms-running-current/);
    expect(sent).toContain('StopTransformJob ms-running-old');
    expect(sent).not.toContain('StopTransformJob ms-running-current');
    expect([...objects.keys()]).toEqual(['t/other/keep']);
    // The folder goes after the job is stopped: nothing writes there any more.
    const order = report.removed.map((l) => l.name);
    expect(order.indexOf('s3://jobs/t/sweep-old/c1/')).toBeGreaterThan(order.indexOf('us-east-1/ms-running-old'));
  });
});

describe('janitor on Lambda', () => {
  beforeEach(lambdaAccount);

  it("puts an expired sweep's $LATEST back as its restore note says, then deletes its alias and version only", async () => {
    const report = await runJanitor([lambdaFinder()], { now: NOW });
    expect(report.removed.map((l) => `${l.action} ${l.kind} ${l.name}`)).toEqual([
      'restore Lambda $LATEST changed by a sweep us-east-1/classify',
      'delete Lambda alias us-east-1/classify:modelsweep-c1-1a2b3c4d',
      'delete Lambda version us-east-1/classify:7',
    ]);
    expect(sent.map((s) => s.split(' ')[0])).toEqual([
      'UpdateFunctionCode',
      'UpdateFunctionConfiguration',
      'UntagResource',
      'DeleteAlias',
      'DeleteFunction',
    ]);
    expect(JSON.parse(sent[0].slice(sent[0].indexOf(' ')))).toMatchObject({
      FunctionName: 'classify',
      Architectures: ['x86_64'],
      ZipFile: { 0: 80, 1: 75, 2: 3, 3: 4 },
    });
    expect(JSON.parse(sent[1].slice(sent[1].indexOf(' ')))).toEqual({
      FunctionName: 'classify',
      MemorySize: 512,
      Environment: { Variables: { MODE: 'prod' } },
    });
    expect(JSON.parse(sent[2].slice(sent[2].indexOf(' '))).TagKeys).toEqual(
      expect.arrayContaining([RESTORE_TAG, 'modelsweep:sweep-id', 'modelsweep:expires-at']),
    );
    expect(JSON.parse(sent[2].slice(sent[2].indexOf(' '))).TagKeys).not.toContain('team');
    expect(JSON.parse(sent[4].slice(sent[4].indexOf(' ')))).toEqual({ FunctionName: 'classify', Qualifier: '7' });
    expect(report.unreachable).toEqual([]);
  });

  it('changes nothing in a dry run, nor for a sweep that has not expired', async () => {
    const dry = await runJanitor([lambdaFinder()], { now: NOW, dryRun: true });
    expect(dry.wouldRemove).toHaveLength(3);
    const early = await runJanitor([lambdaFinder()], { now: hours(-2) });
    expect(early.kept).toBe(3);
    expect(sent).toEqual([]);
  });
});

describe('janitor on Azure ML', () => {
  it("deletes an expired sweep's endpoint with its deployments and expired sweep deployments on other endpoints, nothing else", async () => {
    const arm = fakeArm({ scoringUri: 'http://127.0.0.1:9/score', pollsToComplete: 1 });
    arm.seedEndpoint('sweep-ep', ownerTags(sharedExpired), [{ name: 'ms-c1-1a2b3c4d', tags: ownerTags(expired) }]);
    arm.seedEndpoint('prod', { team: 'ml' }, [
      { name: 'blue', tags: {} },
      { name: 'ms-c1-5e6f7a8b', tags: ownerTags(expired) },
      { name: 'ms-c2-9c0d1e2f', tags: ownerTags(running) },
    ]);
    const finder = azureMlLeftovers(
      azureMlClient(fakeCredential(), '11111111-2222-3333-4444-555555555555', arm.httpClient),
      { subscriptionId: '1', resourceGroup: 'ml-rg', workspace: 'ml-ws' },
      { pollIntervalMs: 1 },
    );

    const dry = await runJanitor([finder], { now: NOW, dryRun: true });
    expect(dry.wouldRemove.map((l) => l.name)).toEqual(['ml-ws/sweep-ep', 'ml-ws/prod/ms-c1-5e6f7a8b']);
    expect(arm.log.filter((l) => l.startsWith('DELETE'))).toEqual([]);

    const report = await runJanitor([finder], { now: NOW });
    expect(report.removed.map((l) => `${l.kind} ${l.name}`)).toEqual([
      'Azure ML endpoint ml-ws/sweep-ep',
      'Azure ML deployment ml-ws/prod/ms-c1-5e6f7a8b',
    ]);
    expect(report.kept).toBe(1);
    expect([...arm.endpoints.keys()]).toEqual(['prod']);
    expect([...arm.deployments.get('prod')!.keys()]).toEqual(['blue', 'ms-c2-9c0d1e2f']);
  });
});

describe('modelsweep janitor', () => {
  let out: string[];
  let err: string[];
  beforeEach(() => {
    sageMakerAccount();
    lambda.reset();
    lambda.on(ListFunctionsCommand).resolves({ Functions: [] });
    out = [];
    err = [];
    vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('prints what a dry run would remove in each region and removes nothing', async () => {
    const code = await main(['janitor', '--dry-run', '--region', 'us-east-1', '--region', 'eu-west-1']);
    expect(code).toBe(0);
    expect(err).toEqual([
      'scanning SageMaker in us-east-1',
      'scanning Lambda in us-east-1',
      'scanning SageMaker in eu-west-1',
      'scanning Lambda in eu-west-1',
    ]);
    expect(out.filter((l) => l.startsWith('would delete'))).toHaveLength(6);
    expect(out[0]).toMatch(/^would delete +SageMaker endpoint us-east-1\/ms-old \(sweep sweep-old, expired /);
    expect(out.at(-1)).toBe('dry run: 6 to remove, nothing removed; 2 tagged by a sweep but not expired, kept');
    expect(sent).toEqual([]);
  });

  it('removes, reports as JSON, and exits 1 when something could not be removed', async () => {
    sagemaker.on(DeleteEndpointConfigCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $metadata: {} }));
    const code = await main(['janitor', '--json', '--region', 'us-east-1']);
    expect(code).toBe(1);
    const report = JSON.parse(out.join('\n'));
    expect(report.removed.map((r: { name: string }) => r.name)).toEqual(['us-east-1/ms-old', 'us-east-1/ms-model-old']);
    expect(report.failed).toEqual([expect.objectContaining({ name: 'us-east-1/ms-old', kind: 'SageMaker endpoint config', error: 'not allowed' })]);
  });

  it('cleans an Azure workspace alone', async () => {
    const arm = fakeArm({ scoringUri: 'http://127.0.0.1:9/score', pollsToComplete: 1 });
    arm.seedEndpoint('sweep-ep', ownerTags({ ...sharedExpired, expiresAt: new Date(Date.now() - 60_000) }));
    const program = buildProgram({ janitor: { azureCredential: fakeCredential(), azureHttpClient: arm.httpClient, azurePollIntervalMs: 1 } });
    const code = await main(['janitor', '--no-aws', '--azure-workspace', '11111111-2222-3333-4444-555555555555/ml-rg/ml-ws'], program);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^deleted +Azure ML endpoint ml-ws\/sweep-ep/);
    expect(arm.endpoints.size).toBe(0);
    expect(sent).toEqual([]);
  });

  it.each([
    [['janitor', '--older-than', 'two hours'], /--older-than must be a duration such as 2h or 90m/],
    [['janitor', '--region', 'mars'], /--region must be an AWS region such as us-east-1/],
    [['janitor', '--no-aws'], /nothing to clean: --no-aws needs at least one --azure-workspace/],
    [['janitor', '--no-aws', '--azure-workspace', 'sub/rg'], /--azure-workspace: "sub\/rg" is not subscription-id\/resource-group\/workspace/],
  ])('rejects %j with exit 2', async (argv, message) => {
    expect(await main(argv)).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it('stops before listing anything without Azure credentials', async () => {
    const program = buildProgram({
      janitor: { azureCredential: fakeCredential('no az login'), azureHttpClient: fakeArm({ scoringUri: 'x' }).httpClient },
    });
    expect(await main(['janitor', '--no-aws', '--azure-workspace', 's/rg/ws'], program)).toBe(2);
    expect(err.join('\n')).toMatch(/nothing was listed or removed: janitor: no Azure credentials \(no az login\); run az login/);
  });
});
