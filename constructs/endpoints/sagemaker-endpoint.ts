import { Annotations, Duration, Size, Stack, Token } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';

import { GENERATIVE_SERVERS, generativeEnvironment } from '../../lib/catalog/generative-servers';
import { findSageMakerInstance, isWellFormedInstanceType, type SageMakerInstanceInfo } from '../../lib/catalog/sagemaker-instances';
import { ModelsweepError } from '../../lib/errors';
import type { ModelEndpointInvocation } from '../../lib/targets/endpoint-invocation';
import { SageMakerEndpointBase, SageMakerEndpointMetrics } from './sagemaker-endpoint-base';
import { SageMakerModel, type SageMakerModelOptions } from './sagemaker-model';
import { checkInteger, checkRange, checkSeconds, checkSize, InvalidPropError } from './validation';

/** The instance type of a variant that does not name one: general purpose, not burstable. */
export const DEFAULT_INSTANCE_TYPE = 'ml.m5.large';

/** Target tracking on a variant's instance count. */
export interface VariantAutoScalingOptions {
  /**
   * The fewest instances.
   * @default - the variant's initialInstanceCount
   */
  readonly minCapacity?: number;
  /** The most instances. */
  readonly maxCapacity: number;
  /** Invocations per instance per minute to hold the variant at (`SageMakerVariantInvocationsPerInstance`). */
  readonly targetInvocationsPerInstance: number;
  /**
   * Also track GPU utilization, as a percentage of one GPU averaged over the instance's GPUs
   * (1-100). Only for instance types with NVIDIA GPUs.
   * @default - no GPU tracking
   */
  readonly targetGpuUtilizationPercent?: number;
  /** @default Duration.minutes(5) */
  readonly scaleInCooldown?: Duration;
  /** @default Duration.minutes(1) */
  readonly scaleOutCooldown?: Duration;
}

/** One production variant: a slice of the endpoint's traffic on its own instances. */
export interface ProductionVariantOptions {
  /**
   * @default 'AllTraffic' for the first variant, 'Variant2', 'Variant3'... for the others
   */
  readonly variantName?: string;
  /**
   * A SageMaker hosting instance type such as `ml.g5.xlarge`. Types missing from modelsweep's
   * catalog are accepted with a warning.
   * @default 'ml.m5.large'
   */
  readonly instanceType?: string;
  /** @default 1 */
  readonly initialInstanceCount?: number;
  /**
   * Relative share of traffic: with weights 9 and 1, the second variant gets 10%.
   * @default 1
   */
  readonly initialWeight?: number;
  /**
   * The EBS volume of each instance (1-512 GB). Not for instance types with NVMe storage.
   * @default - SageMaker's default for the instance type
   */
  readonly volumeSize?: Size;
  /**
   * How long SageMaker may take to download the model data (60-3600 s).
   * @default - SageMaker's default; 30 minutes with `generative`
   */
  readonly modelDownloadTimeout?: Duration;
  /**
   * How long the container may take to pass its first health check (60-3600 s).
   * @default - SageMaker's default; 30 minutes with `generative` (a large model loads for minutes)
   */
  readonly containerStartupHealthCheckTimeout?: Duration;
  /**
   * Scale the instance count with traffic.
   * @default - a fixed instance count
   */
  readonly autoScaling?: VariantAutoScalingOptions;
}

/** Capture of requests and responses to S3. */
export interface DataCaptureOptions {
  /** The bucket captured data goes to. */
  readonly destination: s3.IBucket;
  /** @default 'data-capture' */
  readonly prefix?: string;
  /** Percentage of requests captured (0-100). @default 100 */
  readonly samplingPercentage?: number;
  /** @default true */
  readonly captureInput?: boolean;
  /** @default true */
  readonly captureOutput?: boolean;
  /**
   * Key that encrypts the captured data.
   * @default - the bucket's default encryption
   */
  readonly encryptionKey?: kms.IKey;
}

/** How a generative server (LMI, TGI or vLLM) serves its model; unset fields are left to the server. */
export interface GenerativeServingOptions {
  /** A Hugging Face model id, or `/opt/ml/model` for the endpoint's `modelData`. */
  readonly modelId: string;
  /**
   * GPUs to shard the model across (tensor parallelism); at most the GPUs of each variant's instance type.
   * @default - every GPU of the variants' instance types (the fewest, when they differ)
   */
  readonly tensorParallelDegree?: number;
  /**
   * Longest prompt plus output, in tokens.
   * @default - the model's own
   */
  readonly maxModelLength?: number;
  /**
   * Most sequences decoded at once (continuous batching).
   * @default - the server's own
   */
  readonly maxConcurrentSequences?: number;
}

