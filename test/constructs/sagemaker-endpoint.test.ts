import { join } from 'node:path';

import { Duration, Size, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';

import { ModelData, ModelImage, SageMakerEndpoint, type SageMakerEndpointProps } from '../../constructs';
import { DEMO_BUILD_DIR } from '../../examples/demo-model/generate';
import { builtAssets } from '../../lib/build/asset-paths';
import { policyStatements, templateOf, testStack, warningsOf } from '../helpers/cdk';

const MODEL_TARBALL = join(DEMO_BUILD_DIR, 'model.tar.gz');

function endpoint(props: Partial<SageMakerEndpointProps> = {}, stack: Stack = testStack()) {
  const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'my-model-server');
  const construct = new SageMakerEndpoint(stack, 'Endpoint', {
    image: ModelImage.fromEcrRepository(repo, 'v1'),
    ...props,
  });
  return { stack, construct, template: () => templateOf(stack) };
}

describe('SageMakerEndpoint defaults', () => {
  it('creates a model, an endpoint config with one ml.m5.large variant and an endpoint', () => {
    const { template } = endpoint();
    const t = template();
    t.resourceCountIs('AWS::SageMaker::Model', 1);
    t.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        Match.objectEquals({
          VariantName: 'AllTraffic',
          ModelName: { 'Fn::GetAtt': [Match.stringLikeRegexp('EndpointModel'), 'ModelName'] },
          InstanceType: 'ml.m5.large',
          InitialInstanceCount: 1,
          InitialVariantWeight: 1,
        }),
      ],
    });
    t.hasResourceProperties('AWS::SageMaker::Endpoint', {
      EndpointConfigName: { 'Fn::GetAtt': [Match.stringLikeRegexp('EndpointConfig'), 'EndpointConfigName'] },
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'sagemaker.amazonaws.com' } })] },
    });
  });

  it('describes how to invoke it and lets a grantee invoke it', () => {
    const { stack, construct, template } = endpoint();
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    construct.grantInvoke(caller);
    expect(construct.invocation).toMatchObject({ kind: 'sagemaker-realtime', region: 'us-east-1', variantNames: ['AllTraffic'] });
    expect(stack.resolve((construct.invocation as { endpointName: string }).endpointName)).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^Endpoint/), 'EndpointName'],
    });
    expect(policyStatements(template())).toContainEqual(
      expect.objectContaining({
        Action: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointWithResponseStream'],
        Resource: { Ref: expect.stringMatching(/^Endpoint/) },
      }),
    );
  });

  it('lets the model role write endpoint logs and SageMaker metrics only', () => {
    const statements = policyStatements(endpoint().template());
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'AWS/SageMaker'] } },
      }),
    );
    const logs = statements.find((s) => JSON.stringify(s.Action).includes('logs:PutLogEvents'));
    expect(JSON.stringify(logs?.Resource)).toContain('log-group:/aws/sagemaker/Endpoints/*');
  });
});

