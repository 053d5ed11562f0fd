import { Size, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';

import type { ModelEndpointInvocation } from '../../lib/targets/endpoint-invocation';
import { SageMakerEndpointBase, SageMakerEndpointMetrics } from './sagemaker-endpoint-base';
import { SageMakerModel, type SageMakerModelOptions } from './sagemaker-model';
import { checkInteger, checkSize, InvalidPropError } from './validation';

/** The single variant every serverless endpoint has. */
const SERVERLESS_VARIANT = 'AllTraffic';

export interface SageMakerServerlessEndpointProps extends SageMakerModelOptions {
  /**
   * Memory of each serverless worker: 1024 to 6144 MB in steps of 1024. vCPUs grow with it.
   * @default Size.mebibytes(2048)
   */
  readonly memorySize?: Size;
  /**
   * Most requests processed at once (1-200); more are throttled.
   * @default 20
   */
  readonly maxConcurrency?: number;
  /**
   * Workers kept warm so requests skip cold starts (1 to maxConcurrency).
   * @default - none: every worker starts on demand
   */
  readonly provisionedConcurrency?: number;
  /** @default - a name CloudFormation generates */
  readonly endpointName?: string;
}

/**
 * A model on a SageMaker serverless endpoint: billed per request by memory and duration, no
 * GPUs, no VPC, no network isolation, no data capture (SageMaker supports none of them here).
 */
export class SageMakerServerlessEndpoint extends SageMakerEndpointBase {
  readonly invocation: ModelEndpointInvocation;
  readonly endpoint: sagemaker.CfnEndpoint;
  readonly endpointConfig: sagemaker.CfnEndpointConfig;
  readonly model: sagemaker.CfnModel;
  readonly role: iam.IRole;
  readonly endpointName: string;
  readonly endpointArn: string;
  /** Memory of each worker, in MB. */
  readonly memorySizeMb: number;
  readonly maxConcurrency: number;
  protected readonly metrics: SageMakerEndpointMetrics;
  protected readonly invokeActions = ['sagemaker:InvokeEndpoint'];

  constructor(scope: Construct, id: string, props: SageMakerServerlessEndpointProps) {
    super(scope, id);
    this.memorySizeMb = checkSize(this, 'memorySize', props.memorySize ?? Size.mebibytes(2048), 'MB', 1024, 6144, 1024)!;
    this.maxConcurrency = props.maxConcurrency ?? 20;
    checkInteger(this, 'maxConcurrency', this.maxConcurrency, 1, 200);
    checkInteger(this, 'provisionedConcurrency', props.provisionedConcurrency, 1, 200);
    if (props.provisionedConcurrency !== undefined && props.provisionedConcurrency > this.maxConcurrency) {
      throw new InvalidPropError(
        this,
        'provisionedConcurrency',
        `(${props.provisionedConcurrency}) must not exceed maxConcurrency (${this.maxConcurrency})`,
      );
    }

    const model = new SageMakerModel(this, 'Model', props);
    this.model = model.model;
    this.role = model.role;
    this.endpointConfig = new sagemaker.CfnEndpointConfig(this, 'EndpointConfig', {
      productionVariants: [
        {
          variantName: SERVERLESS_VARIANT,
          modelName: this.model.attrModelName,
          serverlessConfig: {
            memorySizeInMb: this.memorySizeMb,
            maxConcurrency: this.maxConcurrency,
            provisionedConcurrency: props.provisionedConcurrency,
          },
        },
      ],
    });
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Resource', {
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
      endpointName: props.endpointName,
    });
    this.endpointName = this.endpoint.attrEndpointName;
    this.endpointArn = this.endpoint.ref;
    this.metrics = new SageMakerEndpointMetrics(this.endpointName, [SERVERLESS_VARIANT]);
    this.invocation = { kind: 'sagemaker-serverless', endpointName: this.endpointName, region: Stack.of(this).region };
  }

  /** Time spent starting workers for cold requests (`ModelSetupTime`, microseconds). */
  metricModelSetupTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.variant('ModelSetupTime', SERVERLESS_VARIANT, { statistic: 'Average', ...props });
  }
}
