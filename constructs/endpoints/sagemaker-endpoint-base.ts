import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';

import type { ModelEndpointInvocation } from '../../lib/targets/endpoint-invocation';
import type { IModelEndpoint } from './model-endpoint';

/**
 * CloudWatch metrics of a SageMaker endpoint. SageMaker publishes them per production variant
 * only, so endpoint-wide figures are metric math over the variants.
 */
export class SageMakerEndpointMetrics {
  constructor(
    private readonly endpointName: string,
    private readonly variantNames: readonly string[],
  ) {}

  /** One metric of one variant, from the `AWS/SageMaker` namespace. */
  variant(metricName: string, variantName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/SageMaker',
      metricName,
      dimensionsMap: { EndpointName: this.endpointName, VariantName: variantName },
      ...props,
    });
  }

  /** ModelLatency in milliseconds (SageMaker reports microseconds); the slowest variant's when there are several. */
  latency(props: cloudwatch.MetricOptions = {}): cloudwatch.IMetric {
    return this.combine(
      'ModelLatency',
      'Average',
      props,
      (ids) => (ids.length === 1 ? `${ids[0]} / 1000` : `MAX([${ids.join(', ')}]) / 1000`),
      'ModelLatency (ms)',
    );
  }

  invocations(props: cloudwatch.MetricOptions = {}): cloudwatch.IMetric {
    if (this.variantNames.length === 1) return this.variant('Invocations', this.variantNames[0], { statistic: 'Sum', ...props });
    return this.combine('Invocations', 'Sum', props, (ids) => `SUM([${ids.join(', ')}])`, 'Invocations');
  }

  /** 4xx and 5xx invocation errors, summed over the variants. */
  errors(props: cloudwatch.MetricOptions = {}): cloudwatch.IMetric {
    const usingMetrics: Record<string, cloudwatch.IMetric> = {};
    this.variantNames.forEach((variant, i) => {
      usingMetrics[`e4x${i}`] = this.variant('Invocation4XXErrors', variant, { statistic: 'Sum', ...props });
      usingMetrics[`e5x${i}`] = this.variant('Invocation5XXErrors', variant, { statistic: 'Sum', ...props });
    });
    return new cloudwatch.MathExpression({
      expression: `SUM([${Object.keys(usingMetrics).join(', ')}])`,
      usingMetrics,
      label: 'Invocation errors (4xx + 5xx)',
      period: props.period ?? Duration.minutes(5),
    });
  }

  private combine(
    metricName: string,
    statistic: string,
    props: cloudwatch.MetricOptions,
    expression: (ids: string[]) => string,
    label: string,
  ): cloudwatch.IMetric {
    const usingMetrics: Record<string, cloudwatch.IMetric> = {};
    this.variantNames.forEach((variant, i) => {
      usingMetrics[`m${i}`] = this.variant(metricName, variant, { statistic, ...props });
    });
    return new cloudwatch.MathExpression({
      expression: expression(Object.keys(usingMetrics)),
      usingMetrics,
      label,
      period: props.period ?? Duration.minutes(5),
    });
  }
}

/** What the real-time and serverless endpoint constructs share: invoke rights and metrics. */
export abstract class SageMakerEndpointBase extends Construct implements IModelEndpoint {
  abstract readonly invocation: ModelEndpointInvocation;
  abstract readonly endpoint: sagemaker.CfnEndpoint;
  abstract readonly endpointConfig: sagemaker.CfnEndpointConfig;
  abstract readonly model: sagemaker.CfnModel;
  abstract readonly role: iam.IRole;
  abstract readonly endpointName: string;
  /** The endpoint's ARN. */
  abstract readonly endpointArn: string;
  protected abstract readonly metrics: SageMakerEndpointMetrics;
  /** The IAM actions that invoking this kind of endpoint takes. */
  protected abstract readonly invokeActions: string[];

  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: this.invokeActions, resourceArns: [this.endpointArn] });
  }

  metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.metrics.latency(props);
  }

  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.metrics.invocations(props);
  }

  metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.metrics.errors(props);
  }
}
