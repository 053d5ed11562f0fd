import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';

import { ModelImage, ModelRecommendation, SageMakerAsyncEndpoint, type SageMakerAsyncEndpointProps } from '../../constructs';
import { recommendationContextKey } from '../../lib/apply/recommendation';
import { builtAssets } from '../../lib/build/asset-paths';
import { policyStatements, synthWithNag, templateOf, testApp, testStack, violations } from '../helpers/cdk';

/** A bucket as cdk-nag wants one: TLS only, encrypted, access logged. */
function jobsBucket(stack: Stack): s3.Bucket {
  const logs = new s3.Bucket(stack, 'AccessLogs', {
    enforceSSL: true,
    encryption: s3.BucketEncryption.S3_MANAGED,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return new s3.Bucket(stack, 'Jobs', {
    enforceSSL: true,
    encryption: s3.BucketEncryption.S3_MANAGED,
    serverAccessLogsBucket: logs,
    removalPolicy: RemovalPolicy.DESTROY,
  });
}

function asyncEndpoint(props: Partial<SageMakerAsyncEndpointProps> = {}, stack: Stack = testStack()) {
  const construct = new SageMakerAsyncEndpoint(stack, 'Async', {
    image: ModelImage.fromAsset(builtAssets.modelServerImage),
    storage: { bucket: jobsBucket(stack) },
    ...props,
  });
  return { stack, construct, template: () => templateOf(stack) };
}

describe('SageMakerAsyncEndpoint', () => {
  it('queues requests from the input prefix, writes answers and failures to their own, and announces both on encrypted topics', () => {
    const { template } = asyncEndpoint({ maxConcurrentInvocationsPerInstance: 4, instanceType: 'ml.g5.xlarge' });
    const t = template();
    t.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ VariantName: 'AllTraffic', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 })],
      AsyncInferenceConfig: {
        OutputConfig: {
          S3OutputPath: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^Jobs') }, '/async-output']] },
          S3FailurePath: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^Jobs') }, '/async-failures']] },
          NotificationConfig: {
            SuccessTopic: { Ref: Match.stringLikeRegexp('SuccessTopic') },
            ErrorTopic: { Ref: Match.stringLikeRegexp('ErrorTopic') },
          },
        },
        ClientConfig: { MaxConcurrentInvocationsPerInstance: 4 },
      },
    });
    t.resourceCountIs('AWS::SNS::Topic', 2);
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    // The endpoint's role reads requests, writes answers and failures, and publishes: nothing more in the bucket.
    const statements = JSON.stringify(policyStatements(t));
    expect(statements).toMatch(/"Resource":\[.*\/async-input\/\*/);
    expect(statements).toMatch(/\/async-output\/\*/);
    expect(statements).toMatch(/\/async-failures\/\*/);
    expect(statements).toContain('sns:Publish');
  });

  it('scales to zero: backlog tracking per instance, and a step that starts the first instance when requests wait with none', () => {
    const { template } = asyncEndpoint({ scaleToZero: { maxCapacity: 6, targetBacklogPerInstance: 3, scaleInCooldown: Duration.minutes(10) } });
    const t = template();
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'sagemaker',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 0,
      MaxCapacity: 6,
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 3,
        ScaleInCooldown: 600,
        ScaleOutCooldown: 60,
        CustomizedMetricSpecification: Match.objectLike({ MetricName: 'ApproximateBacklogSizePerInstance', Statistic: 'Average' }),
      }),
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: Match.objectLike({
        AdjustmentType: 'ChangeInCapacity',
        StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
      }),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'HasBacklogWithoutCapacity',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('StartFromZero') }],
    });
  });

  it('describes how to invoke it, and grants a caller the endpoint, the input prefix and the answers', () => {
    const { stack, construct, template } = asyncEndpoint({ notifications: false });
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    construct.grantInvoke(caller);
    expect(construct.invocation).toMatchObject({ kind: 'sagemaker-async', region: 'us-east-1' });
    expect(construct.inputLocation).toMatch(/\/async-input\/$/);
    expect(construct.successTopic).toBeUndefined();
    const t = template();
    t.resourceCountIs('AWS::SNS::Topic', 0);
    const callerPolicy = Object.values(t.findResources('AWS::IAM::Policy')).find((p: any) =>
      JSON.stringify(p.Properties.Roles).includes('Caller'),
    ) as any;
    const actions = JSON.stringify(callerPolicy.Properties.PolicyDocument.Statement.map((s: any) => s.Action));
    expect(actions).toContain('sagemaker:InvokeEndpointAsync');
    expect(actions).toContain('s3:PutObject');
    expect(actions).toContain('s3:GetObject*');
    expect(construct.metricBacklog().metricName).toBe('ApproximateBacklogSize');
    expect(construct.metricBacklogWithoutCapacity().metricName).toBe('HasBacklogWithoutCapacity');
  });

  it('passes cdk-nag AwsSolutions with zero unacknowledged findings', () => {
    const { error, report } = synthWithNag((app) => {
      const stack = new Stack(app, 'Async', { env: { account: '123456789012', region: 'eu-west-1' } });
      new SageMakerAsyncEndpoint(stack, 'Async', {
        image: ModelImage.fromAsset(builtAssets.modelServerImage),
        storage: { bucket: jobsBucket(stack) },
        scaleToZero: { maxCapacity: 4 },
      });
    });
    expect(violations(report)).toEqual([]);
    expect(error).toBeUndefined();
  });

  it('takes its instance type, job instances and concurrency from an applied offline recommendation', () => {
    const recommendation = {
      model: 'embedder',
      sweepId: 'sweep-1',
      candidate: 'sagemaker-async-ml.g5.xlarge-x1-c16',
      kind: 'sagemaker-async',
      configuration: { instanceType: 'ml.g5.xlarge', instanceCount: 1, maxConcurrentInvocationsPerInstance: 16 },
      instances: 3,
      job: { rows: 5_000_000, deadlineSeconds: 14_400, usd: 12.5, seconds: 9_000 },
      appliedAt: '2026-12-06T12:00:00Z',
    };
    const stack = new Stack(testApp({ [recommendationContextKey('embedder')]: recommendation }), 'Applied');
    const applied = ModelRecommendation.of(stack, 'embedder').asyncProps({ instanceType: 'ml.c7i.xlarge', instances: 1 });
    expect(applied).toEqual({ instanceType: 'ml.g5.xlarge', instances: 3, maxConcurrentInvocationsPerInstance: 16 });
    asyncEndpoint(
      {
        instanceType: applied.instanceType,
        maxConcurrentInvocationsPerInstance: applied.maxConcurrentInvocationsPerInstance,
        scaleToZero: { maxCapacity: applied.instances },
      },
      stack,
    )
      .template()
      .hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MaxCapacity: 3 });
  });

  it.each<[string, Partial<SageMakerAsyncEndpointProps>, RegExp]>([
    ['a malformed instance type', { instanceType: 'g5.xlarge' }, /^instanceType must be a SageMaker instance type like ml\.g5\.xlarge/],
    ['concurrency 0', { maxConcurrentInvocationsPerInstance: 0 }, /^maxConcurrentInvocationsPerInstance must be an integer from 1 to 1000, got 0/],
    [
      'max capacity below the initial count',
      { initialInstanceCount: 3, scaleToZero: { maxCapacity: 2 } },
      /^scaleToZero\.maxCapacity \(2\) must be at least initialInstanceCount \(3\)/,
    ],
    [
      'a backlog target of 0',
      { scaleToZero: { maxCapacity: 2, targetBacklogPerInstance: 0 } },
      /^scaleToZero\.targetBacklogPerInstance must be above 0, got 0/,
    ],
  ])('throws naming the prop for %s', (_what, props, message) => {
    expect(() => asyncEndpoint(props)).toThrow(message);
  });

  it('refuses answers written where requests are read', () => {
    const stack = testStack();
    expect(
      () =>
        new SageMakerAsyncEndpoint(stack, 'Async', {
          image: ModelImage.fromAsset(builtAssets.modelServerImage),
          storage: { bucket: jobsBucket(stack), inputPrefix: 'jobs', outputPrefix: 'jobs/' },
        }),
    ).toThrow(/^storage needs three different prefixes \(inputPrefix, outputPrefix, failurePrefix\)/);
  });
});