describe('SageMakerEndpoint image', () => {
  it('pulls from an ECR repository by tag, with pull rights on that repository', () => {
    const { stack, template } = endpoint();
    const image = stack.resolve(template().findResources('AWS::SageMaker::Model'));
    expect(JSON.stringify(image)).toContain('/my-model-server:v1');
    expect(policyStatements(template())).toContainEqual(
      expect.objectContaining({ Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'] }),
    );
  });

  it('builds a local Docker directory as an image asset', () => {
    const stack = testStack();
    new SageMakerEndpoint(stack, 'Endpoint', { image: ModelImage.fromAsset(builtAssets.modelServerImage) });
    templateOf(stack).hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { Image: { 'Fn::Sub': Match.stringLikeRegexp('cdk-hnb659fds-container-assets-.*:[0-9a-f]{64}$') } },
    });
  });

  it('resolves a Deep Learning Container for the stack region', () => {
    const stack = testStack({ env: { account: '123456789012', region: 'eu-south-1' } });
    new SageMakerEndpoint(stack, 'Endpoint', { image: ModelImage.fromDeepLearningContainer('sagemaker-tritonserver', '24.09-py3') });
    const model = Object.values(templateOf(stack).findResources('AWS::SageMaker::Model'))[0] as any;
    expect(JSON.stringify(model.Properties.PrimaryContainer.Image)).toContain('692866216735.dkr.ecr.eu-south-1.');
    expect(JSON.stringify(model.Properties.PrimaryContainer.Image)).toContain('/sagemaker-tritonserver:24.09-py3');
    expect(JSON.stringify(policyStatements(templateOf(stack)))).toContain(':ecr:eu-south-1:692866216735:repository/sagemaker-tritonserver');
  });

  it('resolves a Deep Learning Container at deploy time in a region-agnostic stack', () => {
    const stack = testStack({});
    new SageMakerEndpoint(stack, 'Endpoint', { image: ModelImage.fromDeepLearningContainer('pytorch-inference', '2.3.0-gpu-py311') });
    const t = templateOf(stack);
    expect(t.toJSON().Mappings.ModelsweepDlcRegistries['us-east-1']).toEqual({ account: '763104351884' });
    expect(t.toJSON().Mappings.ModelsweepDlcRegistries['af-south-1']).toEqual({ account: '626614931356' });
    const model = Object.values(t.findResources('AWS::SageMaker::Model'))[0] as any;
    expect(JSON.stringify(model.Properties.PrimaryContainer.Image)).toContain(
      '{"Fn::FindInMap":["ModelsweepDlcRegistries",{"Ref":"AWS::Region"},"account"]}',
    );
  });

  it('throws naming the image and region when no Deep Learning Container registry is known there', () => {
    const stack = testStack({ env: { region: 'xx-nowhere-1' } });
    expect(() => new SageMakerEndpoint(stack, 'Endpoint', { image: ModelImage.fromDeepLearningContainer('pytorch-inference', '2.3') })).toThrow(
      /image: no AWS Deep Learning Container registry is known for region xx-nowhere-1/,
    );
  });

  it.each([
    ['Bad/Repo', 'v1', /repositoryName must be an ECR repository name/],
    ['pytorch-inference', 'has space', /tag must be an image tag/],
  ])('rejects a malformed Deep Learning Container %s:%s', (repo, tag, message) => {
    expect(() => ModelImage.fromDeepLearningContainer(repo, tag)).toThrow(message);
  });
});

