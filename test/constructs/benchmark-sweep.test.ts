import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { BenchmarkSweep, type BenchmarkSweepProps } from '../../constructs';
import { renderSweepDefinition } from '../../constructs/sweep/sweep-definition';
import { prebuiltSweepDefinition } from '../../lib/local/run-sweep';
import { RESULTS_TABLE } from '../../lib/store/table';
import { SWEEP_TASKS } from '../../lib/workflow/task-names';
import { policyStatements, synthWithNag, testStack, violations } from '../helpers/cdk';
import { cloudSpec } from '../helpers/cloud-sweep';

function sweepTemplate(props: BenchmarkSweepProps = {}): { stack: Stack; template: Template; sweep: BenchmarkSweep } {
  const stack = testStack();
  const sweep = new BenchmarkSweep(stack, 'Sweep', props);
  return { stack, template: Template.fromStack(stack), sweep };
}

/** The state machine's definition from the template, tokens (function ARNs) left as objects. */
function definitionOf(template: Template): any {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as any[];
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  return JSON.parse(
    parts
      .map((p) => (typeof p === 'string' ? p : '"TOKEN"'))
      .join('')
      .replace(/""TOKEN""/g, '"TOKEN"'),
  );
}

/** Every state, with the states machine it sits in, walking into Map item processors. */
function allStates(definition: any): Array<[string, any]> {
  return Object.entries(definition.States as Record<string, any>).flatMap(([name, state]) => [
    [name, state] as [string, any],
    ...(state.ItemProcessor ? allStates(state.ItemProcessor) : []),
  ]);
}

function scheduledSpecFile(spec: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'sweep-spec-'));
  const file = join(dir, 'weekly.yaml');
  writeFileSync(file, stringify(spec));
  return file;
}

