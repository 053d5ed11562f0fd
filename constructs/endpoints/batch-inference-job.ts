import { type CfnElement, Duration, RemovalPolicy, Size, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

import { DEFAULT_INSTANCE_TYPE } from './sagemaker-endpoint';
import { SageMakerModel, type SageMakerModelOptions } from './sagemaker-model';
import { checkInteger, checkSageMakerInstanceType, checkSeconds, checkSize, InvalidPropError } from './validation';

/** Where a job's rows are read from: every object under a prefix. */
export interface BatchInput {
  readonly bucket: s3.IBucket;
  readonly prefix: string;
  /** @default 'application/jsonlines' */
  readonly contentType?: string;
  /**
   * How an object is cut into records: by line (JSON Lines, CSV), or not at all.
   * @default tasks.SplitType.LINE
   */
  readonly splitType?: tasks.SplitType;
}

/** Where a job's answers go: one `<object>.out` per input object, under a prefix. */
export interface BatchOutput {
  readonly bucket: s3.IBucket;
  readonly prefix: string;
  /**
   * Encrypts the answers.
   * @default - the bucket's default encryption
   */
  readonly encryptionKey?: kms.IKey;
}

export interface BatchInferenceJobProps extends SageMakerModelOptions {
  /**
   * A SageMaker instance type such as `ml.g5.xlarge`.
   * @default 'ml.m5.large'
   */
  readonly instanceType?: string;
  /** @default 1 */
  readonly instanceCount?: number;
  readonly input: BatchInput;
  readonly output: BatchOutput;
  /**
   * Requests in flight to each instance at once (1-1000), the job's concurrency.
   * @default - SageMaker's own (1 unless the container says otherwise)
   */
  readonly maxConcurrentTransforms?: number;
  /**
   * The largest request body (1-100 MB); with `MultiRecord`, records are packed up to it.
   * @default Size.mebibytes(6)
   */
  readonly maxPayload?: Size;
  /**
   * One record a request, or as many as fit in `maxPayload`: the batch per request.
   * @default tasks.BatchStrategy.MULTI_RECORD
   */
  readonly batchStrategy?: tasks.BatchStrategy;
  /**
   * Run the job on this schedule (EventBridge Scheduler), as well as on demand.
   * @default - on demand only: start an execution of `stateMachine`
   */
  readonly schedule?: scheduler.ScheduleExpression;
  /**
   * The longest a run may take before it is stopped (the transform job with it).
   * @default Duration.hours(24)
   */
  readonly timeout?: Duration;
  /**
   * Encrypts the instances' storage volumes.
   * @default - AWS-managed encryption
   */
  readonly volumeKey?: kms.IKey;
}

/**
 * A batch inference job: a Step Functions state machine that runs a SageMaker Batch Transform job
 * over every object under an S3 prefix and waits for it (`.sync`), on demand or on a schedule.
 * Stopping the execution stops the job. For offline work priced by the instance-hour while it
 * runs (the price lists' `BatchTransform` rate), nothing running in between.
 */
export class BatchInferenceJob extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly model: sagemaker.CfnModel;
  /** The role the transform job runs as: it reads the model, the input prefix, and writes the output prefix. */
  readonly role: iam.IRole;
  readonly instanceType: string;
  readonly instanceCount: number;
  /** Fires when a run fails, times out or is aborted. */
  readonly failedRunsAlarm: cloudwatch.Alarm;
  readonly schedule?: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: BatchInferenceJobProps) {
    super(scope, id);
    this.instanceType = props.instanceType ?? DEFAULT_INSTANCE_TYPE;
    checkSageMakerInstanceType(this, 'instanceType', this.instanceType);
    this.instanceCount = props.instanceCount ?? 1;
    checkInteger(this, 'instanceCount', this.instanceCount, 1, 1000);
    checkInteger(this, 'maxConcurrentTransforms', props.maxConcurrentTransforms, 1, 1000);
    const maxPayloadMb = checkSize(this, 'maxPayload', props.maxPayload ?? Size.mebibytes(6), 'MB', 1, 100);
    const timeoutSeconds = checkSeconds(this, 'timeout', props.timeout, 60, 7 * 86400) ?? 86400;
    const inputPrefix = this.prefix('input.prefix', props.input.prefix);
    const outputPrefix = this.prefix('output.prefix', props.output.prefix);
    if (props.input.bucket === props.output.bucket && !Token.isUnresolved(inputPrefix) && inputPrefix === outputPrefix)
      throw new InvalidPropError(this, 'output.prefix', 'must differ from input.prefix: answers must not be read back as rows');

    const model = new SageMakerModel(this, 'Model', props);
    this.model = model.model;
    this.role = model.role;
    props.input.bucket.grantRead(this.role, `${inputPrefix}/*`);
    props.output.bucket.grantPut(this.role, `${outputPrefix}/*`);
    props.output.encryptionKey?.grantEncrypt(this.role);

    const transform = new tasks.SageMakerCreateTransformJob(this, 'Transform', {
      // One job per execution: the execution's name is unique for the state machine.
      transformJobName: sfn.JsonPath.stringAt('$$.Execution.Name'),
      modelName: this.model.attrModelName,
      // The model's role: without one, aws-cdk-lib would create a role with AmazonSageMakerFullAccess.
      role: this.role,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      transformInput: {
        transformDataSource: {
          s3DataSource: { s3Uri: props.input.bucket.s3UrlForObject(`${inputPrefix}/`), s3DataType: tasks.S3DataType.S3_PREFIX },
        },
        contentType: props.input.contentType ?? 'application/jsonlines',
        splitType: props.input.splitType ?? tasks.SplitType.LINE,
      },
      transformOutput: {
        s3OutputPath: props.output.bucket.s3UrlForObject(`${outputPrefix}/`),
        assembleWith: tasks.AssembleWith.LINE,
        ...(props.output.encryptionKey ? { encryptionKey: props.output.encryptionKey } : {}),
      },
      transformResources: {
        instanceCount: this.instanceCount,
        instanceType: new ec2.InstanceType(this.instanceType.replace(/^ml\./, '')),
        ...(props.volumeKey ? { volumeEncryptionKey: props.volumeKey } : {}),
      },
      batchStrategy: props.batchStrategy ?? tasks.BatchStrategy.MULTI_RECORD,
      ...(props.maxConcurrentTransforms !== undefined ? { maxConcurrentTransforms: props.maxConcurrentTransforms } : {}),
      maxPayload: Size.mebibytes(maxPayloadMb!),
    });

    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: `modelsweep batch inference: a SageMaker transform job over ${inputPrefix}/`,
      definitionBody: sfn.DefinitionBody.fromChainable(transform),
      timeout: Duration.seconds(timeoutSeconds),
      logs: { destination: executionLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    this.failedRunsAlarm = new cloudwatch.Alarm(this, 'FailedRuns', {
      alarmDescription: `${this.node.path}: a batch inference run failed, timed out or was aborted`,
      metric: new cloudwatch.MathExpression({
        expression: 'failed + timedOut + aborted',
        usingMetrics: {
          failed: this.stateMachine.metricFailed({ statistic: cloudwatch.Stats.SUM }),
          timedOut: this.stateMachine.metricTimedOut({ statistic: cloudwatch.Stats.SUM }),
          aborted: this.stateMachine.metricAborted({ statistic: cloudwatch.Stats.SUM }),
        },
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.schedule)
      this.schedule = new scheduler.Schedule(this, 'Schedule', {
        schedule: props.schedule,
        description: `modelsweep batch inference: ${this.node.path}`,
        target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {}),
      });
    this.acknowledgeFindings(props);
  }

  /** Lets `grantee` start a run (and see how it went). */
  grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    this.stateMachine.grantRead(grantee);
    return this.stateMachine.grantStartExecution(grantee);
  }

  private prefix(prop: string, value: string): string {
    const trimmed = value.replace(/^\/+|\/+$/g, '');
    if (!Token.isUnresolved(trimmed) && !/^[\w!\-.*'()/]{1,512}$/.test(trimmed))
      throw new InvalidPropError(this, prop, `must be a key prefix of letters, digits and !-_.*'()/, got ${JSON.stringify(value)}`);
    return trimmed;
  }

  /** The wildcards of aws-cdk-lib's grants and of its transform-job task, reasoned once here for cdk-nag. */
  private acknowledgeFindings(props: BatchInferenceJobProps): void {
    const acknowledge = (scope: Construct | iam.IRole, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason });
    const grants = "aws-cdk-lib's grantRead on the input prefix and grantPut on the output prefix, nothing else in either bucket.";
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*']) acknowledge(this.role, `Action::${action}`, grants);
    for (const [bucket, prefix] of [
      [props.input.bucket, this.prefix('input.prefix', props.input.prefix)],
      [props.output.bucket, this.prefix('output.prefix', props.output.prefix)],
    ] as const) {
      const cfn = bucket.node.defaultChild as CfnElement | undefined;
      const arn = cfn ? `<${Stack.of(cfn).getLogicalId(cfn)}.Arn>` : Token.isUnresolved(bucket.bucketArn) ? undefined : bucket.bucketArn;
      if (arn) acknowledge(this.role, `Resource::${arn}/${prefix}/*`, grants);
    }
    if (props.output.encryptionKey)
      acknowledge(
        this.role,
        'Action::kms:GenerateDataKey*',
        "aws-cdk-lib's grantEncrypt on the output key: encrypting needs data keys of that key alone.",
      );
    const task =
      "aws-cdk-lib's SageMakerCreateTransformJob task: a job's name is its execution's, known only at run time (transform-job/*); ListTags and X-Ray accept no narrower resource.";
    const { region, account } = Stack.of(this);
    const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    acknowledge(
      this.stateMachine,
      `Resource::arn:<AWS::Partition>:sagemaker:${shown(region, 'Region')}:${shown(account, 'AccountId')}:transform-job/*`,
      task,
    );
    acknowledge(this.stateMachine, 'Resource::*', task);
  }
}