describe('SageMakerEndpoint model data', () => {
  it('reads a .tar.gz from S3 with GetObject on that object only', () => {
    const stack = testStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Bucket', 'models');
    const { template } = endpoint({ modelData: ModelData.fromS3Object(bucket, 'demo/model.tar.gz') }, stack);
    template().hasResourceProperties('AWS::SageMaker::Model', { PrimaryContainer: { ModelDataUrl: 's3://models/demo/model.tar.gz' } });
    expect(policyStatements(template())).toContainEqual(
      expect.objectContaining({
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::models/demo/model.tar.gz']] },
      }),
    );
  });

  it('reads an uncompressed S3 prefix as a model data source', () => {
    const stack = testStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Bucket', 'models');
    const { template } = endpoint({ modelData: ModelData.fromS3Prefix(bucket, 'demo/v1/') }, stack);
    template().hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { ModelDataSource: { S3DataSource: { S3Uri: 's3://models/demo/v1/', S3DataType: 'S3Prefix', CompressionType: 'None' } } },
    });
    expect(policyStatements(template())).toContainEqual(
      expect.objectContaining({ Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': ['demo/v1/*'] } } }),
    );
  });

  it('uploads a local .tar.gz as an asset', () => {
    const { template } = endpoint({ modelData: ModelData.fromAsset(MODEL_TARBALL) });
    template().hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { ModelDataUrl: Match.stringLikeRegexp('^s3://cdk-hnb659fds-assets-123456789012-us-east-1/[0-9a-f]{64}\\.gz$') },
    });
  });

  it.each([
    [
      'an S3 key that is not .tar.gz',
      () => ModelData.fromS3Object(s3.Bucket.fromBucketName(new Stack(), 'B', 'bucket-b'), 'model.onnx'),
      /key must end in \.tar\.gz/,
    ],
    [
      'an S3 prefix without a trailing slash',
      () => ModelData.fromS3Prefix(s3.Bucket.fromBucketName(new Stack(), 'B', 'bucket-b'), 'models'),
      /prefix must end in "\/"/,
    ],
    ['a missing asset', () => ModelData.fromAsset('/nonexistent/model.tar.gz'), /modelData asset \/nonexistent\/model.tar.gz does not exist/],
    ['a directory asset', () => ModelData.fromAsset(DEMO_BUILD_DIR), /must be a \.tar\.gz file/],
  ])('rejects %s', (_what, make, message) => {
    expect(make).toThrow(message);
  });
});

describe('SageMakerEndpoint production variants', () => {
  it('splits traffic across variants on different instance types', () => {
    const { construct, template } = endpoint({
      variants: [
        { variantName: 'Current', instanceType: 'ml.c6i.xlarge', initialInstanceCount: 2, initialWeight: 9 },
        { variantName: 'Canary', instanceType: 'ml.g5.xlarge', initialWeight: 1 },
      ],
    });
    template().hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        Match.objectLike({ VariantName: 'Current', InstanceType: 'ml.c6i.xlarge', InitialInstanceCount: 2, InitialVariantWeight: 9 }),
        Match.objectLike({ VariantName: 'Canary', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1, InitialVariantWeight: 1 }),
      ],
    });
    expect(construct.variantNames).toEqual(['Current', 'Canary']);
  });

  it('names unnamed variants AllTraffic, Variant2, ...', () => {
    const { construct } = endpoint({ variants: [{}, {}, {}] });
    expect(construct.variantNames).toEqual(['AllTraffic', 'Variant2', 'Variant3']);
  });

  it('sets volume size and timeouts per variant', () => {
    const { template } = endpoint({
      variants: [
        {
          instanceType: 'ml.c5.xlarge',
          volumeSize: Size.gibibytes(64),
          modelDownloadTimeout: Duration.minutes(20),
          containerStartupHealthCheckTimeout: Duration.minutes(10),
        },
      ],
    });
    template().hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        Match.objectLike({ VolumeSizeInGB: 64, ModelDataDownloadTimeoutInSeconds: 1200, ContainerStartupHealthCheckTimeoutInSeconds: 600 }),
      ],
    });
  });

  it.each<[string, Partial<SageMakerEndpointProps>, RegExp]>([
    ['no variants', { variants: [] }, /^variants must list 1 to 10 production variants, got 0/],
    ['eleven variants', { variants: Array.from({ length: 11 }, () => ({})) }, /^variants must list 1 to 10/],
    [
      'a duplicate variant name',
      { variants: [{ variantName: 'A' }, { variantName: 'A' }] },
      /^variants\[1\]\.variantName "A" is used by an earlier variant/,
    ],
    ['a bad variant name', { variants: [{ variantName: 'has space' }] }, /^variants\[0\]\.variantName must be 1-63 letters/],
    [
      'a malformed instance type',
      { variants: [{ instanceType: 'g5.xlarge' }] },
      /^variants\[0\]\.instanceType must be a SageMaker instance type like ml\.g5\.xlarge/,
    ],
    ['another malformed instance type', { variants: [{ instanceType: 'ml.g5' }] }, /^variants\[0\]\.instanceType must be/],
    ['zero instances', { variants: [{ initialInstanceCount: 0 }] }, /^variants\[0\]\.initialInstanceCount must be an integer of at least 1, got 0/],
    ['a fractional instance count', { variants: [{ initialInstanceCount: 1.5 }] }, /^variants\[0\]\.initialInstanceCount must be an integer/],
    ['a negative weight', { variants: [{ initialWeight: -1 }] }, /^variants\[0\]\.initialWeight must be from 0/],
    [
      'all weights zero',
      { variants: [{ initialWeight: 0 }, { initialWeight: 0 }] },
      /^variants need at least one variant with an initialWeight above 0/,
    ],
    [
      'a volume over 512 GB',
      { variants: [{ instanceType: 'ml.c5.xlarge', volumeSize: Size.gibibytes(600) }] },
      /^variants\[0\]\.volumeSize must be a whole number of GB from 1 to 512, got 600 GB/,
    ],
    ['a fractional volume', { variants: [{ volumeSize: Size.mebibytes(1500) }] }, /^variants\[0\]\.volumeSize must be a whole number of GB/],
    [
      'a volume on an NVMe instance',
      { variants: [{ instanceType: 'ml.g5.xlarge', volumeSize: Size.gibibytes(100) }] },
      /^variants\[0\]\.volumeSize cannot be set for ml\.g5\.xlarge: it has 250 GB of NVMe/,
    ],
    [
      'a download timeout under 60 s',
      { variants: [{ modelDownloadTimeout: Duration.seconds(30) }] },
      /^variants\[0\]\.modelDownloadTimeout must be a whole number of seconds from 60 to 3600, got 30 seconds/,
    ],
    [
      'a startup timeout over an hour',
      { variants: [{ containerStartupHealthCheckTimeout: Duration.hours(2) }] },
      /^variants\[0\]\.containerStartupHealthCheckTimeout must be a whole number of seconds from 60 to 3600/,
    ],
  ])('throws naming the prop for %s', (_what, props, message) => {
    expect(() => endpoint(props)).toThrow(message);
  });

  it('warns about an instance type missing from the catalog but uses it', () => {
    const { stack, template } = endpoint({ variants: [{ instanceType: 'ml.g99.xlarge' }] });
    template().hasResourceProperties('AWS::SageMaker::EndpointConfig', { ProductionVariants: [Match.objectLike({ InstanceType: 'ml.g99.xlarge' })] });
    expect(warningsOf(stack).join('\n')).toMatch(/variants\[0\]\.instanceType ml\.g99\.xlarge is not in modelsweep's instance catalog/);
  });

  it('warns about a burstable instance type and not about a known steady one', () => {
    expect(warningsOf(endpoint({ variants: [{ instanceType: 'ml.t2.medium' }] }).stack).join('\n')).toMatch(/ml\.t2\.medium is burstable/);
    expect(warningsOf(endpoint({ variants: [{ instanceType: 'ml.inf2.xlarge' }] }).stack)).toEqual([]);
  });
});

describe('SageMakerEndpoint autoscaling', () => {
  it('tracks invocations per instance on each variant', () => {
    const { template } = endpoint({
      variants: [{ variantName: 'Main', initialInstanceCount: 2, autoScaling: { maxCapacity: 6, targetInvocationsPerInstance: 500 } }],
    });
    const t = template();
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'sagemaker',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 2,
      MaxCapacity: 6,
      ResourceId: { 'Fn::Join': ['', ['endpoint/', { 'Fn::GetAtt': [Match.anyValue(), 'EndpointName'] }, '/variant/Main']] },
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 500,
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        ScaleInCooldown: 300,
        ScaleOutCooldown: 60,
      },
    });
    t.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 1);
  });

  it('also tracks GPU utilization, scaled by the instance GPU count', () => {
    const { template } = endpoint({
      variants: [
        {
          instanceType: 'ml.g5.12xlarge',
          autoScaling: {
            minCapacity: 1,
            maxCapacity: 3,
            targetInvocationsPerInstance: 100,
            targetGpuUtilizationPercent: 70,
            scaleInCooldown: Duration.minutes(10),
          },
        },
      ],
    });
    template().hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 280,
        ScaleInCooldown: 600,
        CustomizedMetricSpecification: Match.objectLike({
          Namespace: '/aws/sagemaker/Endpoints',
          MetricName: 'GPUUtilization',
          Statistic: 'Average',
        }),
      },
    });
  });

  it.each<[string, Partial<SageMakerEndpointProps>, RegExp]>([
    [
      'GPU tracking on a CPU instance',
      {
        variants: [
          { instanceType: 'ml.c5.xlarge', autoScaling: { maxCapacity: 2, targetInvocationsPerInstance: 1, targetGpuUtilizationPercent: 50 } },
        ],
      },
      /^variants\[0\]\.autoScaling\.targetGpuUtilizationPercent needs an instance type with NVIDIA GPUs; ml\.c5\.xlarge has none/,
    ],
    [
      'GPU tracking on Inferentia',
      {
        variants: [
          { instanceType: 'ml.inf2.xlarge', autoScaling: { maxCapacity: 2, targetInvocationsPerInstance: 1, targetGpuUtilizationPercent: 50 } },
        ],
      },
      /has AWS Inferentia2/,
    ],
    [
      'a GPU target over 100',
      {
        variants: [
          { instanceType: 'ml.g5.xlarge', autoScaling: { maxCapacity: 2, targetInvocationsPerInstance: 1, targetGpuUtilizationPercent: 150 } },
        ],
      },
      /^variants\[0\]\.autoScaling\.targetGpuUtilizationPercent must be from 1 to 100/,
    ],
    [
      'max below min',
      { variants: [{ autoScaling: { minCapacity: 3, maxCapacity: 2, targetInvocationsPerInstance: 1 } }] },
      /^variants\[0\]\.autoScaling\.maxCapacity \(2\) must be at least minCapacity \(3\)/,
    ],
    [
      'a zero invocation target',
      { variants: [{ autoScaling: { maxCapacity: 2, targetInvocationsPerInstance: 0 } }] },
      /^variants\[0\]\.autoScaling\.targetInvocationsPerInstance must be from/,
    ],
  ])('throws naming the prop for %s', (_what, props, message) => {
    expect(() => endpoint(props)).toThrow(message);
  });
});

describe('SageMakerEndpoint security and capture', () => {
  it('captures sampled requests and responses to S3, with write access for the role', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Capture');
    const { template } = endpoint({ dataCapture: { destination: bucket, prefix: 'capture/demo', samplingPercentage: 25 } }, stack);
    template().hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 25,
        DestinationS3Uri: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('Capture') }, '/capture/demo']] },
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
      },
    });
    expect(JSON.stringify(policyStatements(template()))).toMatch(/s3:PutObject.*capture\/demo\/\*/);
  });

  it('captures only outputs, encrypted with a key the role may use', () => {
    const stack = testStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'capture-bucket');
    const key = new kms.Key(stack, 'CaptureKey');
    const { template } = endpoint({ dataCapture: { destination: bucket, captureInput: false, encryptionKey: key } }, stack);
    template().hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      DataCaptureConfig: Match.objectLike({
        InitialSamplingPercentage: 100,
        CaptureOptions: [{ CaptureMode: 'Output' }],
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('CaptureKey'), 'Arn'] },
        DestinationS3Uri: 's3://capture-bucket/data-capture',
      }),
    });
    expect(JSON.stringify(policyStatements(template()))).toMatch(/kms:Encrypt/);
  });

  it.each<[string, (b: s3.IBucket) => Partial<SageMakerEndpointProps>, RegExp]>([
    [
      'a sampling percentage over 100',
      (b) => ({ dataCapture: { destination: b, samplingPercentage: 101 } }),
      /^dataCapture\.samplingPercentage must be an integer from 0 to 100, got 101/,
    ],
    ['capturing nothing', (b) => ({ dataCapture: { destination: b, captureInput: false, captureOutput: false } }), /^dataCapture captures nothing/],
  ])('throws naming the prop for %s', (_what, props, message) => {
    const stack = testStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'capture');
    expect(() => endpoint(props(bucket), stack)).toThrow(message);
  });

  it('encrypts volumes with a KMS key', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    endpoint({ kmsKey: key, variants: [{ instanceType: 'ml.c6i.large' }] }, stack)
      .template()
      .hasResourceProperties('AWS::SageMaker::EndpointConfig', { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('Key'), 'Arn'] } });
  });

  it('refuses a KMS key with an NVMe instance type, which SageMaker would reject', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    expect(() => endpoint({ kmsKey: key, variants: [{ instanceType: 'ml.g5.xlarge' }] }, stack)).toThrow(
      /^kmsKey cannot be used with ml\.g5\.xlarge/,
    );
  });

  it('runs the containers in a VPC with a security group and network-interface rights', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const { template } = endpoint({ vpc }, stack);
    template().hasResourceProperties('AWS::SageMaker::Model', {
      VpcConfig: {
        Subnets: Match.arrayWith([{ Ref: Match.stringLikeRegexp('VpcPrivateSubnet1') }]),
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('SecurityGroup'), 'GroupId'] }],
      },
    });
    expect(JSON.stringify(policyStatements(template()))).toContain('ec2:CreateNetworkInterface');
  });

  it('places the containers in the subnets and security groups it is given', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'SG', 'sg-0123456789abcdef0');
    const { template } = endpoint({ vpc, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC }, securityGroups: [sg] }, stack);
    template().hasResourceProperties('AWS::SageMaker::Model', {
      VpcConfig: { Subnets: Match.arrayWith([{ Ref: Match.stringLikeRegexp('VpcPublicSubnet1') }]), SecurityGroupIds: ['sg-0123456789abcdef0'] },
    });
    template().resourceCountIs('AWS::EC2::SecurityGroup', 0);
  });

  it('throws when security groups are given without a VPC', () => {
    const stack = testStack();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'SG', 'sg-123');
    expect(() => endpoint({ securityGroups: [sg] }, stack)).toThrow(/^securityGroups needs vpc to be set/);
  });

  it('isolates the container from the network and passes environment variables', () => {
    endpoint({ networkIsolation: true, environment: { MODEL_SERVER_THREADS: '4' } })
      .template()
      .hasResourceProperties('AWS::SageMaker::Model', {
        EnableNetworkIsolation: true,
        PrimaryContainer: Match.objectLike({ Environment: { MODEL_SERVER_THREADS: '4' } }),
      });
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['a bad variable name', { '1BAD': 'x' }, /^environment\.1BAD is not a valid variable name/],
    [
      'over 100 variables',
      Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`V${i}`, 'x'])),
      /^environment may hold at most 100 variables, got 101/,
    ],
  ])('throws naming the prop for %s', (_what, environment, message) => {
    expect(() => endpoint({ environment })).toThrow(message);
  });

  it('uses a given role instead of creating one, and a given endpoint name', () => {
    const stack = testStack();
    const role = iam.Role.fromRoleArn(stack, 'Given', 'arn:aws:iam::123456789012:role/given');
    const { template } = endpoint({ role, endpointName: 'demo-endpoint' }, stack);
    template().resourceCountIs('AWS::IAM::Role', 0);
    template().hasResourceProperties('AWS::SageMaker::Model', { ExecutionRoleArn: 'arn:aws:iam::123456789012:role/given' });
    template().hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: 'demo-endpoint' });
  });
});

