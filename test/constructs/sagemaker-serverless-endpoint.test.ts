import { join } from 'node:path';

import { Size } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';

import { ModelData, ModelImage, SageMakerServerlessEndpoint, type SageMakerServerlessEndpointProps } from '../../constructs';
import { DEMO_BUILD_DIR } from '../../examples/demo-model/generate';
import { builtAssets } from '../../lib/build/asset-paths';
import { policyStatements, templateOf, testStack } from '../helpers/cdk';

function serverless(props: Partial<SageMakerServerlessEndpointProps> = {}) {
  const stack = testStack();
  const construct = new SageMakerServerlessEndpoint(stack, 'Serverless', {
    image: ModelImage.fromAsset(builtAssets.modelServerImage),
    modelData: ModelData.fromAsset(join(DEMO_BUILD_DIR, 'model.tar.gz')),
    ...props,
  });
  return { stack, construct, template: () => templateOf(stack) };
}

describe('SageMakerServerlessEndpoint', () => {
  it('defaults to 2048 MB and a max concurrency of 20, with no provisioned concurrency', () => {
    serverless()
      .template()
      .hasResourceProperties('AWS::SageMaker::EndpointConfig', {
        ProductionVariants: [
          Match.objectEquals({
            VariantName: 'AllTraffic',
            ModelName: Match.anyValue(),
            ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 20 },
          }),
        ],
      });
  });

  it('sets memory, max concurrency and provisioned concurrency', () => {
    const { construct, template } = serverless({
      memorySize: Size.gibibytes(6),
      maxConcurrency: 50,
      provisionedConcurrency: 5,
      endpointName: 'demo-serverless',
    });
    template().hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ ServerlessConfig: { MemorySizeInMB: 6144, MaxConcurrency: 50, ProvisionedConcurrency: 5 } })],
    });
    template().hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: 'demo-serverless' });
    expect(construct.memorySizeMb).toBe(6144);
  });

  it('serves the model server image with the model data, pullable and readable by its role', () => {
    const t = serverless().template();
    t.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { Image: { 'Fn::Sub': Match.stringLikeRegexp('container-assets') }, ModelDataUrl: Match.stringLikeRegexp('^s3://') },
    });
    const actions = JSON.stringify(policyStatements(t).map((s) => s.Action));
    expect(actions).toContain('ecr:BatchGetImage');
    expect(actions).toContain('s3:GetObject');
  });

  it('passes environment variables and uses a given role', () => {
    const stack = testStack();
    const role = iam.Role.fromRoleArn(stack, 'Given', 'arn:aws:iam::123456789012:role/given');
    new SageMakerServerlessEndpoint(stack, 'Serverless', {
      image: ModelImage.fromAsset(builtAssets.modelServerImage),
      environment: { MODEL_SERVER_THREADS: '2' },
      role,
    });
    const t = templateOf(stack);
    t.resourceCountIs('AWS::IAM::Role', 0);
    t.hasResourceProperties('AWS::SageMaker::Model', {
      ExecutionRoleArn: 'arn:aws:iam::123456789012:role/given',
      PrimaryContainer: Match.objectLike({ Environment: { MODEL_SERVER_THREADS: '2' } }),
    });
  });

  it('describes how to invoke it, grants invoke and reports metrics', () => {
    const { stack, construct, template } = serverless();
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    construct.grantInvoke(caller);
    expect(construct.invocation).toMatchObject({ kind: 'sagemaker-serverless', region: 'us-east-1' });
    expect(policyStatements(template())).toContainEqual(
      expect.objectContaining({ Action: 'sagemaker:InvokeEndpoint', Resource: { Ref: expect.stringMatching(/^Serverless/) } }),
    );
    expect((construct.metricLatency() as any).expression).toBe('m0 / 1000');
    expect((construct.metricErrors() as any).expression).toBe('SUM([e4x0, e5x0])');
    expect(construct.metricModelSetupTime().metricName).toBe('ModelSetupTime');
  });

  it.each<[string, Partial<SageMakerServerlessEndpointProps>, RegExp]>([
    [
      'memory not a multiple of 1024 MB',
      { memorySize: Size.mebibytes(3000) },
      /^memorySize must be a whole number of MB from 1024 to 6144 in steps of 1024 MB, got 3000 MB/,
    ],
    ['memory below 1024 MB', { memorySize: Size.mebibytes(512) }, /^memorySize must be .* got 512 MB/],
    ['memory above 6144 MB', { memorySize: Size.gibibytes(7) }, /^memorySize must be .* got 7168 MB/],
    ['max concurrency 0', { maxConcurrency: 0 }, /^maxConcurrency must be an integer from 1 to 200, got 0/],
    ['max concurrency 201', { maxConcurrency: 201 }, /^maxConcurrency must be an integer from 1 to 200, got 201/],
    ['provisioned concurrency 0', { provisionedConcurrency: 0 }, /^provisionedConcurrency must be an integer from 1 to 200, got 0/],
    ['provisioned above max', { maxConcurrency: 5, provisionedConcurrency: 6 }, /^provisionedConcurrency \(6\) must not exceed maxConcurrency \(5\)/],
  ])('throws naming the prop for %s', (_what, props, message) => {
    expect(() => serverless(props)).toThrow(message);
  });
});
