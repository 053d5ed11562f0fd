import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';

import { DemoGpuStack, DemoLambdaStack, DemoServerlessStack, SweepStack, TRITON_IMAGE } from '../../bin/demo-stacks';
import { synthWithNag, testApp, violations } from '../helpers/cdk';

const ENVIRONMENTS = [
  ['region-agnostic', undefined],
  ['in eu-west-1', { account: '123456789012', region: 'eu-west-1' }],
] as const;

describe('example model stacks', () => {
  it.each(ENVIRONMENTS)('pass cdk-nag AwsSolutions with zero unacknowledged findings (%s)', (_name, env) => {
    const { error, report } = synthWithNag((app) => {
      new DemoLambdaStack(app, 'Lambda', { env });
      new DemoServerlessStack(app, 'Serverless', { env });
      new DemoGpuStack(app, 'Gpu', { env });
      new SweepStack(app, 'Sweep', { env });
    });
    expect(violations(report)).toEqual([]);
    expect(error).toBeUndefined();
  });

  it('fail cdk-nag when a wildcard permission has no acknowledgement (the check is live)', () => {
    const { error, report } = synthWithNag((app) => {
      const stack = new DemoLambdaStack(app, 'Lambda');
      stack.model.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    });
    expect(violations(report).join('\n')).toMatch(/AwsSolutions-IAM5\[Action::s3:\*\] at Lambda\/DemoModel\/Role/);
    expect(error).toBeDefined();
  });

  it('acknowledge findings only with reasons a reviewer can check', () => {
    const app = testApp();
    const stacks: Stack[] = [new DemoServerlessStack(app, 'Serverless'), new DemoGpuStack(app, 'Gpu'), new DemoLambdaStack(app, 'Lambda')];
    const reasons = stacks.flatMap((stack) =>
      stack.node
        .findAll()
        .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
        .flatMap((m) => Object.entries(m.data as Record<string, string>)),
    );
    expect(reasons.length).toBeGreaterThanOrEqual(4); // two per SageMaker model role
    for (const [id, reason] of reasons) {
      expect(id).toMatch(/^Annotation::AwsSolutions-IAM5\[Resource::/); // specific findings, never a whole rule
      expect(reason.length).toBeGreaterThan(60);
    }
  });

  it('serves the demo model on Lambda arm64 with an IAM-auth function URL', () => {
    const t = Template.fromStack(new DemoLambdaStack(testApp(), 'Lambda'));
    t.hasResourceProperties('AWS::Lambda::Function', { Architectures: ['arm64'], MemorySize: 2048, Runtime: 'nodejs24.x' });
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    t.hasOutput('FunctionUrl', {});
  });

  it('serves the demo model on a serverless endpoint from the model server image', () => {
    const t = Template.fromStack(new DemoServerlessStack(testApp(), 'Serverless'));
    t.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 } })],
    });
    t.hasOutput('EndpointName', {});
  });

  it('serves the demo model on ml.g5.xlarge with Triton, scaling on invocations and GPU', () => {
    const t = Template.fromStack(new DemoGpuStack(testApp(), 'Gpu', { env: { region: 'us-west-2' } }));
    t.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 })],
    });
    t.hasResourceProperties('AWS::SageMaker::Model', {
      EnableNetworkIsolation: true,
      PrimaryContainer: Match.objectLike({ Environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: 'demo' } }),
    });
    expect(JSON.stringify(t.findResources('AWS::SageMaker::Model'))).toContain(`763104351884.dkr.ecr.us-west-2.`);
    expect(JSON.stringify(t.findResources('AWS::SageMaker::Model'))).toContain(`/${TRITON_IMAGE.repository}:${TRITON_IMAGE.tag}`);
    t.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 2);
  });
});
