/**
 * The demo model deployed three ways, one stack each. They use only modelsweep's public
 * constructs, exactly as a user's own CDK app would.
 */
import { join } from 'node:path';

import { CfnOutput, Duration, Size, Stack, type StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';

import {
  BenchmarkSweep,
  LambdaModelCode,
  LambdaModelFunction,
  ModelData,
  ModelImage,
  ModelRecommendation,
  SageMakerEndpoint,
  SageMakerServerlessEndpoint,
  SWEEP_STACK_OUTPUTS,
} from '../constructs';
import { DEMO_MODEL } from '../examples/demo-model/demo-model';
import { DEMO_BUILD_DIR } from '../examples/demo-model/generate';
import { builtAssets, PACKAGE_ROOT } from '../lib/build/asset-paths';

/** The Triton image that serves the demo model on GPUs (NVIDIA Triton 24.09, SageMaker build). */
export const TRITON_IMAGE = { repository: 'sagemaker-tritonserver', tag: '24.09-py3' } as const;

/** The demo Lambda function's name, which the weekly sweep spec measures. */
export const DEMO_FUNCTION_NAME = 'modelsweep-demo';

/** The demo model on Lambda (arm64, 2 GB) with modelsweep's ONNX model server and an IAM-auth function URL. */
export class DemoLambdaStack extends Stack {
  readonly model: LambdaModelFunction;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, { description: 'modelsweep demo: the demo ONNX model on AWS Lambda', ...props });
    this.model = new LambdaModelFunction(this, 'DemoModel', {
      code: LambdaModelCode.fromOnnxModel(join(DEMO_BUILD_DIR, 'model.onnx')),
      // What `modelsweep apply` recommended for the demo model, if it was a Lambda configuration.
      ...ModelRecommendation.of(this, DEMO_MODEL.name).lambdaProps({ memorySize: Size.mebibytes(2048), architecture: lambda.Architecture.ARM_64 }),
      functionUrl: true,
      // A fixed name, so sweep specs (examples/sweeps/demo-lambda-weekly.yaml) can name it.
      functionName: DEMO_FUNCTION_NAME,
    });
    new CfnOutput(this, 'FunctionArn', { value: this.model.function.functionArn });
    new CfnOutput(this, 'FunctionUrl', { value: this.model.functionUrl!.url });
  }
}

/** The demo model on a SageMaker serverless endpoint, served by modelsweep's model server image. */
export class DemoServerlessStack extends Stack {
  readonly model: SageMakerServerlessEndpoint;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, { description: 'modelsweep demo: the demo ONNX model on a SageMaker serverless endpoint', ...props });
    this.model = new SageMakerServerlessEndpoint(this, 'DemoModel', {
      image: ModelImage.fromAsset(builtAssets.modelServerImage),
      modelData: ModelData.fromAsset(join(DEMO_BUILD_DIR, 'model.tar.gz')),
      ...ModelRecommendation.of(this, DEMO_MODEL.name).serverlessProps({ memorySize: Size.mebibytes(2048), maxConcurrency: 5 }),
    });
    new CfnOutput(this, 'EndpointName', { value: this.model.endpointName });
  }
}

/** The demo model on a SageMaker real-time endpoint on one GPU (ml.g5.xlarge), served by NVIDIA Triton. */
export class DemoGpuStack extends Stack {
  readonly model: SageMakerEndpoint;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, { description: 'modelsweep demo: the demo ONNX model on a SageMaker GPU endpoint (Triton)', ...props });
    this.model = new SageMakerEndpoint(this, 'DemoModel', {
      image: ModelImage.fromDeepLearningContainer(TRITON_IMAGE.repository, TRITON_IMAGE.tag),
      modelData: ModelData.fromAsset(join(DEMO_BUILD_DIR, 'triton', 'model.tar.gz')),
      environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: DEMO_MODEL.name },
      networkIsolation: true,
      variants: [
        {
          ...ModelRecommendation.of(this, DEMO_MODEL.name).sageMakerVariant({ instanceType: 'ml.g5.xlarge', initialInstanceCount: 1 }),
          autoScaling: { maxCapacity: 2, targetInvocationsPerInstance: 6000, targetGpuUtilizationPercent: 70 },
        },
      ],
    });
    new CfnOutput(this, 'EndpointName', { value: this.model.endpointName });
  }
}

/** The BenchmarkSweep workflow, allowed to measure SageMaker candidates and the demo Lambda function, re-measuring it weekly. */
export class SweepStack extends Stack {
  readonly sweep: BenchmarkSweep;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, { description: 'modelsweep: the BenchmarkSweep workflow (Step Functions, Lambda, DynamoDB, S3, SNS)', ...props });
    this.sweep = new BenchmarkSweep(this, 'Sweep', {
      sageMaker: true,
      lambdaFunctions: [DEMO_FUNCTION_NAME],
      schedules: [
        {
          name: 'demo-lambda-weekly',
          schedule: scheduler.ScheduleExpression.rate(Duration.days(7)),
          specFile: join(PACKAGE_ROOT, 'examples', 'sweeps', 'demo-lambda-weekly.yaml'),
        },
      ],
    });
    new CfnOutput(this, SWEEP_STACK_OUTPUTS.stateMachineArn, { value: this.sweep.stateMachine.stateMachineArn });
    new CfnOutput(this, SWEEP_STACK_OUTPUTS.bucketName, { value: this.sweep.bucket.bucketName });
    new CfnOutput(this, SWEEP_STACK_OUTPUTS.tableName, { value: this.sweep.table.tableName });
    new CfnOutput(this, SWEEP_STACK_OUTPUTS.topicArn, { value: this.sweep.topic.topicArn });
  }
}
