/**
 * How to use modelsweep's constructs in your own CDK app: one stack with the same model served
 * three ways, a stack that sweeps it weekly, and a stack that deploys what the sweep recommended.
 * The README quotes the regions below. The tests synthesize this file from source, and the
 * consumer test (test/package) from the packed package, in fresh CDK apps, so the README's
 * examples cannot rot.
 */
import { App, Duration, Size, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import {
  BenchmarkSweep,
  type IModelEndpoint,
  LambdaModelCode,
  LambdaModelFunction,
  ModelData,
  ModelImage,
  ModelRecommendation,
  SageMakerEndpoint,
  SageMakerServerlessEndpoint,
} from 'modelsweep-constructs';

export interface MyModelsStackProps extends StackProps {
  /** The .onnx file the Lambda function serves. */
  readonly onnxModelPath: string;
}

export class MyModelsStack extends Stack {
  readonly endpoints: IModelEndpoint[];

  constructor(scope: Construct, id: string, props: MyModelsStackProps) {
    super(scope, id, props);
    const models = s3.Bucket.fromBucketName(this, 'Models', 'my-models-bucket');

    // #region sagemaker-endpoint
    const gpu = new SageMakerEndpoint(this, 'Gpu', {
      image: ModelImage.fromDeepLearningContainer('sagemaker-tritonserver', '24.09-py3'),
      modelData: ModelData.fromS3Object(models, 'resnet/triton-repository.tar.gz'),
      environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: 'resnet' },
      variants: [
        {
          variantName: 'Current',
          instanceType: 'ml.g5.xlarge',
          initialWeight: 9,
          autoScaling: { maxCapacity: 4, targetInvocationsPerInstance: 3000, targetGpuUtilizationPercent: 70 },
        },
        // 10% canary on the next GPU generation
        { variantName: 'Canary', instanceType: 'ml.g6.xlarge', initialWeight: 1 },
      ],
      networkIsolation: true,
    });
    // #endregion sagemaker-endpoint

    // #region sagemaker-serverless-endpoint
    const serverless = new SageMakerServerlessEndpoint(this, 'Serverless', {
      image: ModelImage.fromEcrRepository(ecr.Repository.fromRepositoryName(this, 'Server', 'my-model-server'), 'v3'),
      modelData: ModelData.fromS3Prefix(models, 'resnet/onnx/'),
      memorySize: Size.gibibytes(4),
      maxConcurrency: 20,
      provisionedConcurrency: 2,
    });
    // #endregion sagemaker-serverless-endpoint

    // #region lambda-model-function
    const onLambda = new LambdaModelFunction(this, 'Lambda', {
      code: LambdaModelCode.fromOnnxModel(props.onnxModelPath, { threads: 2 }),
      memorySize: Size.mebibytes(3008),
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(10),
      provisionedConcurrency: 1,
      functionUrl: true, // IAM auth only
    });
    // #endregion lambda-model-function

    // #region model-endpoint
    // Every construct is an IModelEndpoint: grant, alarm and sweep them the same way.
    this.endpoints = [gpu, serverless, onLambda];
    const client = new iam.Role(this, 'Client', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    for (const endpoint of this.endpoints) {
      endpoint.grantInvoke(client);
      new cloudwatch.Alarm(this, `${endpoint.node.id}Slow`, {
        metric: endpoint.metricLatency({ statistic: 'p99' }),
        threshold: 200, // milliseconds, for every kind
        evaluationPeriods: 3,
      });
    }
    // #endregion model-endpoint
  }
}

export interface MySweepStackProps extends StackProps {
  /** The sweep spec the weekly schedule starts (a YAML or JSON file, as for `modelsweep sweep`). */
  readonly specFile: string;
}

export class MySweepStack extends Stack {
  readonly sweep: BenchmarkSweep;

  constructor(scope: Construct, id: string, props: MySweepStackProps) {
    super(scope, id, props);
    // #region benchmark-sweep
    this.sweep = new BenchmarkSweep(this, 'Sweep', {
      sageMaker: true, // may create ms-* models/configs/endpoints and pass execution roles to SageMaker
      sageMakerS3Paths: ['s3://my-bucket/modelsweep-async'], // where sagemaker-async and sagemaker-batch-transform candidates keep their objects
      lambdaFunctions: ['resnet-onnx'], // the functions sweeps may measure (each candidate: a version + alias)
      maxConcurrency: 8, // candidates measured at once            @default 4
      maxRatePerGenerator: 200, // above it, a phase runs on N generators  @default 200
      schedules: [{ name: 'weekly', schedule: scheduler.ScheduleExpression.rate(Duration.days(7)), specFile: props.specFile }],
    });
    // #endregion benchmark-sweep
  }
}

export class MyRecommendedModelStack extends Stack {
  readonly model: LambdaModelFunction;

  constructor(scope: Construct, id: string, props: MyModelsStackProps) {
    super(scope, id, props);
    // #region model-recommendation
    // What `modelsweep apply <sweepId>` wrote to cdk.context.json, or these defaults before any sweep.
    const recommended = ModelRecommendation.of(this, 'resnet'); // or (this, 'resnet', RecommendationSource.SSM_PARAMETER)
    this.model = new LambdaModelFunction(this, 'Model', {
      code: LambdaModelCode.fromOnnxModel(props.onnxModelPath),
      ...recommended.lambdaProps({ memorySize: Size.mebibytes(2048), architecture: lambda.Architecture.ARM_64 }),
    });
    // also: recommended.sageMakerVariant({ instanceType, initialInstanceCount }), recommended.serverlessProps({ memorySize, maxConcurrency })
    // #endregion model-recommendation
  }
}

if (require.main === module) {
  const app = new App();
  const onnxModelPath = process.argv[2] ?? 'model.onnx';
  new MyModelsStack(app, 'MyModels', { onnxModelPath });
  new MySweepStack(app, 'MySweep', { specFile: process.argv[3] ?? 'sweeps/resnet.yaml' });
  new MyRecommendedModelStack(app, 'MyRecommendedModel', { onnxModelPath });
  app.synth();
}