/** Sustained startup of a generative model: download and load take minutes, not SageMaker's default. */
const GENERATIVE_STARTUP_SECONDS = 1800;

export interface SageMakerEndpointProps extends SageMakerModelOptions {
  /**
   * Serve a generative model with the image's server: `image` must be
   * `ModelImage.largeModelInference`, `.textGenerationInference` or `.vllm`, and each variant an
   * instance type with NVIDIA GPUs. Sets the server's own environment variables, and startup
   * timeouts sized for large models.
   * @default - no generative server: the image is configured by `environment` alone
   */
  readonly generative?: GenerativeServingOptions;
  /**
   * The production variants. Each serves the same model on its own instance type and count, so
   * traffic can be split between hardware for A/B tests and canaries.
   * @default - one variant, 'AllTraffic', on one ml.m5.large
   */
  readonly variants?: ProductionVariantOptions[];
  /**
   * Encrypts the instances' storage volumes. SageMaker rejects it for instance types with NVMe
   * storage, which the hardware encrypts.
   * @default - AWS-managed encryption
   */
  readonly kmsKey?: kms.IKey;
  /**
   * Runs the model's containers in this VPC.
   * @default - no VPC
   */
  readonly vpc?: ec2.IVpc;
  /** @default - private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default - a new security group */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Blocks all network access from the container, which then cannot call out at all.
   * @default false
   */
  readonly networkIsolation?: boolean;
  /** @default - no data capture */
  readonly dataCapture?: DataCaptureOptions;
  /** @default - a name CloudFormation generates */
  readonly endpointName?: string;
}

const VARIANT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** A model on a SageMaker real-time endpoint (CPU, GPU or Inferentia instances). */
export class SageMakerEndpoint extends SageMakerEndpointBase {
  readonly invocation: ModelEndpointInvocation;
  readonly endpoint: sagemaker.CfnEndpoint;
  readonly endpointConfig: sagemaker.CfnEndpointConfig;
  readonly model: sagemaker.CfnModel;
  readonly role: iam.IRole;
  /** The variants' names, in declaration order. */
  readonly variantNames: string[];
  readonly endpointName: string;
  /** The endpoint's ARN. */
  readonly endpointArn: string;
  protected readonly metrics: SageMakerEndpointMetrics;
  protected readonly invokeActions = ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointWithResponseStream'];

