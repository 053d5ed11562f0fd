import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Duration, Size, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { afterAll, describe, expect, it } from 'vitest';

import { directorySize, LAMBDA_UNZIPPED_LIMIT_BYTES, LambdaModelCode, LambdaModelFunction, type LambdaModelFunctionProps } from '../../constructs';
import { policyStatements, templateOf, testStack } from '../helpers/cdk';
import { DEMO_MODEL_PATH } from '../helpers/demo-model';

function modelFunction(props: Partial<LambdaModelFunctionProps> = {}, stack: Stack = testStack()) {
  const construct = new LambdaModelFunction(stack, 'Model', { code: LambdaModelCode.fromOnnxModel(DEMO_MODEL_PATH), ...props });
  return { stack, construct, template: () => templateOf(stack) };
}

/** The local folder a layer's code asset was built from (asset staging is off in tests). */
function layerAssetPaths(stack: Stack): string[] {
  return Object.values(templateOf(stack).findResources('AWS::Lambda::LayerVersion')).map((layer: any) => layer.Metadata['aws:asset:path']);
}

describe('LambdaModelFunction with the ONNX model server', () => {
  it('runs the prebuilt server on arm64 with 2 GB, the runtime and model layers, and threads for its vCPUs', () => {
    const { template } = modelFunction();
    template().hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Architectures: ['arm64'],
      MemorySize: 2048,
      Timeout: 30,
      Layers: [{ Ref: Match.stringLikeRegexp('ModelsweepOnnxRuntimearm64') }, { Ref: Match.stringLikeRegexp('ModelModelLayer') }],
      Environment: { Variables: { MODEL_PATH: '/opt/model.onnx', MODEL_SERVER_THREADS: '2' } },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
    });
  });

  it('packages only the target architecture of onnxruntime, well under 250 MB unzipped', () => {
    for (const [architecture, arch, other] of [
      [lambda.Architecture.ARM_64, 'arm64', 'x64'],
      [lambda.Architecture.X86_64, 'x64', 'arm64'],
    ] as const) {
      const { stack, construct } = modelFunction({ architecture });
      const runtimeLayer = layerAssetPaths(stack).find((p) => p.includes('onnxruntime-layer'))!;
      const binaries = join(runtimeLayer, 'nodejs', 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
      expect(readdirSync(binaries)).toEqual(['linux']);
      expect(readdirSync(join(binaries, 'linux'))).toEqual([arch]);
      expect(readdirSync(join(binaries, 'linux'))).not.toContain(other);
      expect(construct.packagedSizeBytes).toBeLessThan(LAMBDA_UNZIPPED_LIMIT_BYTES);
      expect(construct.packagedSizeBytes).toBeGreaterThan(directorySize(runtimeLayer)); // it counts the layer and more
    }
  });

  it('ships only the model file in the model layer', () => {
    const { stack } = modelFunction();
    const modelLayer = Object.values(templateOf(stack).findResources('AWS::Lambda::LayerVersion')).find((l: any) =>
      l.Properties.Description?.startsWith('ONNX model'),
    ) as any;
    expect(modelLayer.Properties.Description).toBe('ONNX model model.onnx');
  });

  it('shares one runtime layer between model functions of the same stack and architecture', () => {
    const stack = testStack();
    modelFunction({}, stack);
    new LambdaModelFunction(stack, 'Second', { code: LambdaModelCode.fromOnnxModel(DEMO_MODEL_PATH) });
    const layers = layerAssetPaths(stack).filter((p) => p.includes('onnxruntime-layer'));
    expect(layers).toHaveLength(1);
  });

  it('sets memory, architecture, timeout, storage, concurrency and threads', () => {
    const { template } = modelFunction({
      code: LambdaModelCode.fromOnnxModel(DEMO_MODEL_PATH, { threads: 3 }),
      memorySize: Size.mebibytes(4096),
      architecture: lambda.Architecture.X86_64,
      timeout: Duration.minutes(2),
      ephemeralStorageSize: Size.gibibytes(2),
      reservedConcurrentExecutions: 10,
      functionName: 'demo-model',
      environment: { LOG_LEVEL: 'DEBUG' },
    });
    template().hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 4096,
      Architectures: ['x86_64'],
      Timeout: 120,
      EphemeralStorage: { Size: 2048 },
      ReservedConcurrentExecutions: 10,
      FunctionName: 'demo-model',
      Environment: { Variables: { LOG_LEVEL: 'DEBUG', MODEL_PATH: '/opt/model.onnx', MODEL_SERVER_THREADS: '3' } },
    });
  });

  it('keeps provisioned concurrency on an alias that invocations go through', () => {
    const { stack, construct, template } = modelFunction({ provisionedConcurrency: 2, reservedConcurrentExecutions: 5 });
    template().hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 } });
    expect(stack.resolve((construct.invocation as { functionArn: string }).functionArn)).toEqual({ Ref: expect.stringMatching(/Alias/) });
  });

  it('names the alias and describes the function as asked', () => {
    const { template } = modelFunction({ provisionedConcurrency: 1, aliasName: 'prod', description: 'resnet on Lambda' });
    template().hasResourceProperties('AWS::Lambda::Alias', { Name: 'prod' });
    template().hasResourceProperties('AWS::Lambda::Function', { Description: 'resnet on Lambda' });
  });

  it('adds a function URL with IAM auth only, on the alias when there is one', () => {
    const { stack, construct, template } = modelFunction({ functionUrl: true, provisionedConcurrency: 1 });
    template().hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', Qualifier: 'live' });
    expect(construct.invocation).toMatchObject({ kind: 'lambda', region: 'us-east-1' });
    expect(stack.resolve((construct.invocation as { functionUrl?: string }).functionUrl)).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/Url/), 'FunctionUrl'],
    });
  });

  it('grants invoke on the function, and on its URL when it has one', () => {
    const { stack, construct, template } = modelFunction({ functionUrl: true });
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    construct.grantInvoke(caller);
    const actions = JSON.stringify(policyStatements(template()).map((s) => s.Action));
    expect(actions).toContain('lambda:InvokeFunction');
    expect(actions).toContain('lambda:InvokeFunctionUrl');
  });

  it('writes logs to its own log group with a retention, through a role that can do only that', () => {
    const { template } = modelFunction({ logRetention: logs.RetentionDays.ONE_WEEK });
    template().hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    template().resourceCountIs('AWS::IAM::Role', 1);
    template().hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    const statements = policyStatements(template());
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  });

  it('reports latency, invocations and errors from Lambda', () => {
    const { construct } = modelFunction();
    expect((construct.metricLatency() as any).metricName).toBe('Duration');
    expect((construct.metricInvocations() as any).metricName).toBe('Invocations');
    expect((construct.metricErrors() as any).metricName).toBe('Errors');
  });

  it.each<[string, Partial<LambdaModelFunctionProps>, RegExp]>([
    ['memory below 128 MB', { memorySize: Size.mebibytes(100) }, /^memorySize must be a whole number of MB from 128 to 10240, got 100 MB/],
    ['memory above 10240 MB', { memorySize: Size.gibibytes(11) }, /^memorySize must be .* got 11264 MB/],
    ['a timeout over 15 minutes', { timeout: Duration.minutes(16) }, /^timeout must be a whole number of seconds from 1 to 900/],
    [
      'ephemeral storage below 512 MB',
      { ephemeralStorageSize: Size.mebibytes(256) },
      /^ephemeralStorageSize must be a whole number of MB from 512 to 10240/,
    ],
    ['negative reserved concurrency', { reservedConcurrentExecutions: -1 }, /^reservedConcurrentExecutions must be an integer of at least 0/],
    ['provisioned concurrency 0', { provisionedConcurrency: 0 }, /^provisionedConcurrency must be an integer of at least 1, got 0/],
    [
      'provisioned above reserved',
      { provisionedConcurrency: 5, reservedConcurrentExecutions: 2 },
      /^provisionedConcurrency \(5\) must not exceed reservedConcurrentExecutions \(2\)/,
    ],
    ['the model path in the environment', { environment: { MODEL_PATH: '/tmp/x.onnx' } }, /^environment\.MODEL_PATH is set by LambdaModelFunction/],
    [
      'a missing model file',
      { code: LambdaModelCode.fromOnnxModel('/nonexistent/model.onnx') },
      /^code needs an ONNX model file; \/nonexistent\/model\.onnx does not exist/,
    ],
    [
      'zero threads',
      { code: LambdaModelCode.fromOnnxModel(DEMO_MODEL_PATH, { threads: 0 }) },
      /^code\.threads must be an integer from 1 to 64, got 0/,
    ],
  ])('throws naming the prop for %s', (_what, props, message) => {
    expect(() => modelFunction(props)).toThrow(message);
  });

  describe('with a model over the limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelsweep-huge-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('throws naming code and pointing at container images', () => {
      const huge = join(dir, 'huge.onnx');
      writeFileSync(huge, '');
      truncateSync(huge, 240 * 1024 * 1024); // sparse: takes no disk
      expect(() => modelFunction({ code: LambdaModelCode.fromOnnxModel(huge) })).toThrow(
        /^code packages to \d+\.\d MB unzipped \(model 240\.0 MB\), over Lambda's 250 MB limit; serve a model this large with LambdaModelCode\.fromDockerImage/,
      );
    });
  });
});

describe('LambdaModelFunction from a container image', () => {
  it('runs the image with the configuration and no layers', () => {
    const stack = testStack();
    const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'my-model');
    const { template } = modelFunction(
      {
        code: LambdaModelCode.fromDockerImage(lambda.DockerImageCode.fromEcr(repo, { tagOrDigest: 'v2' })),
        memorySize: Size.gibibytes(3),
        environment: { MODEL_PATH: '/var/task/m.onnx' },
      },
      stack,
    );
    template().hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image',
      MemorySize: 3072,
      Architectures: ['arm64'],
      Layers: Match.absent(),
      Environment: { Variables: { MODEL_PATH: '/var/task/m.onnx' } },
      Code: { ImageUri: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['/my-model:v2'])]) }) },
    });
  });

  it('uses a given role instead of creating one', () => {
    const stack = testStack();
    const role = iam.Role.fromRoleArn(stack, 'Given', 'arn:aws:iam::123456789012:role/given');
    const { template } = modelFunction({ role }, stack);
    template().resourceCountIs('AWS::IAM::Role', 0);
    template().hasResourceProperties('AWS::Lambda::Function', { Role: 'arn:aws:iam::123456789012:role/given' });
  });
});
