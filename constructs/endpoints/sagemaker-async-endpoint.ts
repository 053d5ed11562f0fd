import { type CfnElement, type Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

import type { ModelEndpointInvocation } from '../../lib/targets/endpoint-invocation';
import { DEFAULT_INSTANCE_TYPE } from './sagemaker-endpoint';
import { SageMakerEndpointBase, SageMakerEndpointMetrics } from './sagemaker-endpoint-base';
import { SageMakerModel, type SageMakerModelOptions } from './sagemaker-model';
import { checkInteger, checkSageMakerInstanceType, checkSeconds, InvalidPropError } from './validation';

/** The single variant of an asynchronous endpoint. */
const ASYNC_VARIANT = 'AllTraffic';

/** Where requests are read from and answers written to. */
export interface AsyncInferenceStorage {
  /** The bucket that holds requests, answers and failures. */
  readonly bucket: s3.IBucket;
  /** @default 'async-input' */
  readonly inputPrefix?: string;
  /** @default 'async-output' */
  readonly outputPrefix?: string;
  /** @default 'async-failures' */
  readonly failurePrefix?: string;
  /**
   * Encrypts the answers SageMaker writes.
   * @default - the bucket's default encryption
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Scale the instance count with the queue, down to none when it is empty: a batch job pays for
 * instances only while it runs. SageMaker's recommended pair of policies: target tracking on the
 * backlog per instance, and a step policy that starts the first instance when requests wait with
 * no instance to take them (`HasBacklogWithoutCapacity`).
 */
export interface AsyncScaleToZeroOptions {
  /** The most instances. */
  readonly maxCapacity: number;
  /**
   * Requests waiting per instance to hold the endpoint at (`ApproximateBacklogSizePerInstance`).
   * @default 5
   */
  readonly targetBacklogPerInstance?: number;
  /** @default Duration.minutes(5) */
  readonly scaleInCooldown?: Duration;
  /** @default Duration.minutes(1) */
  readonly scaleOutCooldown?: Duration;
}

export interface SageMakerAsyncEndpointProps extends SageMakerModelOptions {
  /**
   * A SageMaker hosting instance type such as `ml.g5.xlarge`.
   * @default 'ml.m5.large'
   */
  readonly instanceType?: string;
  /**
   * Instances at creation (SageMaker needs at least one); with `scaleToZero` they scale down to none once idle.
   * @default 1
   */
  readonly initialInstanceCount?: number;
  /** Where requests, answers and failures go; SageMaker's role may read the inputs and write the rest. */
  readonly storage: AsyncInferenceStorage;
  /**
   * Requests one instance takes from the queue at once (1-1000).
   * @default - SageMaker's own
   */
  readonly maxConcurrentInvocationsPerInstance?: number;
  /**
   * Announce each answer and each failure on SNS topics (encrypted, TLS only), created here.
   * @default true
   */
  readonly notifications?: boolean;
  /** @default - a fixed instance count */
  readonly scaleToZero?: AsyncScaleToZeroOptions;
  /**
   * Encrypts the instances' storage volumes and the topics.
   * @default - AWS-managed encryption, and a new key for the topics
   */
  readonly kmsKey?: kms.IKey;
  /** @default - a name CloudFormation generates */
  readonly endpointName?: string;
}

/**
 * A model on a SageMaker asynchronous endpoint: requests queue as S3 objects, answers land in S3
 * (announced on SNS), and the instances can scale to zero between jobs. For offline work whose
 * requests take seconds to minutes, or whose payloads are large; billed per instance-hour at the
 * asynchronous rate.
 */
export class SageMakerAsyncEndpoint extends SageMakerEndpointBase {
  readonly invocation: ModelEndpointInvocation;
  readonly endpoint: sagemaker.CfnEndpoint;
  readonly endpointConfig: sagemaker.CfnEndpointConfig;
  readonly model: sagemaker.CfnModel;
  readonly role: iam.IRole;
  readonly endpointName: string;
  readonly endpointArn: string;
  readonly instanceType: string;
  /** Announces each answer (absent with `notifications: false`). */
  readonly successTopic?: sns.ITopic;
  /** Announces each failure (absent with `notifications: false`). */
  readonly errorTopic?: sns.ITopic;
  /** Where callers put requests: `s3://bucket/inputPrefix/`. */
  readonly inputLocation: string;
  readonly storage: AsyncInferenceStorage;
  protected readonly metrics: SageMakerEndpointMetrics;
  protected readonly invokeActions = ['sagemaker:InvokeEndpointAsync'];
  private readonly prefixes: { readonly input: string; readonly output: string; readonly failure: string };

  constructor(scope: Construct, id: string, props: SageMakerAsyncEndpointProps) {
    super(scope, id);
    this.instanceType = props.instanceType ?? DEFAULT_INSTANCE_TYPE;
    checkSageMakerInstanceType(this, 'instanceType', this.instanceType);
    const initialInstanceCount = props.initialInstanceCount ?? 1;
    checkInteger(this, 'initialInstanceCount', initialInstanceCount, 1, 1000);
    checkInteger(this, 'maxConcurrentInvocationsPerInstance', props.maxConcurrentInvocationsPerInstance, 1, 1000);
    const prefix = (field: 'inputPrefix' | 'outputPrefix' | 'failurePrefix', fallback: string) => {
      const value = (props.storage[field] ?? fallback).replace(/^\/+|\/+$/g, '');
      if (!Token.isUnresolved(value) && !/^[\w!\-.*'()/]{1,512}$/.test(value))
        throw new InvalidPropError(this, `storage.${field}`, `must be a key prefix of letters, digits and !-_.*'()/, got ${JSON.stringify(value)}`);
      return value;
    };
    this.prefixes = {
      input: prefix('inputPrefix', 'async-input'),
      output: prefix('outputPrefix', 'async-output'),
      failure: prefix('failurePrefix', 'async-failures'),
    };
    if (new Set(Object.values(this.prefixes)).size < 3)
      throw new InvalidPropError(
        this,
        'storage',
        'needs three different prefixes (inputPrefix, outputPrefix, failurePrefix): answers must not be read back as requests',
      );
    this.storage = props.storage;

    const model = new SageMakerModel(this, 'Model', props);
    this.model = model.model;
    this.role = model.role;
    const { bucket } = props.storage;
    bucket.grantRead(this.role, `${this.prefixes.input}/*`);
    bucket.grantPut(this.role, `${this.prefixes.output}/*`);
    bucket.grantPut(this.role, `${this.prefixes.failure}/*`);
    props.storage.encryptionKey?.grantEncrypt(this.role);

    if (props.notifications ?? true) {
      const topicKey = props.kmsKey ?? new kms.Key(this, 'TopicKey', { enableKeyRotation: true, description: `${this.node.path} notifications` });
      // SageMaker publishes as the endpoint's role.
      const topic = (name: string) => {
        const t = new sns.Topic(this, name, { masterKey: topicKey, enforceSSL: true });
        t.grantPublish(this.role);
        return t;
      };
      this.successTopic = topic('SuccessTopic');
      this.errorTopic = topic('ErrorTopic');
    }

    this.acknowledgeFindings(bucket);

    this.endpointConfig = new sagemaker.CfnEndpointConfig(this, 'EndpointConfig', {
      productionVariants: [
        {
          variantName: ASYNC_VARIANT,
          modelName: this.model.attrModelName,
          instanceType: this.instanceType,
          initialInstanceCount,
          initialVariantWeight: 1,
        },
      ],
      kmsKeyId: props.kmsKey?.keyArn,
      asyncInferenceConfig: {
        outputConfig: {
          s3OutputPath: bucket.s3UrlForObject(this.prefixes.output),
          s3FailurePath: bucket.s3UrlForObject(this.prefixes.failure),
          kmsKeyId: props.storage.encryptionKey?.keyArn,
          ...(this.successTopic && this.errorTopic
            ? { notificationConfig: { successTopic: this.successTopic.topicArn, errorTopic: this.errorTopic.topicArn } }
            : {}),
        },
        ...(props.maxConcurrentInvocationsPerInstance !== undefined
          ? { clientConfig: { maxConcurrentInvocationsPerInstance: props.maxConcurrentInvocationsPerInstance } }
          : {}),
      },
    });
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Resource', {
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
      endpointName: props.endpointName,
    });
    this.endpointName = this.endpoint.attrEndpointName;
    this.endpointArn = this.endpoint.ref;
    this.inputLocation = `${bucket.s3UrlForObject(this.prefixes.input)}/`;
    this.metrics = new SageMakerEndpointMetrics(this.endpointName, [ASYNC_VARIANT]);
    this.invocation = {
      kind: 'sagemaker-async',
      endpointName: this.endpointName,
      region: Stack.of(this).region,
      inputLocation: this.inputLocation,
      outputLocation: bucket.s3UrlForObject(this.prefixes.output),
    };
    if (props.scaleToZero) this.addScaleToZero(props.scaleToZero, initialInstanceCount);
  }

  /**
   * Invoking takes more than the endpoint: the caller writes each request under the input prefix
   * and reads its answer under the output prefix. Grants all three.
   */
  override grantInvoke(grantee: iam.IGrantable): iam.Grant {
    this.storage.bucket.grantPut(grantee, `${this.prefixes.input}/*`);
    this.storage.bucket.grantRead(grantee, `${this.prefixes.output}/*`);
    this.storage.bucket.grantRead(grantee, `${this.prefixes.failure}/*`);
    return super.grantInvoke(grantee);
  }

  /** Requests waiting in the queue, endpoint-wide (`ApproximateBacklogSize`). @default statistic Average, period 5 minutes */
  metricBacklog(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.endpointMetric('ApproximateBacklogSize', props);
  }

  /** Requests waiting per instance (`ApproximateBacklogSizePerInstance`), what `scaleToZero` tracks. @default statistic Average, period 5 minutes */
  metricBacklogPerInstance(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.endpointMetric('ApproximateBacklogSizePerInstance', props);
  }

  /** 1 while requests wait with no instance to take them (`HasBacklogWithoutCapacity`). @default statistic Average, period 5 minutes */
  metricBacklogWithoutCapacity(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.endpointMetric('HasBacklogWithoutCapacity', props);
  }

  private endpointMetric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/SageMaker',
      metricName,
      dimensionsMap: { EndpointName: this.endpointName },
      statistic: 'Average',
      ...props,
    });
  }

  /** The wildcards of aws-cdk-lib's grants to the endpoint's role, reasoned once here for cdk-nag, as the other endpoint constructs do. */
  private acknowledgeFindings(bucket: s3.IBucket): void {
    const acknowledge = (id: string, reason: string) => Validations.of(this.role).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason });
    const grants = "aws-cdk-lib's grantRead and grantPut on the storage bucket, limited to the endpoint's input, output and failure prefixes.";
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*']) acknowledge(`Action::${action}`, grants);
    const cfn = bucket.node.defaultChild as CfnElement | undefined;
    const arn = cfn ? `<${Stack.of(cfn).getLogicalId(cfn)}.Arn>` : Token.isUnresolved(bucket.bucketArn) ? undefined : bucket.bucketArn;
    if (arn) for (const prefix of Object.values(this.prefixes)) acknowledge(`Resource::${arn}/${prefix}/*`, grants);
    acknowledge(
      'Action::kms:GenerateDataKey*',
      "aws-cdk-lib's grantPublish on the encrypted notification topics, and grantEncrypt on the answers' key: encrypting needs data keys of those keys alone.",
    );
  }

  private addScaleToZero(options: AsyncScaleToZeroOptions, initialInstanceCount: number): void {
    const prop = 'scaleToZero';
    checkInteger(this, `${prop}.maxCapacity`, options.maxCapacity, 1, 1000);
    if (!Token.isUnresolved(options.maxCapacity) && options.maxCapacity < initialInstanceCount)
      throw new InvalidPropError(
        this,
        `${prop}.maxCapacity`,
        `(${options.maxCapacity}) must be at least initialInstanceCount (${initialInstanceCount})`,
      );
    const target = options.targetBacklogPerInstance ?? 5;
    if (!Token.isUnresolved(target) && !(target > 0))
      throw new InvalidPropError(this, `${prop}.targetBacklogPerInstance`, `must be above 0, got ${target}`);
    const scaleInCooldown = checkSeconds(this, `${prop}.scaleInCooldown`, options.scaleInCooldown, 0, 86400) ?? 300;
    const scaleOutCooldown = checkSeconds(this, `${prop}.scaleOutCooldown`, options.scaleOutCooldown, 0, 86400) ?? 60;

    const scalable = new appscaling.CfnScalableTarget(this, 'ScalableTarget', {
      serviceNamespace: 'sagemaker',
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      resourceId: `endpoint/${this.endpointName}/variant/${ASYNC_VARIANT}`,
      minCapacity: 0,
      maxCapacity: options.maxCapacity,
    });
    scalable.node.addDependency(this.endpoint);
    new appscaling.CfnScalingPolicy(this, 'BacklogTracking', {
      policyName: 'backlog-per-instance',
      policyType: 'TargetTrackingScaling',
      scalingTargetId: scalable.ref,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: target,
        scaleInCooldown,
        scaleOutCooldown,
        customizedMetricSpecification: {
          namespace: 'AWS/SageMaker',
          metricName: 'ApproximateBacklogSizePerInstance',
          statistic: 'Average',
          dimensions: [{ name: 'EndpointName', value: this.endpointName }],
        },
      },
    });
    // Target tracking cannot leave zero (a backlog per instance of zero instances is undefined): a step starts the first.
    const fromZero = new appscaling.CfnScalingPolicy(this, 'StartFromZero', {
      policyName: 'start-from-zero',
      policyType: 'StepScaling',
      scalingTargetId: scalable.ref,
      stepScalingPolicyConfiguration: {
        adjustmentType: 'ChangeInCapacity',
        metricAggregationType: 'Average',
        cooldown: scaleOutCooldown,
        stepAdjustments: [{ metricIntervalLowerBound: 0, scalingAdjustment: 1 }],
      },
    });
    new cloudwatch.CfnAlarm(this, 'BacklogWithoutCapacity', {
      alarmDescription: `${this.node.path}: requests wait with no instance to take them`,
      namespace: 'AWS/SageMaker',
      metricName: 'HasBacklogWithoutCapacity',
      dimensions: [{ name: 'EndpointName', value: this.endpointName }],
      statistic: 'Average',
      period: 60,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'missing',
      alarmActions: [fromZero.ref],
    });
  }
}
