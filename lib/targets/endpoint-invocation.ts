/**
 * How to invoke a deployed model: what an endpoint construct exposes and what the sweep's
 * target adapters consume. Plain JSON (values may be CloudFormation tokens until deployed).
 */
export type ModelEndpointInvocation =
  | {
      readonly kind: 'sagemaker-realtime';
      readonly endpointName: string;
      readonly region: string;
      /** The production variants behind the endpoint, in declaration order. */
      readonly variantNames: readonly string[];
    }
  | {
      readonly kind: 'sagemaker-serverless';
      readonly endpointName: string;
      readonly region: string;
    }
  | {
      readonly kind: 'sagemaker-async';
      readonly endpointName: string;
      readonly region: string;
      /** Where a caller writes each request (an s3:// prefix ending in `/`); InvokeEndpointAsync names the object. */
      readonly inputLocation: string;
      /** Where SageMaker writes the answers (an s3:// prefix). */
      readonly outputLocation: string;
    }
  | {
      readonly kind: 'lambda';
      /** The function ARN, qualified with the alias when the function has one. */
      readonly functionArn: string;
      readonly region: string;
      /** The function URL, when one was enabled (IAM auth). */
      readonly functionUrl?: string;
    };

export type ModelEndpointKind = ModelEndpointInvocation['kind'];