describe('SageMakerEndpoint metrics', () => {
  it('reports latency in milliseconds for one variant', () => {
    const { stack, construct } = endpoint();
    const latency = construct.metricLatency() as any;
    expect(latency.expression).toBe('m0 / 1000');
    expect(latency.usingMetrics.m0.metricName).toBe('ModelLatency');
    expect(stack.resolve(latency.usingMetrics.m0.dimensions.VariantName)).toBe('AllTraffic');
    expect((construct.metricInvocations() as any).metricName).toBe('Invocations');
  });

  it('combines variants: slowest latency, summed invocations and errors', () => {
    const { construct } = endpoint({ variants: [{}, {}] });
    expect((construct.metricLatency() as any).expression).toBe('MAX([m0, m1]) / 1000');
    expect((construct.metricInvocations() as any).expression).toBe('SUM([m0, m1])');
    const errors = construct.metricErrors() as any;
    expect(errors.expression).toBe('SUM([e4x0, e5x0, e4x1, e5x1])');
    expect(errors.usingMetrics.e5x1.metricName).toBe('Invocation5XXErrors');
    expect(construct.metricForVariant('OverheadLatency', 'Variant2').metricName).toBe('OverheadLatency');
    expect(() => construct.metricForVariant('CPUUtilization', 'Nope')).toThrow(/variantName "Nope" is not a variant/);
  });
});

