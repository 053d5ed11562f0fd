import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

import type { ModelEndpointInvocation } from '../../lib/targets/endpoint-invocation';

export type { ModelEndpointInvocation, ModelEndpointKind } from '../../lib/targets/endpoint-invocation';

/**
 * A deployed model that can be invoked, whatever serves it: a SageMaker real-time endpoint, a
 * SageMaker serverless endpoint or a Lambda function. The sweep drives every kind through this.
 */
export interface IModelEndpoint extends IConstruct {
  /** How to invoke the model: the kind plus endpoint name or function ARN. */
  readonly invocation: ModelEndpointInvocation;

  /** Lets `grantee` invoke the model. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant;

  /** Time the model took to answer, in milliseconds for every kind. @default statistic Average, period 5 minutes */
  metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.IMetric;

  /** Number of invocations. @default statistic Sum, period 5 minutes */
  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.IMetric;

  /** Number of invocations that did not return a result (4xx and 5xx, or function errors). @default statistic Sum, period 5 minutes */
  metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.IMetric;
}