  constructor(scope: Construct, id: string, props: SageMakerEndpointProps) {
    super(scope, id);
    const variants = props.variants ?? [{}];
    if (variants.length === 0 || variants.length > 10) {
      throw new InvalidPropError(this, 'variants', `must list 1 to 10 production variants, got ${variants.length}`);
    }
    const resolvedVariants = variants.map((variant, i) => this.resolveVariant(variant, i, props.kmsKey));
    this.checkVariantSet(resolvedVariants);
    const resolved = props.generative ? resolvedVariants.map(withGenerativeStartup) : resolvedVariants;
    const environment = props.generative ? this.generativeEnvironment(props, props.generative, resolved) : props.environment;

    const model = new SageMakerModel(this, 'Model', { ...props, ...(environment ? { environment } : {}) });
    this.model = model.model;
    this.role = model.role;

    this.endpointConfig = new sagemaker.CfnEndpointConfig(this, 'EndpointConfig', {
      productionVariants: resolved.map((v) => ({
        variantName: v.name,
        modelName: this.model.attrModelName,
        instanceType: v.instanceType,
        initialInstanceCount: v.initialInstanceCount,
        initialVariantWeight: v.initialWeight,
        volumeSizeInGb: v.volumeSizeGb,
        modelDataDownloadTimeoutInSeconds: v.modelDownloadTimeoutSeconds,
        containerStartupHealthCheckTimeoutInSeconds: v.startupTimeoutSeconds,
      })),
      kmsKeyId: props.kmsKey?.keyArn,
      dataCaptureConfig: props.dataCapture ? this.dataCaptureConfig(props.dataCapture) : undefined,
    });
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Resource', {
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
      endpointName: props.endpointName,
    });
    this.endpointName = this.endpoint.attrEndpointName;
    this.endpointArn = this.endpoint.ref;
    this.variantNames = resolved.map((v) => v.name);
    this.metrics = new SageMakerEndpointMetrics(this.endpointName, this.variantNames);
    this.invocation = {
      kind: 'sagemaker-realtime',
      endpointName: this.endpointName,
      region: Stack.of(this).region,
      variantNames: this.variantNames,
    };
    resolved.forEach((v) => v.options.autoScaling && this.addAutoScaling(v, v.options.autoScaling));
  }

  /** Any `AWS/SageMaker` metric of one variant, e.g. `OverheadLatency` or `CPUUtilization`. */
  metricForVariant(metricName: string, variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!this.variantNames.includes(variantName)) {
      throw new ModelsweepError(
        'invalid-prop',
        `variantName "${variantName}" is not a variant of ${this.node.path}; its variants are ${this.variantNames.join(', ')}`,
      );
    }
    return this.metrics.variant(metricName, variantName, props);
  }

  private resolveVariant(options: ProductionVariantOptions, index: number, kmsKey: kms.IKey | undefined): ResolvedVariant {
    const prop = (field: string) => `variants[${index}].${field}`;
    const name = options.variantName ?? (index === 0 ? 'AllTraffic' : `Variant${index + 1}`);
    if (!Token.isUnresolved(name) && !VARIANT_NAME.test(name)) {
      throw new InvalidPropError(
        this,
        prop('variantName'),
        `must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit, got "${name}"`,
      );
    }
    const instanceType = options.instanceType ?? DEFAULT_INSTANCE_TYPE;
    const instance = this.checkInstanceType(instanceType, prop('instanceType'));
    checkInteger(this, prop('initialInstanceCount'), options.initialInstanceCount, 1, Infinity);
    checkRange(this, prop('initialWeight'), options.initialWeight, 0, Number.MAX_VALUE);
    const volumeSizeGb = checkSize(this, prop('volumeSize'), options.volumeSize, 'GB', 1, 512);
    if (instance?.localNvmeStorageGb !== undefined) {
      if (volumeSizeGb !== undefined) {
        throw new InvalidPropError(
          this,
          prop('volumeSize'),
          `cannot be set for ${instanceType}: it has ${instance.localNvmeStorageGb} GB of NVMe instance storage and no EBS volume`,
        );
      }
      if (kmsKey) {
        throw new InvalidPropError(
          this,
          'kmsKey',
          `cannot be used with ${instanceType} (${prop('instanceType')}): SageMaker rejects a volume key for instance types with NVMe storage, which the instance's hardware encrypts`,
        );
      }
    }
    return {
      options,
      name,
      instanceType,
      instance,
      initialInstanceCount: options.initialInstanceCount ?? 1,
      initialWeight: options.initialWeight ?? 1,
      volumeSizeGb,
      modelDownloadTimeoutSeconds: checkSeconds(this, prop('modelDownloadTimeout'), options.modelDownloadTimeout, 60, 3600),
      startupTimeoutSeconds: checkSeconds(this, prop('containerStartupHealthCheckTimeout'), options.containerStartupHealthCheckTimeout, 60, 3600),
      autoScalingProp: prop('autoScaling'),
    };
  }

  /** The container environment of a generative server: the user's, plus the server's own variables for `generative`. */
  private generativeEnvironment(
    props: SageMakerEndpointProps,
    generative: GenerativeServingOptions,
    variants: readonly ResolvedVariant[],
  ): Record<string, string> {
    const server = props.image.generativeServer;
    if (!server) {
      throw new InvalidPropError(
        this,
        'generative',
        'needs a generative server image: ModelImage.largeModelInference, ModelImage.textGenerationInference or ModelImage.vllm',
      );
    }
    const title = GENERATIVE_SERVERS[server].title;
    if (!Token.isUnresolved(generative.modelId) && generative.modelId.trim() === '')
      throw new InvalidPropError(this, 'generative.modelId', 'must name the model: a Hugging Face model id, or /opt/ml/model for modelData');
    checkInteger(this, 'generative.tensorParallelDegree', generative.tensorParallelDegree, 1, 64);
    checkInteger(this, 'generative.maxModelLength', generative.maxModelLength, 1, 10_000_000);
    checkInteger(this, 'generative.maxConcurrentSequences', generative.maxConcurrentSequences, 1, 100_000);
    const gpus: number[] = [];
    variants.forEach((v, i) => {
      if (!v.instance) return;
      const accelerator = v.instance.accelerator;
      if (accelerator?.kind !== 'nvidia-gpu') {
        throw new InvalidPropError(
          this,
          `variants[${i}].instanceType`,
          `${v.instanceType} has no NVIDIA GPU; the ${title} container (generative) needs one`,
        );
      }
      const degree = generative.tensorParallelDegree;
      if (degree !== undefined && !Token.isUnresolved(degree) && degree > accelerator.count) {
        throw new InvalidPropError(
          this,
          'generative.tensorParallelDegree',
          `${degree} is more than the ${accelerator.count} GPU${accelerator.count > 1 ? 's' : ''} of ${v.instanceType} (variants[${i}].instanceType)`,
        );
      }
      gpus.push(accelerator.count);
    });
    const degree = generative.tensorParallelDegree ?? (gpus.length === variants.length ? Math.min(...gpus) : undefined);
    const serverEnvironment = generativeEnvironment(server, { ...generative, ...(degree !== undefined ? { tensorParallelDegree: degree } : {}) });
    for (const name of Object.keys(serverEnvironment)) {
      if (props.environment?.[name] !== undefined)
        throw new InvalidPropError(this, `environment.${name}`, `is set by generative for the ${title} container; set it in one place`);
    }
    return { ...props.environment, ...serverEnvironment };
  }

  private checkInstanceType(instanceType: string, prop: string): SageMakerInstanceInfo | undefined {
    if (Token.isUnresolved(instanceType)) return undefined;
    if (!isWellFormedInstanceType(instanceType)) {
      throw new InvalidPropError(this, prop, `must be a SageMaker instance type like ml.g5.xlarge (ml.<family>.<size>), got "${instanceType}"`);
    }
    const instance = findSageMakerInstance(instanceType);
    if (!instance) {
      Annotations.of(this).addWarningV2(
        'modelsweep:unknownInstanceType',
        `${prop} ${instanceType} is not in modelsweep's instance catalog; it is used as given, without hardware checks`,
      );
    } else if (instance.burstable) {
      Annotations.of(this).addWarningV2(
        'modelsweep:burstableInstanceType',
        `${prop} ${instanceType} is burstable: its CPU is throttled once credits run out, so latency under sustained load differs from what a short test shows`,
      );
    }
    return instance;
  }

  private checkVariantSet(variants: ResolvedVariant[]): void {
    const seen = new Set<string>();
    variants.forEach((v, i) => {
      if (seen.has(v.name))
        throw new InvalidPropError(this, `variants[${i}].variantName`, `"${v.name}" is used by an earlier variant; names must be unique`);
      seen.add(v.name);
    });
    const weights = variants.map((v) => v.initialWeight);
    if (weights.every((w) => !Token.isUnresolved(w) && w === 0)) {
      throw new InvalidPropError(this, 'variants', 'need at least one variant with an initialWeight above 0, or no traffic reaches the endpoint');
    }
  }

  private dataCaptureConfig(options: DataCaptureOptions): sagemaker.CfnEndpointConfig.DataCaptureConfigProperty {
    checkInteger(this, 'dataCapture.samplingPercentage', options.samplingPercentage, 0, 100);
    const modes = [
      ...((options.captureInput ?? true) ? [{ captureMode: 'Input' }] : []),
      ...((options.captureOutput ?? true) ? [{ captureMode: 'Output' }] : []),
    ];
    if (modes.length === 0) {
      throw new InvalidPropError(this, 'dataCapture', 'captures nothing: captureInput and captureOutput are both false');
    }
    const prefix = (options.prefix ?? 'data-capture').replace(/^\/+|\/+$/g, '');
    options.destination.grantPut(this.role, `${prefix}/*`);
    options.encryptionKey?.grantEncrypt(this.role);
    return {
      enableCapture: true,
      initialSamplingPercentage: options.samplingPercentage ?? 100,
      destinationS3Uri: options.destination.s3UrlForObject(prefix),
      captureOptions: modes,
      kmsKeyId: options.encryptionKey?.keyArn,
    };
  }

  private addAutoScaling(variant: ResolvedVariant, options: VariantAutoScalingOptions): void {
    const prop = variant.autoScalingProp;
    const minCapacity = options.minCapacity ?? variant.initialInstanceCount;
    checkInteger(this, `${prop}.minCapacity`, minCapacity, 1, Infinity);
    checkInteger(this, `${prop}.maxCapacity`, options.maxCapacity, 1, Infinity);
    if (!Token.isUnresolved(minCapacity) && !Token.isUnresolved(options.maxCapacity) && options.maxCapacity < minCapacity) {
      throw new InvalidPropError(this, `${prop}.maxCapacity`, `(${options.maxCapacity}) must be at least minCapacity (${minCapacity})`);
    }
    checkRange(this, `${prop}.targetInvocationsPerInstance`, options.targetInvocationsPerInstance, Number.MIN_VALUE, Number.MAX_VALUE);
    const scaleInCooldown = checkSeconds(this, `${prop}.scaleInCooldown`, options.scaleInCooldown, 0, 86400) ?? 300;
    const scaleOutCooldown = checkSeconds(this, `${prop}.scaleOutCooldown`, options.scaleOutCooldown, 0, 86400) ?? 60;

    const id = `AutoScaling${variant.name.replace(/[^A-Za-z0-9]/g, '')}`;
    const target = new appscaling.CfnScalableTarget(this, id, {
      serviceNamespace: 'sagemaker',
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      resourceId: `endpoint/${this.endpointName}/variant/${variant.name}`,
      minCapacity,
      maxCapacity: options.maxCapacity,
      // No roleArn: Application Auto Scaling uses (and creates if needed) its SageMaker service-linked role.
    });
    target.node.addDependency(this.endpoint);
    const policy = (name: string, configuration: appscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty) =>
      new appscaling.CfnScalingPolicy(this, `${id}${name}`, {
        policyName: `${variant.name}-${name}`,
        policyType: 'TargetTrackingScaling',
        scalingTargetId: target.ref,
        targetTrackingScalingPolicyConfiguration: { scaleInCooldown, scaleOutCooldown, ...configuration },
      });
    policy('Invocations', {
      targetValue: options.targetInvocationsPerInstance,
      predefinedMetricSpecification: { predefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
    });
    if (options.targetGpuUtilizationPercent !== undefined) {
      checkRange(this, `${prop}.targetGpuUtilizationPercent`, options.targetGpuUtilizationPercent, 1, 100);
      policy('GpuUtilization', {
        targetValue: options.targetGpuUtilizationPercent * this.gpuCount(variant, prop),
        customizedMetricSpecification: {
          namespace: '/aws/sagemaker/Endpoints',
          metricName: 'GPUUtilization',
          statistic: 'Average',
          dimensions: [
            { name: 'EndpointName', value: this.endpointName },
            { name: 'VariantName', value: variant.name },
          ],
        },
      });
    }
  }

  /** SageMaker's GPUUtilization adds up the GPUs (0-400% on four), so the target scales with the count. */
  private gpuCount(variant: ResolvedVariant, prop: string): number {
    const accelerator = variant.instance?.accelerator;
    if (!variant.instance) {
      Annotations.of(this).addWarningV2(
        'modelsweep:gpuCountUnknown',
        `${prop}.targetGpuUtilizationPercent: ${variant.instanceType} is not in the catalog, so its GPU count is taken as 1`,
      );
      return 1;
    }
    if (accelerator?.kind !== 'nvidia-gpu') {
      throw new InvalidPropError(
        this,
        `${prop}.targetGpuUtilizationPercent`,
        `needs an instance type with NVIDIA GPUs; ${variant.instanceType} has ${accelerator ? accelerator.name : 'none'}`,
      );
    }
    return accelerator.count;
  }
}

/** A generative model's variant: startup timeouts it did not set are long enough for a large model. */
const withGenerativeStartup = (v: ResolvedVariant): ResolvedVariant => ({
  ...v,
  modelDownloadTimeoutSeconds: v.modelDownloadTimeoutSeconds ?? GENERATIVE_STARTUP_SECONDS,
  startupTimeoutSeconds: v.startupTimeoutSeconds ?? GENERATIVE_STARTUP_SECONDS,
});

interface ResolvedVariant {
  readonly options: ProductionVariantOptions;
  readonly name: string;
  readonly instanceType: string;
  readonly instance?: SageMakerInstanceInfo;
  readonly initialInstanceCount: number;
  readonly initialWeight: number;
  readonly volumeSizeGb?: number;
  readonly modelDownloadTimeoutSeconds?: number;
  readonly startupTimeoutSeconds?: number;
  readonly autoScalingProp: string;
}