describe('SageMakerEndpoint generative serving (LMI, TGI, vLLM)', () => {
  const region = { env: { account: '123456789012', region: 'us-west-2' } };
  const modelOf = (stack: Stack) => (Object.values(templateOf(stack).findResources('AWS::SageMaker::Model'))[0] as any).Properties.PrimaryContainer;

  it.each([
    [
      'LMI',
      ModelImage.largeModelInference('0.33.0-lmi15.0.0-cu128'),
      'djl-inference:0.33.0-lmi15.0.0-cu128',
      {
        HF_MODEL_ID: 'Qwen/Qwen2.5-7B-Instruct',
        OPTION_TENSOR_PARALLEL_DEGREE: '4',
        OPTION_MAX_MODEL_LEN: '8192',
        OPTION_MAX_ROLLING_BATCH_SIZE: '64',
      },
    ],
    [
      'TGI',
      ModelImage.textGenerationInference('2.6.0-tgi3.2.3-gpu-py311-cu124-ubuntu22.04'),
      'huggingface-pytorch-tgi-inference:2.6.0-tgi3.2.3-gpu-py311-cu124-ubuntu22.04',
      {
        HF_MODEL_ID: 'Qwen/Qwen2.5-7B-Instruct',
        SM_NUM_GPUS: '4',
        MAX_TOTAL_TOKENS: '8192',
        MAX_CONCURRENT_REQUESTS: '64',
      },
    ],
    [
      'vLLM',
      ModelImage.vllm('0.11.2-gpu-py312'),
      'vllm:0.11.2-gpu-py312',
      {
        SM_VLLM_MODEL: 'Qwen/Qwen2.5-7B-Instruct',
        SM_VLLM_TENSOR_PARALLEL_SIZE: '4',
        SM_VLLM_MAX_MODEL_LEN: '8192',
        SM_VLLM_MAX_NUM_SEQS: '64',
      },
    ],
  ])(
    '%s: the region’s container, the server’s own settings, and startup timeouts for a large model',
    (_name, image, repositoryAndTag, environment) => {
      const stack = testStack(region);
      new SageMakerEndpoint(stack, 'Endpoint', {
        image,
        variants: [{ instanceType: 'ml.g5.12xlarge' }],
        generative: { modelId: 'Qwen/Qwen2.5-7B-Instruct', tensorParallelDegree: 4, maxModelLength: 8192, maxConcurrentSequences: 64 },
        environment: { HF_TOKEN: 'from-secrets' },
      });
      const container = modelOf(stack);
      expect(container.Image['Fn::Join'][1].join('')).toContain(`763104351884.dkr.ecr.us-west-2.`);
      expect(container.Image['Fn::Join'][1].join('')).toContain(`/${repositoryAndTag}`);
      expect(container.Environment).toEqual({ HF_TOKEN: 'from-secrets', ...environment });
      templateOf(stack).hasResourceProperties('AWS::SageMaker::EndpointConfig', {
        ProductionVariants: [Match.objectLike({ ModelDataDownloadTimeoutInSeconds: 1800, ContainerStartupHealthCheckTimeoutInSeconds: 1800 })],
      });
    },
  );

  it('shards across every GPU of the instance type by default, and keeps startup timeouts a variant sets', () => {
    const stack = testStack(region);
    new SageMakerEndpoint(stack, 'Endpoint', {
      image: ModelImage.vllm('0.11.2-gpu-py312'),
      variants: [{ instanceType: 'ml.g5.48xlarge', containerStartupHealthCheckTimeout: Duration.minutes(50) }],
      generative: { modelId: 'meta-llama/Llama-3.1-70B-Instruct' },
    });
    expect(modelOf(stack).Environment).toEqual({ SM_VLLM_MODEL: 'meta-llama/Llama-3.1-70B-Instruct', SM_VLLM_TENSOR_PARALLEL_SIZE: '8' });
    templateOf(stack).hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ ModelDataDownloadTimeoutInSeconds: 1800, ContainerStartupHealthCheckTimeoutInSeconds: 3000 })],
    });
  });

  it.each<[string, Partial<SageMakerEndpointProps>, RegExp]>([
    [
      'an image that is no generative server',
      { image: ModelImage.fromDeepLearningContainer('pytorch-inference', '2.3.0-gpu-py311') },
      /^generative needs a generative server image/,
    ],
    [
      'an instance type without a GPU',
      { variants: [{ instanceType: 'ml.c6i.2xlarge' }] },
      /^variants\[0\]\.instanceType ml\.c6i\.2xlarge has no NVIDIA GPU; the TGI container \(generative\) needs one/,
    ],
    [
      'more GPUs than the instance has',
      { generative: { modelId: 'm', tensorParallelDegree: 8 } },
      /^generative\.tensorParallelDegree 8 is more than the 4 GPUs of ml\.g5\.12xlarge \(variants\[0\]\.instanceType\)/,
    ],
    [
      'a fractional tensor parallel degree',
      { generative: { modelId: 'm', tensorParallelDegree: 1.5 } },
      /^generative\.tensorParallelDegree must be an integer from 1 to 64, got 1\.5/,
    ],
    ['a zero max model length', { generative: { modelId: 'm', maxModelLength: 0 } }, /^generative\.maxModelLength must be an integer/],
    ['an empty model id', { generative: { modelId: ' ' } }, /^generative\.modelId must name the model/],
    [
      'a variable generative sets',
      { environment: { SM_NUM_GPUS: '2' } },
      /^environment\.SM_NUM_GPUS is set by generative for the TGI container; set it in one place/,
    ],
  ])('refuses %s, naming the prop', (_name, props, message) => {
    const stack = testStack(region);
    expect(
      () =>
        new SageMakerEndpoint(stack, 'Endpoint', {
          image: ModelImage.textGenerationInference('2.6.0-tgi3.2.3-gpu-py311-cu124-ubuntu22.04'),
          variants: [{ instanceType: 'ml.g5.12xlarge' }],
          generative: { modelId: 'Qwen/Qwen2.5-7B-Instruct' },
          ...props,
        }),
    ).toThrow(message);
  });

  it('rejects a malformed tag for a generative container', () => {
    expect(() => ModelImage.vllm('no spaces please')).toThrow(/tag must be an image tag/);
  });
});
