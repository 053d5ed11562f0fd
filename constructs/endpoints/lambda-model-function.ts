import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { Duration, IgnoreMode, Size, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

import { builtAssets, type ModelServerArchitecture, requireBuiltAsset } from '../../lib/build/asset-paths';
import type { ModelEndpointInvocation } from '../../lib/targets/endpoint-invocation';
import type { IModelEndpoint } from './model-endpoint';
import { checkInteger, checkSeconds, checkSize, InvalidPropError } from './validation';

/** Lambda's limit on a function's code plus its layers, unzipped. */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

/** The Node.js runtime the model server runs on. */
export const MODEL_SERVER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Memory Lambda gives one full vCPU (its documented ratio). */
const MB_PER_VCPU = 1769;

export interface OnnxModelOptions {
  /**
   * onnxruntime's intra-op threads.
   * @default - one per vCPU that the memory size buys (memory / 1769 MB, rounded up, 1 to 6)
   */
  readonly threads?: number;
}

/** What the function runs: modelsweep's ONNX model server with a model file, or your own image. */
export abstract class LambdaModelCode {
  /** modelsweep's model server (prebuilt) serving a local `.onnx` file, shipped as a layer. */
  static fromOnnxModel(modelPath: string, options: OnnxModelOptions = {}): LambdaModelCode {
    return new OnnxModelCode(modelPath, options);
  }

  /** A container image that serves the model itself (up to 10 GB). */
  static fromDockerImage(code: lambda.DockerImageCode): LambdaModelCode {
    return new DockerModelCode(code);
  }
}

class OnnxModelCode extends LambdaModelCode {
  constructor(
    readonly modelPath: string,
    readonly options: OnnxModelOptions,
  ) {
    super();
  }
}

class DockerModelCode extends LambdaModelCode {
  constructor(readonly code: lambda.DockerImageCode) {
    super();
  }
}

export interface LambdaModelFunctionProps {
  /** The model and the code that serves it. */
  readonly code: LambdaModelCode;
  /**
   * Memory (128-10240 MB); CPU grows with it, one vCPU per 1769 MB.
   * @default Size.mebibytes(2048)
   */
  readonly memorySize?: Size;
  /**
   * The CPU architecture; with LambdaModelCode.fromDockerImage the image must be built for it.
   * @default lambda.Architecture.ARM_64 (cheaper per GB-second)
   */
  readonly architecture?: lambda.Architecture;
  /**
   * Longest an invocation may run (1 s to 15 min).
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Size of /tmp (512-10240 MB).
   * @default Size.mebibytes(512)
   */
  readonly ephemeralStorageSize?: Size;
  /**
   * Concurrent executions reserved for (and capped at for) this function.
   * @default - unreserved: shares the account's pool
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Execution environments kept initialized, on an alias that invocations then go through.
   * @default - none: cold starts happen on demand
   */
  readonly provisionedConcurrency?: number;
  /**
   * The alias invocations go through when provisionedConcurrency is set.
   * @default 'live'
   */
  readonly aliasName?: string;
  /**
   * Adds a function URL. Its auth type is always AWS_IAM: a model endpoint open to anyone who
   * finds the URL would bill its owner for every stranger's call.
   * @default false
   */
  readonly functionUrl?: boolean;
  /** @default - none */
  readonly environment?: Record<string, string>;
  /** @default - a role that may write the function's logs and nothing else */
  readonly role?: iam.IRole;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default - a name CloudFormation generates */
  readonly functionName?: string;
  /** @default - a description naming the model */
  readonly description?: string;
}

/** Variables the ONNX model server reads, which the construct sets. */
const RESERVED_ENV = ['MODEL_PATH', 'MODEL_SERVER_THREADS', 'MAX_BODY_BYTES'];

/** A model served by a Lambda function, with modelsweep's ONNX model server or a container image. */
export class LambdaModelFunction extends Construct implements IModelEndpoint {
  readonly invocation: ModelEndpointInvocation;
  readonly function: lambda.Function;
  /** The alias invocations go through, when provisioned concurrency is set. */
  readonly alias?: lambda.Alias;
  readonly functionUrl?: lambda.FunctionUrl;
  readonly architecture: lambda.Architecture;
  readonly memorySizeMb: number;
  /** The unzipped size of the code and layers of an ONNX model function, in bytes. */
  readonly packagedSizeBytes?: number;
  private readonly target: lambda.IFunction;

  constructor(scope: Construct, id: string, props: LambdaModelFunctionProps) {
    super(scope, id);
    this.memorySizeMb = checkSize(this, 'memorySize', props.memorySize ?? Size.mebibytes(2048), 'MB', 128, 10240)!;
    checkSeconds(this, 'timeout', props.timeout, 1, 900);
    checkSize(this, 'ephemeralStorageSize', props.ephemeralStorageSize, 'MB', 512, 10240);
    checkInteger(this, 'reservedConcurrentExecutions', props.reservedConcurrentExecutions, 0, Infinity);
    checkInteger(this, 'provisionedConcurrency', props.provisionedConcurrency, 1, Infinity);
    const { reservedConcurrentExecutions: reserved, provisionedConcurrency: provisioned } = props;
    if (reserved !== undefined && provisioned !== undefined && provisioned > reserved) {
      throw new InvalidPropError(this, 'provisionedConcurrency', `(${provisioned}) must not exceed reservedConcurrentExecutions (${reserved})`);
    }
    for (const name of Object.keys(props.environment ?? {})) {
      if (RESERVED_ENV.includes(name) && props.code instanceof OnnxModelCode) {
        throw new InvalidPropError(this, `environment.${name}`, 'is set by LambdaModelFunction for the model server; use the code options instead');
      }
    }
    this.architecture = props.architecture ?? lambda.Architecture.ARM_64;

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    const role =
      props.role ??
      new iam.Role(this, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of the model function ${this.node.path}`,
      });
    logGroup.grantWrite(role);

    const common: lambda.FunctionOptions = {
      memorySize: this.memorySizeMb,
      architecture: this.architecture,
      timeout: props.timeout ?? Duration.seconds(30),
      ephemeralStorageSize: props.ephemeralStorageSize,
      reservedConcurrentExecutions: reserved,
      role,
      logGroup,
      functionName: props.functionName,
      loggingFormat: lambda.LoggingFormat.JSON,
    };
    if (props.code instanceof OnnxModelCode) {
      const { fn, packagedSizeBytes } = this.onnxFunction(props.code, common, props);
      this.function = fn;
      this.packagedSizeBytes = packagedSizeBytes;
    } else if (props.code instanceof DockerModelCode) {
      this.function = new lambda.DockerImageFunction(this, 'Function', {
        ...common,
        code: props.code.code,
        environment: props.environment,
        description: props.description ?? 'Model served from a container image (modelsweep)',
      });
    } else {
      throw new InvalidPropError(this, 'code', 'must come from LambdaModelCode.fromOnnxModel or LambdaModelCode.fromDockerImage');
    }
    // The role's log policy must exist before the function first runs.
    this.function.node.addDependency(role);

    if (provisioned !== undefined) {
      this.alias = this.function.addAlias(props.aliasName ?? 'live', { provisionedConcurrentExecutions: provisioned });
    }
    this.target = this.alias ?? this.function;
    if (props.functionUrl) {
      this.functionUrl = this.target.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    }
    this.invocation = {
      kind: 'lambda',
      functionArn: this.target.functionArn,
      region: Stack.of(this).region,
      ...(this.functionUrl ? { functionUrl: this.functionUrl.url } : {}),
    };
  }

  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    const grant = this.target.grantInvoke(grantee);
    return this.functionUrl ? grant.combine(this.functionUrl.grantInvokeUrl(grantee)) : grant;
  }

  /** Duration in milliseconds. */
  metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.target.metricDuration(props);
  }

  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.target.metricInvocations(props);
  }

  metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.target.metricErrors(props);
  }

  private onnxFunction(
    code: OnnxModelCode,
    common: lambda.FunctionOptions,
    props: LambdaModelFunctionProps,
  ): { fn: lambda.Function; packagedSizeBytes: number } {
    const modelPath = code.modelPath;
    if (!existsSync(modelPath) || statSync(modelPath).isDirectory()) {
      throw new InvalidPropError(this, 'code', `needs an ONNX model file; ${modelPath} does not exist or is a directory`);
    }
    const threads = code.options.threads ?? Math.min(6, Math.max(1, Math.ceil(this.memorySizeMb / MB_PER_VCPU)));
    checkInteger(this, 'code.threads', threads, 1, 64);

    const arch = this.architecture === lambda.Architecture.X86_64 ? 'x86_64' : 'arm64';
    const handlerDir = requireBuiltAsset(builtAssets.modelServerHandler, 'The model server bundle');
    const runtimeLayer = onnxRuntimeLayer(this, arch);
    const modelFile = basename(modelPath);
    const modelLayer = new lambda.LayerVersion(this, 'ModelLayer', {
      // Only the model file from its folder; a layer unpacks into /opt.
      code: lambda.Code.fromAsset(dirname(modelPath), { exclude: ['*', `!${modelFile}`], ignoreMode: IgnoreMode.GLOB }),
      compatibleArchitectures: [this.architecture],
      description: `ONNX model ${modelFile}`,
    });

    const packagedSizeBytes =
      directorySize(handlerDir, (f) => !f.startsWith('serve.js')) + directorySize(builtAssets.onnxRuntimeLayer(arch)) + statSync(modelPath).size;
    if (packagedSizeBytes > LAMBDA_UNZIPPED_LIMIT_BYTES) {
      throw new InvalidPropError(
        this,
        'code',
        `packages to ${mb(packagedSizeBytes)} MB unzipped (model ${mb(statSync(modelPath).size)} MB), over Lambda's 250 MB limit; ` +
          'serve a model this large with LambdaModelCode.fromDockerImage (up to 10 GB)',
      );
    }

    const fn = new lambda.Function(this, 'Function', {
      ...common,
      runtime: MODEL_SERVER_RUNTIME,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(handlerDir, { exclude: ['serve.js', 'serve.js.map'] }),
      layers: [runtimeLayer, modelLayer],
      environment: {
        ...props.environment,
        MODEL_PATH: `/opt/${modelFile}`,
        MODEL_SERVER_THREADS: String(threads),
      },
      description: props.description ?? `ONNX model ${modelFile} served by modelsweep's model server`,
    });
    return { fn, packagedSizeBytes };
  }
}

/** One onnxruntime layer per stack and architecture, shared by every model function in it. */
function onnxRuntimeLayer(scope: Construct, arch: ModelServerArchitecture): lambda.ILayerVersion {
  const stack = Stack.of(scope);
  const id = `ModelsweepOnnxRuntime-${arch}`;
  const existing = stack.node.tryFindChild(id) as lambda.LayerVersion | undefined;
  if (existing) return existing;
  const dir = requireBuiltAsset(builtAssets.onnxRuntimeLayer(arch), `The onnxruntime layer for ${arch}`);
  return new lambda.LayerVersion(stack, id, {
    code: lambda.Code.fromAsset(dir),
    compatibleArchitectures: [arch === 'x86_64' ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64],
    compatibleRuntimes: [MODEL_SERVER_RUNTIME],
    description: `onnxruntime-node with its linux ${arch} binaries only`,
  });
}

/** Total size of the files under `dir` whose path relative to it passes `include`. */
export function directorySize(dir: string, include: (relativePath: string) => boolean = () => true): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    if (include(full.slice(dir.length + 1))) total += statSync(full).size;
  }
  return total;
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
