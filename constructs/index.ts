export * from './endpoints/model-endpoint';
export * from './endpoints/model-image';
export * from './endpoints/model-data';
export { SageMakerEndpointBase } from './endpoints/sagemaker-endpoint-base';
export * from './endpoints/sagemaker-endpoint';
export * from './endpoints/sagemaker-serverless-endpoint';
export * from './endpoints/lambda-model-function';
export { InvalidPropError } from './endpoints/validation';
export type { SageMakerModelOptions } from './endpoints/sagemaker-model';
