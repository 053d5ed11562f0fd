import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { type CfnElement, Duration, RemovalPolicy, Size, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

import { builtAssets, requireBuiltAsset } from '../../lib/build/asset-paths';
import { PriceBook, specPrices } from '../../lib/cost/price-book';
import { loadSpecFile, SpecError } from '../../lib/spec/load-spec';
import { RESULTS_TABLE } from '../../lib/store/table';
import {
  type IamStatement,
  lambdaIamStatements,
  priceListIamStatements,
  sageMakerIamStatements,
  sageMakerS3IamStatements,
} from '../../lib/targets/cloud/iam';
import { firstNotInCloud } from '../../lib/targets/kind-rules';
import { CLOUD_ENV } from '../../lib/workflow/cloud-names';
import { stagedSpecFiles } from '../../lib/workflow/stage-spec';
import { SWEEP_TASKS, type SweepTask } from '../../lib/workflow/task-names';
import { checkInteger, InvalidPropError } from '../endpoints/validation';
import { STEP_TIMEOUT_SECONDS, sweepDefinition } from './sweep-definition';

/** A sweep re-run on a schedule, from a spec stored in the sweep's bucket. */
export interface SweepSchedule {
  /** Names the schedule and where its spec is stored (`schedules/<name>/`): lowercase letters, digits, hyphens. */
  readonly name: string;
  /** When to run, e.g. `ScheduleExpression.rate(Duration.days(7))` or a cron expression. */
  readonly schedule: scheduler.ScheduleExpression;
  /** The sweep spec (YAML or JSON), validated at synth and stored with its payloads at deploy. */
  readonly specFile: string;
  /** @default 'modelsweep: <name>' */
  readonly description?: string;
}

export interface BenchmarkSweepProps {
  /**
   * Candidates measured at once (Lambda candidates of one function always take turns). An
   * execution may ask for fewer or more with `maxConcurrency` in its input.
   * @default 4
   */
  readonly maxConcurrency?: number;
  /**
   * Let sweeps create SageMaker models, endpoint configs, endpoints and transform jobs named
   * `ms-*`, invoke them, read their metrics, and pass execution roles to SageMaker.
   * @default false
   */
  readonly sageMaker?: boolean;
  /**
   * Where `sagemaker-async` candidates may keep their requests and answers, and
   * `sagemaker-batch-transform` candidates their samples and outputs (their specs' `s3Path`, as
   * s3://bucket/prefix): sweeps may write, read, list and delete objects there and nowhere else.
   * Needs `sageMaker`.
   * @default - none: sagemaker-async and sagemaker-batch-transform candidates are refused
   */
  readonly sageMakerS3Paths?: readonly string[];
  /**
   * Names of Lambda functions that sweeps may measure (a sweep publishes a version and an alias of
   * each candidate, changing $LATEST only briefly and restoring it).
   * @default - none: lambda candidates are refused
   */
  readonly lambdaFunctions?: readonly string[];
  /**
   * Above this open-loop rate, a phase is run by several load-generator invocations side by side
   * whose histograms are merged exactly.
   * @default 200
   */
  readonly maxRatePerGenerator?: number;
  /**
   * Memory of the load-generator functions (CPU grows with it; 1769 MB is one full vCPU).
   * @default Size.mebibytes(1769)
   */
  readonly generatorMemorySize?: Size;
  /** Sweeps to re-run periodically; each notifies the topic when its recommendation changes. @default - none */
  readonly schedules?: readonly SweepSchedule[];
  /** Where finished sweeps and failed executions are announced. @default - a new topic, encrypted with a new key */
  readonly topic?: sns.ITopic;
  /** What happens to the results table and bucket when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** The steps that run load, or hold the quality dataset (up to 64 MiB) and its answers, and so need the generator's memory (CPU). */
const LOAD_STEPS: ReadonlySet<SweepTask> = new Set(['warmup', 'quality', 'generate', 'search']);
/** The longest phase one load step may run: Lambda's 15 minutes, less time for setup and recording. */
const MAX_PHASE_SECONDS = 600;

/**
 * The modelsweep workflow in the cloud: a Step Functions state machine that deploys each
 * candidate, load-tests it from Lambda, records the results in DynamoDB, always tears it down,
 * then selects, writes the report to S3 and notifies SNS. Start sweeps with `modelsweep start`,
 * or on a schedule.
 */
export class BenchmarkSweep extends Construct {
  /** Sweeps, candidate results and selections (the table `lib/store` defines). */
  readonly table: dynamodb.Table;
  /** Staged specs and payloads (`sweeps/`, `schedules/`) and reports (`reports/<sweepId>/`). */
  readonly bucket: s3.Bucket;
  readonly topic: sns.ITopic;
  readonly stateMachine: sfn.StateMachine;
  /** The function of each step. */
  readonly functions: Readonly<Record<SweepTask, lambda.Function>>;
  /** Fires when an execution fails. */
  readonly failedExecutionsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BenchmarkSweepProps = {}) {
    super(scope, id);
    const maxConcurrency = props.maxConcurrency ?? 4;
    checkInteger(this, 'maxConcurrency', maxConcurrency, 1, 40);
    const maxRate = props.maxRatePerGenerator ?? 200;
    if (!(maxRate > 0)) throw new InvalidPropError(this, 'maxRatePerGenerator', `must be above 0, got ${maxRate}`);
    const generatorMb = (props.generatorMemorySize ?? Size.mebibytes(1769)).toMebibytes();
    checkInteger(this, 'generatorMemorySize', generatorMb, 128, 10240);
    const lambdaFunctions = props.lambdaFunctions ?? [];
    lambdaFunctions.forEach((name, i) => {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
        throw new InvalidPropError(
          this,
          `lambdaFunctions[${i}]`,
          `must be a function name (letters, digits, - and _; at most 64), got ${JSON.stringify(name)}`,
        );
    });
    const s3Paths = props.sageMakerS3Paths ?? [];
    s3Paths.forEach((path, i) => {
      if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s*]*)?$/.test(path))
        throw new InvalidPropError(this, `sageMakerS3Paths[${i}]`, `must be an s3://bucket/prefix URL, got ${JSON.stringify(path)}`);
    });
    if (s3Paths.length > 0 && !props.sageMaker)
      throw new InvalidPropError(
        this,
        'sageMakerS3Paths',
        'needs sageMaker: true (asynchronous and batch transform candidates run SageMaker models)',
      );
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.table = new dynamodb.Table(this, 'Results', {
      partitionKey: { name: RESULTS_TABLE.partitionKey.name, type: dynamodb.AttributeType.STRING },
      sortKey: { name: RESULTS_TABLE.sortKey.name, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
    });
    for (const index of RESULTS_TABLE.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey.name, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey.name, type: dynamodb.AttributeType.STRING },
      });
    }

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'sweeps/',
      versioned: true,
      removalPolicy,
    });

    if (props.topic) this.topic = props.topic;
    else {
      const key = new kms.Key(this, 'TopicKey', { enableKeyRotation: true, description: 'modelsweep sweep notifications', removalPolicy });
      // CloudWatch alarms publish to the topic, so they must be able to use its key.
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      this.topic = new sns.Topic(this, 'Topic', { masterKey: key, enforceSSL: true, displayName: 'modelsweep sweeps' });
    }

    // One role for the steps: the table, the bucket, and exactly the adapters' own statements.
    const role = new iam.Role(this, 'StepRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'modelsweep sweep steps',
    });
    this.table.grantReadWriteData(role);
    this.bucket.grantReadWrite(role);
    this.topic.grantPublish(role);
    const { account, region } = Stack.of(this);
    const statements: IamStatement[] = [
      ...(props.sageMaker ? sageMakerIamStatements(account, region) : []),
      ...(s3Paths.length > 0 ? sageMakerS3IamStatements(s3Paths) : []),
      ...(lambdaFunctions.length > 0 ? lambdaIamStatements(lambdaFunctions, account, region) : []),
      // Candidates priced by AWS are priced from the Price List at each sweep's start.
      ...(props.sageMaker || lambdaFunctions.length > 0 ? priceListIamStatements() : []),
    ];
    for (const statement of statements) role.addToPolicy(iam.PolicyStatement.fromJson(statement));
    const kinds = [
      'http',
      ...(props.sageMaker ? ['sagemaker-realtime', 'sagemaker-serverless'] : []),
      ...(s3Paths.length > 0 ? ['sagemaker-async', 'sagemaker-batch-transform'] : []),
      ...(lambdaFunctions.length > 0 ? ['lambda'] : []),
    ];

    const code = lambda.Code.fromAsset(requireBuiltAsset(builtAssets.sweepFunctions, 'The sweep step functions bundle'));
    const environment = {
      [CLOUD_ENV.table]: this.table.tableName,
      [CLOUD_ENV.bucket]: this.bucket.bucketName,
      [CLOUD_ENV.topic]: this.topic.topicArn,
      [CLOUD_ENV.kinds]: kinds.join(','),
      [CLOUD_ENV.maxRatePerGenerator]: String(maxRate),
      [CLOUD_ENV.maxPhaseSeconds]: String(MAX_PHASE_SECONDS),
      POWERTOOLS_SERVICE_NAME: 'modelsweep-sweep',
    };
    const functions = {} as Record<SweepTask, lambda.Function>;
    for (const step of Object.keys(SWEEP_TASKS) as SweepTask[]) {
      const logGroup = new logs.LogGroup(this, `${step}Logs`, { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
      logGroup.grantWrite(role);
      functions[step] = new lambda.Function(this, `${step}Function`, {
        description: `modelsweep sweep step: ${SWEEP_TASKS[step]}`,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        code,
        handler: `index.${step}`,
        role,
        logGroup,
        environment,
        timeout: Duration.seconds(STEP_TIMEOUT_SECONDS[step]),
        memorySize: LOAD_STEPS.has(step) ? generatorMb : 512,
        tracing: lambda.Tracing.ACTIVE,
        loggingFormat: lambda.LoggingFormat.JSON,
      });
    }
    this.functions = functions;

    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'modelsweep: deploy, load-test, record and tear down each candidate, then select, report and notify',
      definitionBody: sfn.DefinitionBody.fromChainable(sweepDefinition(this, { functions, defaultMaxConcurrency: maxConcurrency })),
      logs: { destination: executionLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });

    this.failedExecutionsAlarm = new cloudwatch.Alarm(this, 'FailedExecutions', {
      alarmDescription: 'A modelsweep sweep execution failed (every candidate failed, or a step could not run)',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failedExecutionsAlarm.addAlarmAction(new cwActions.SnsAction(this.topic));

    this.acknowledgeFindings(role, statements);
    this.addSchedules(props.schedules ?? []);
  }

  /**
   * The wildcards cdk-nag finds, each reasoned once here so that apps using the construct need
   * not: they come from aws-cdk-lib's own grants (scoped to this construct's resources) and from
   * the adapters' statements (scoped to the names a sweep gives what it creates).
   */
  private acknowledgeFindings(role: iam.Role, statements: readonly IamStatement[]): void {
    const arnOf = (resource: Construct) => `<${Stack.of(this).getLogicalId(resource.node.defaultChild as CfnElement)}.Arn>`;
    const acknowledge = (scope: Construct, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason });
    const bucketReason =
      "aws-cdk-lib's grantReadWrite on the sweep's own bucket: the steps read and write staged specs, payloads and reports under any key in it.";
    for (const action of ['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'])
      acknowledge(role, `Action::${action}`, bucketReason);
    acknowledge(role, `Resource::${arnOf(this.bucket)}/*`, bucketReason);
    acknowledge(
      role,
      `Resource::${arnOf(this.table)}/index/*`,
      "aws-cdk-lib's grantReadWriteData on the results table: its indexes (the model history index) are queried.",
    );
    acknowledge(
      role,
      'Action::kms:GenerateDataKey*',
      "aws-cdk-lib's grantPublish on the encrypted topic: publishing needs data keys of the topic's own key.",
    );
    acknowledge(
      role,
      'Resource::*',
      'X-Ray tracing (PutTraceSegments/PutTelemetryRecords) and, where enabled, reading the AWS Price List (pricing:GetProducts), listing SageMaker resources, reading CloudWatch metrics and passing execution roles to SageMaker (conditioned on sagemaker.amazonaws.com) support no narrower resource.',
    );
    for (const resource of new Set(statements.flatMap((s) => s.Resource).filter((r) => r.includes('*') && r !== '*'))) {
      acknowledge(
        role,
        `Resource::${this.asNagShowsIt(resource)}`,
        'Scoped to what sweeps create (SageMaker resources named ms-*), to the versions and aliases of the Lambda functions named in lambdaFunctions, or to the objects under the S3 folders named in sageMakerS3Paths.',
      );
    }
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing of the state machine (PutTraceSegments, GetSamplingRules…) supports no narrower resource.',
    });
    for (const fn of Object.values(this.functions)) {
      acknowledge(
        this.stateMachine,
        `Resource::${arnOf(fn)}:*`,
        "aws-cdk-lib's LambdaInvoke grant: the state machine invokes the step function and its versions.",
      );
    }
  }

  /** A resource string with the stack's account and region as cdk-nag prints them: literal, or as pseudo parameters. */
  private asNagShowsIt(resource: string): string {
    const { account, region } = Stack.of(this);
    let shown = resource;
    if (Token.isUnresolved(account)) shown = shown.split(account).join('<AWS::AccountId>');
    if (Token.isUnresolved(region)) shown = shown.split(region).join('<AWS::Region>');
    return shown;
  }

  private addSchedules(schedules: readonly SweepSchedule[]): void {
    if (schedules.length === 0) return;
    const staging = mkdtempSync(join(tmpdir(), 'modelsweep-schedules-'));
    const seen = new Set<string>();
    const specKeys = schedules.map((s, i) => {
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(s.name))
        throw new InvalidPropError(this, `schedules[${i}].name`, `must be 1-63 lowercase letters, digits and hyphens, got ${JSON.stringify(s.name)}`);
      if (seen.has(s.name)) throw new InvalidPropError(this, `schedules[${i}].name`, `"${s.name}" is used by another schedule`);
      seen.add(s.name);
      let loaded;
      try {
        // Selections are checked against the bundled prices here; each run resolves them again with the prices it has.
        loaded = loadSpecFile(s.specFile, { catalogPrices: (spec) => specPrices(spec, PriceBook.snapshot()) });
      } catch (error) {
        if (error instanceof SpecError)
          throw new InvalidPropError(this, `schedules[${i}].specFile`, `is not a valid sweep spec: ${error.message}`, { cause: error });
        throw error;
      }
      const notInCloud = firstNotInCloud(loaded.candidates);
      if (notInCloud) {
        const { candidate, why } = notInCloud;
        throw new InvalidPropError(
          this,
          `schedules[${i}].specFile`,
          `has ${candidate.kind} candidates (${candidate.id}), which the cloud workflow cannot run: ${why}`,
        );
      }
      const { specKey, files } = stagedSpecFiles(loaded, `schedules/${s.name}`, { where: 'cloud' });
      for (const file of files) {
        mkdirSync(dirname(join(staging, file.key)), { recursive: true });
        writeFileSync(join(staging, file.key), file.body);
      }
      return specKey;
    });
    // Only what is staged here is written; reports and other specs in the bucket stay.
    const specs = new s3deploy.BucketDeployment(this, 'ScheduledSpecs', {
      sources: [s3deploy.Source.asset(staging)],
      destinationBucket: this.bucket,
      prune: false,
      retainOnDelete: false,
    });
    // aws-cdk-lib's BucketDeployment brings its own function and role; what cdk-nag finds there is its design.
    const handler = specs.handlerRole.node.scope as Construct;
    Validations.of(handler).acknowledge({ id: 'AwsSolutions-L1', reason: "aws-cdk-lib's BucketDeployment chooses its handler's Python runtime." });
    Validations.of(handler).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "aws-cdk-lib's BucketDeployment handler logs with the basic execution role.",
    });
    Validations.of(handler).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: "aws-cdk-lib's BucketDeployment handler." });
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*']) {
      Validations.of(handler).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: "aws-cdk-lib's BucketDeployment copies the staged specs from the CDK asset bucket into the sweep's bucket.",
      });
    }
    const { account, region } = Stack.of(this);
    Validations.of(handler).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-${this.asNagShowsIt(`${account}-${region}`)}/*]`,
      reason: "aws-cdk-lib's BucketDeployment reads the staged specs' asset from the CDK bootstrap bucket.",
    });
    Validations.of(handler).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${`<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>`}/*]`,
      reason: "aws-cdk-lib's BucketDeployment writes the staged specs into the sweep's bucket.",
    });
    schedules.forEach((s, i) => {
      const schedule = new scheduler.Schedule(this, `Schedule-${s.name}`, {
        schedule: s.schedule,
        description: s.description ?? `modelsweep: ${s.name}`,
        target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject({ specKey: specKeys[i] }),
        }),
      });
      schedule.node.addDependency(specs);
    });
  }
}
