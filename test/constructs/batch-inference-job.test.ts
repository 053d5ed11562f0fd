import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { describe, expect, it } from 'vitest';

import { BatchInferenceJob, type BatchInferenceJobProps, ModelImage, ModelRecommendation } from '../../constructs';
import { recommendationContextKey } from '../../lib/apply/recommendation';
import { builtAssets } from '../../lib/build/asset-paths';
import { policyStatements, synthWithNag, templateOf, testApp, testStack, violations } from '../helpers/cdk';

/** A bucket as cdk-nag wants one: TLS only, encrypted, access logged. */
function dataBucket(stack: Stack): s3.Bucket {
  const logs = new s3.Bucket(stack, 'AccessLogs', {
    enforceSSL: true,
    encryption: s3.BucketEncryption.S3_MANAGED,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return new s3.Bucket(stack, 'Data', { enforceSSL: true, encryption: s3.BucketEncryption.S3_MANAGED, serverAccessLogsBucket: logs });
}

function batchJob(props: Partial<BatchInferenceJobProps> = {}, stack: Stack = testStack()) {
  const bucket = dataBucket(stack);
  const construct = new BatchInferenceJob(stack, 'Nightly', {
    image: ModelImage.fromAsset(builtAssets.modelServerImage),
    input: { bucket, prefix: 'rows/' },
    output: { bucket, prefix: 'scores/' },
    ...props,
  });
  return { stack, construct, template: () => templateOf(stack) };
}

/** The state machine's definition, tokens left as objects. */
function definitionOf(template: ReturnType<typeof templateOf>): any {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as any[];
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join(''));
}

describe('BatchInferenceJob', () => {
  it('runs one transform job per execution and waits for it (.sync), over the input prefix into the output prefix', () => {
    const { template } = batchJob({
      instanceType: 'ml.g5.xlarge',
      instanceCount: 3,
      maxConcurrentTransforms: 8,
      maxPayload: Size.mebibytes(12),
      batchStrategy: tasks.BatchStrategy.SINGLE_RECORD,
    });
    const definition = definitionOf(template());
    const [state] = Object.values(definition.States) as any[];
    expect(state.Resource).toMatch(/createTransformJob\.sync$/);
    expect(state.Parameters).toMatchObject({
      'TransformJobName.$': '$$.Execution.Name',
      BatchStrategy: 'SingleRecord',
      MaxConcurrentTransforms: 8,
      MaxPayloadInMB: 12,
      TransformResources: { InstanceCount: 3, InstanceType: 'ml.g5.xlarge' },
      TransformInput: { ContentType: 'application/jsonlines', SplitType: 'Line' },
      TransformOutput: { AssembleWith: 'Line' },
    });
    expect(JSON.stringify(state.Parameters.TransformInput)).toContain('/rows/');
    expect(JSON.stringify(state.Parameters.TransformOutput)).toContain('/scores/');
    template().hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
  });

  it("runs the job as the model's role, never a role with AmazonSageMakerFullAccess; the role reads the input and writes the output only", () => {
    const t = batchJob().template();
    expect(JSON.stringify(t.toJSON())).not.toContain('AmazonSageMakerFullAccess');
    const statements = JSON.stringify(policyStatements(t));
    expect(statements).toMatch(/\/rows\/\*/);
    expect(statements).toMatch(/\/scores\/\*/);
    expect(statements).toContain('sagemaker:CreateTransformJob');
    expect(statements).toContain('sagemaker:StopTransformJob');
  });

  it('runs on a schedule, and alarms on a failed, timed-out or aborted run', () => {
    const { construct, template, stack } = batchJob({
      schedule: scheduler.ScheduleExpression.cron({ hour: '2', minute: '0' }),
      timeout: Duration.hours(6),
    });
    const starter = new iam.Role(stack, 'Starter', { assumedBy: new iam.AccountRootPrincipal() });
    construct.grantStartExecution(starter);
    const t = template();
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      Target: Match.objectLike({ Arn: { Ref: stack.getLogicalId(construct.stateMachine.node.defaultChild as any) } }),
    });
    expect(definitionOf(t).TimeoutSeconds).toBe(21_600);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'failed + timedOut + aborted' })]),
    });
    expect(JSON.stringify(policyStatements(t))).toContain('states:StartExecution');
  });

  it('passes cdk-nag AwsSolutions with zero unacknowledged findings, with and without a schedule', () => {
    for (const schedule of [undefined, scheduler.ScheduleExpression.rate(Duration.days(1))]) {
      const { error, report } = synthWithNag((app) => {
        const stack = new Stack(app, 'Batch', { env: { account: '123456789012', region: 'eu-west-1' } });
        const bucket = dataBucket(stack);
        new BatchInferenceJob(stack, 'Nightly', {
          image: ModelImage.fromAsset(builtAssets.modelServerImage),
          input: { bucket, prefix: 'rows' },
          output: { bucket, prefix: 'scores' },
          ...(schedule ? { schedule } : {}),
        });
      });
      expect(violations(report)).toEqual([]);
      expect(error).toBeUndefined();
    }
  });

  it.each<[string, Partial<BatchInferenceJobProps>, RegExp]>([
    ['a malformed instance type', { instanceType: 'm5.large' }, /^instanceType must be a SageMaker instance type like ml\.g5\.xlarge/],
    ['no instances', { instanceCount: 0 }, /^instanceCount must be an integer from 1 to 1000, got 0/],
    ['a payload over 100 MB', { maxPayload: Size.mebibytes(200) }, /^maxPayload must be a whole number of MB from 1 to 100, got 200 MB/],
    ['a timeout under a minute', { timeout: Duration.seconds(10) }, /^timeout must be/],
  ])('throws naming the prop for %s', (_what, props, message) => {
    expect(() => batchJob(props)).toThrow(message);
  });

  it('takes its instance type, job instances, concurrency, payload size and strategy from an applied offline recommendation', () => {
    const recommendation = {
      model: 'scorer',
      sweepId: 'sweep-1',
      candidate: 'sagemaker-batch-transform-ml.g4dn.xlarge-c8-12mb-single',
      kind: 'sagemaker-batch-transform',
      configuration: { instanceType: 'ml.g4dn.xlarge', maxConcurrentTransforms: 8, maxPayloadInMb: 12, batchStrategy: 'SingleRecord' },
      instances: 4,
      job: { rows: 40_000_000, deadlineSeconds: 21_600, usd: 18.2, seconds: 19_800 },
      appliedAt: '2026-12-06T12:00:00Z',
    };
    const stack = new Stack(testApp({ [recommendationContextKey('scorer')]: recommendation }), 'Applied');
    const applied = ModelRecommendation.of(stack, 'scorer').transformProps({ instanceType: 'ml.c5.xlarge', instanceCount: 1 });
    expect(applied).toEqual({
      instanceType: 'ml.g4dn.xlarge',
      instanceCount: 4,
      maxConcurrentTransforms: 8,
      maxPayload: Size.mebibytes(12),
      batchStrategy: tasks.BatchStrategy.SINGLE_RECORD,
    });
    const [state] = Object.values(definitionOf(batchJob(applied, stack).template()).States) as any[];
    expect(state.Parameters).toMatchObject({
      BatchStrategy: 'SingleRecord',
      MaxConcurrentTransforms: 8,
      MaxPayloadInMB: 12,
      TransformResources: { InstanceCount: 4, InstanceType: 'ml.g4dn.xlarge' },
    });
    // Without a recommendation: the defaults, as given.
    expect(ModelRecommendation.of(testStack(), 'scorer').transformProps({ instanceType: 'ml.c5.xlarge', instanceCount: 2 })).toEqual({
      instanceType: 'ml.c5.xlarge',
      instanceCount: 2,
    });
  });

  it('refuses answers written where rows are read', () => {
    const stack = testStack();
    const bucket = dataBucket(stack);
    expect(
      () =>
        new BatchInferenceJob(stack, 'Nightly', {
          image: ModelImage.fromAsset(builtAssets.modelServerImage),
          input: { bucket, prefix: 'jobs/' },
          output: { bucket, prefix: '/jobs' },
        }),
    ).toThrow(/^output\.prefix must differ from input\.prefix/);
  });
});