describe('BenchmarkSweep', () => {
  it('creates the results table from lib/store with point-in-time recovery and encryption', () => {
    const { template } = sweepTemplate();
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: RESULTS_TABLE.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: RESULTS_TABLE.sortKey.name, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: RESULTS_TABLE.globalSecondaryIndexes[0].indexName })],
    });
  });

  it('keeps payloads and reports in an encrypted bucket that refuses plain HTTP and public access', () => {
    const { template, sweep, stack } = sweepTemplate();
    const bucketId = stack.getLogicalId(sweep.bucket.node.defaultChild as any);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'sweeps/' }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('runs every step as its own function from the prebuilt bundle, load steps with the generator memory', () => {
    const { template } = sweepTemplate({ generatorMemorySize: undefined });
    const functions = template.findResources('AWS::Lambda::Function', { Properties: { Handler: Match.stringLikeRegexp('^index\\.') } });
    const byHandler = Object.fromEntries(Object.values(functions).map((f: any) => [f.Properties.Handler, f.Properties]));
    expect(Object.keys(byHandler).sort()).toEqual(
      Object.keys(SWEEP_TASKS)
        .map((t) => `index.${t}`)
        .sort(),
    );
    expect(byHandler['index.generate']).toMatchObject({ MemorySize: 1769, Timeout: 900, TracingConfig: { Mode: 'Active' } });
    expect(byHandler['index.budget']).toMatchObject({ MemorySize: 512 });
  });

  it('logs and traces executions, and alarms the topic when one fails', () => {
    const { template } = sweepTemplate();
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true, Destinations: [Match.anyValue()] },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('SweepTopic') }],
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  it('bounds the lanes Map by the configured concurrency and measures a lane one candidate at a time', () => {
    const definition = definitionOf(sweepTemplate({ maxConcurrency: 7 }).template);
    const states = Object.fromEntries(allStates(definition));
    expect(states['Validate spec'].Parameters).toEqual({ 'request.$': '$', defaultMaxConcurrency: 7 });
    expect(states['Measure lanes']).toMatchObject({ Type: 'Map', MaxConcurrencyPath: '$.maxConcurrency', ItemsPath: '$.wave.lanes' });
    expect(states['Measure candidates']).toMatchObject({ Type: 'Map', MaxConcurrency: 1 });
    expect(states['Run phases']).toMatchObject({ Type: 'Map', MaxConcurrency: 1 });
    // generators of one phase run side by side
    expect(states['Run generators'].MaxConcurrency ?? 0).toBe(0);
  });

  it('measures in waves: validate → plan a wave → its lanes → plan again, until the plan says done, then select and report', () => {
    const definition = definitionOf(sweepTemplate().template);
    const states = definition.States;
    expect(definition.StartAt).toBe('Validate spec');
    expect(states['Validate spec'].Next).toBe('Plan next wave');
    expect(states['Plan next wave']).toMatchObject({
      Type: 'Task',
      Parameters: { 'sweepId.$': '$.sweepId', 'maxConcurrency.$': '$.maxConcurrency' },
      ResultPath: '$.wave',
      Next: 'More to measure?',
      Catch: [expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: SWEEP_TASKS.selectAndReport })],
    });
    expect(states['More to measure?']).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.wave.done', BooleanEquals: false, Next: 'Measure lanes' }],
      Default: 'Select and report',
    });
    // After a wave, the next is planned with what it measured.
    expect(states['Measure lanes'].Next).toBe('Plan next wave');
  });

  it('sends every state of a candidate that can fail to the teardown after failure', () => {
    const definition = definitionOf(sweepTemplate().template);
    const branch = definition.States['Measure lanes'].ItemProcessor.States['Measure candidates'].ItemProcessor;
    const failing = Object.entries(branch.States as Record<string, any>).filter(([, s]) => s.Type === 'Task' || s.Type === 'Map');
    expect(failing.map(([name]) => name).sort()).toEqual(
      [
        'Check budget',
        'Deploy candidate',
        'Check ready',
        'Warm up',
        'Measure quality',
        'Run phases',
        'Search rate',
        'Record result',
        'Tear down',
        'Tear down after failure',
      ].sort(),
    );
    for (const [name, state] of failing) {
      if (name === SWEEP_TASKS.teardownAfterFailure) {
        expect(state.Catch).toBeUndefined();
        expect(state.Retry).toEqual(expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['States.ALL'] })]));
        continue;
      }
      expect(state.Catch, name).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: SWEEP_TASKS.teardownAfterFailure }]);
    }
    // the Wait + describe loop
    expect(branch.States['Ready?'].Default).toBe('Wait until ready');
    expect(branch.States['Wait until ready']).toMatchObject({ Type: 'Wait', SecondsPath: '$.ready.waitSeconds', Next: 'Check ready' });
    // a sweep where nothing was measured ends FAILED with the reasons
    expect(definition.States['Sweep failed']).toMatchObject({ Type: 'Fail', Error: 'NoCandidateMeasured', CausePath: '$.reason' });
    expect(definition.States['Measure lanes'].Catch).toEqual([
      expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: SWEEP_TASKS.selectAndReport }),
    ]);
  });

  it('is the definition the local executor runs (the prebuilt ASL has not drifted from the construct)', () => {
    expect(prebuiltSweepDefinition()).toEqual(renderSweepDefinition());
  });

  it("grants the adapters' statements only for the kinds it is given", () => {
    const plain = policyStatements(sweepTemplate().template).flatMap((s) => [s.Action].flat());
    expect(plain.filter((a: string) => a.startsWith('sagemaker:') || a.startsWith('lambda:Update') || a.startsWith('pricing:'))).toEqual([]);

    const { template } = sweepTemplate({ sageMaker: true, lambdaFunctions: ['my-model'] });
    const statements = policyStatements(template);
    expect(statements).toContainEqual(
      expect.objectContaining({ Sid: 'ModelsweepSageMakerLifecycle', Resource: expect.arrayContaining([expect.stringMatching(/endpoint\/ms-\*$/)]) }),
    );
    // Candidates AWS bills are priced from the Price List at each sweep's start: GetProducts alone.
    expect(statements).toContainEqual({ Sid: 'ModelsweepPriceList', Effect: 'Allow', Action: 'pricing:GetProducts', Resource: '*' });
    const lambdaStatement = statements.find((s) => s.Sid === 'ModelsweepLambdaCandidates');
    expect(lambdaStatement?.Resource).toEqual([expect.stringMatching(/:function:my-model$/), expect.stringMatching(/:function:my-model:\*$/)]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.validate',
      Environment: { Variables: Match.objectLike({ MODELSWEEP_CANDIDATE_KINDS: 'http,sagemaker-realtime,sagemaker-serverless,lambda' }) },
    });
  });

  it('lets asynchronous and batch transform candidates use the S3 folders it names, and nothing else in S3', () => {
    const { template } = sweepTemplate({ sageMaker: true, sageMakerS3Paths: ['s3://jobs-bucket/async', 's3://other-bucket'] });
    const statements = policyStatements(template);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Sid: 'ModelsweepSageMakerFolderObjects',
        Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
        Resource: ['arn:aws:s3:::jobs-bucket/async/*', 'arn:aws:s3:::other-bucket/*'],
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Sid: 'ModelsweepSageMakerFolderList0',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::jobs-bucket',
        Condition: { StringLike: { 's3:prefix': ['async/*'] } },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining(['sagemaker:InvokeEndpointAsync', 'sagemaker:CreateTransformJob', 'sagemaker:StopTransformJob']),
        Resource: expect.arrayContaining(['arn:aws:sagemaker:us-east-1:123456789012:transform-job/ms-*']),
      }),
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.validate',
      Environment: {
        Variables: Match.objectLike({
          MODELSWEEP_CANDIDATE_KINDS: 'http,sagemaker-realtime,sagemaker-serverless,sagemaker-async,sagemaker-batch-transform',
        }),
      },
    });
    expect(() => sweepTemplate({ sageMakerS3Paths: ['s3://jobs-bucket/async'] })).toThrow(/^sageMakerS3Paths needs sageMaker: true/);
    expect(() => sweepTemplate({ sageMaker: true, sageMakerS3Paths: ['jobs-bucket/async'] })).toThrow(
      /^sageMakerS3Paths\[0\] must be an s3:\/\/bucket\/prefix URL/,
    );
  });

  it('re-runs a stored spec on an EventBridge Scheduler schedule', () => {
    const specFile = scheduledSpecFile(
      cloudSpec([{ kind: 'http', name: 'existing', url: 'http://127.0.0.1:1/', costPerHour: 1 }], { name: 'weekly' }),
    );
    const { template, sweep, stack } = sweepTemplate({
      schedules: [{ name: 'weekly', schedule: scheduler.ScheduleExpression.rate(Duration.days(7)), specFile }],
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(7 days)',
      Target: {
        Arn: { Ref: stack.getLogicalId(sweep.stateMachine.node.defaultChild as any) },
        Input: JSON.stringify({ specKey: 'schedules/weekly/spec.json' }),
      },
    });
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      Prune: false,
      DestinationBucketName: { Ref: stack.getLogicalId(sweep.bucket.node.defaultChild as any) },
    });
  });

  it('synthesizes a byte-identical template from a copy of the app in another folder', () => {
    // The same spec and payload file, in two folders: nothing of where they live may reach the template.
    const templateFrom = () => {
      const dir = mkdtempSync(join(tmpdir(), 'app-copy-'));
      writeFileSync(join(dir, 'payload.json'), '{"instances":[[1,2,3]]}');
      const specFile = join(dir, 'weekly.yaml');
      writeFileSync(
        specFile,
        stringify({
          ...cloudSpec([{ kind: 'http', name: 'existing', url: 'http://127.0.0.1:1/', costPerHour: 1 }], { name: 'weekly' }),
          payloads: [{ file: 'payload.json' }],
        }),
      );
      return JSON.stringify(
        sweepTemplate({ schedules: [{ name: 'weekly', schedule: scheduler.ScheduleExpression.rate(Duration.days(7)), specFile }] }).template.toJSON(),
      );
    };
    const [first, second] = [templateFrom(), templateFrom()];
    expect(first).toContain('Custom::CDKBucketDeployment');
    expect(second).toBe(first);
  });

  it('refuses bad props naming the prop, before anything is synthesized', () => {
    expect(() => sweepTemplate({ maxConcurrency: 0 })).toThrow(/^maxConcurrency must be an integer from 1 to 40, got 0/);
    expect(() => sweepTemplate({ lambdaFunctions: ['arn:aws:lambda:x'] })).toThrow(/^lambdaFunctions\[0\] must be a function name/);
    const local = scheduledSpecFile({ ...cloudSpec([{ kind: 'local', threads: 1, modelPath: __filename, costPerHour: 1 }]) });
    expect(() =>
      sweepTemplate({ schedules: [{ name: 'x', schedule: scheduler.ScheduleExpression.rate(Duration.days(1)), specFile: local }] }),
    ).toThrow(/^schedules\[0\]\.specFile has local candidates \(local-threads1\), which the cloud workflow cannot run/);
    expect(() =>
      sweepTemplate({ schedules: [{ name: 'x', schedule: scheduler.ScheduleExpression.rate(Duration.days(1)), specFile: '/nope.yaml' }] }),
    ).toThrow(/^schedules\[0\]\.specFile is not a valid sweep spec: \/nope\.yaml: 1 problem/);
    expect(() =>
      sweepTemplate({ schedules: [{ name: 'Bad Name', schedule: scheduler.ScheduleExpression.rate(Duration.days(1)), specFile: local }] }),
    ).toThrow(/^schedules\[0\]\.name must be/);
  });

  it('passes cdk-nag AwsSolutions with every kind and a schedule, with zero unacknowledged findings', () => {
    const specFile = scheduledSpecFile(cloudSpec([{ kind: 'http', name: 'existing', url: 'http://127.0.0.1:1/', costPerHour: 1 }]));
    for (const env of [undefined, { account: '123456789012', region: 'eu-west-1' }]) {
      const { error, report } = synthWithNag((app) => {
        const stack = new Stack(app, 'Sweep', { env });
        new BenchmarkSweep(stack, 'Sweep', {
          sageMaker: true,
          sageMakerS3Paths: ['s3://jobs-bucket/async'],
          lambdaFunctions: ['a', 'b'],
          schedules: [{ name: 'weekly', schedule: scheduler.ScheduleExpression.rate(Duration.days(7)), specFile }],
        });
      });
      expect(violations(report)).toEqual([]);
      expect(error).toBeUndefined();
    }
  });
});
