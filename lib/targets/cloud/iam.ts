import { s3Location } from './s3-location';

// The statements live apart from the adapters so that the BenchmarkSweep construct can attach them
// without loading the AWS SDK at synth.

/** One IAM policy statement, as the workflow construct will attach it to the role that runs a sweep. */
export interface IamStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: string[];
  readonly Resource: string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/**
 * Reading the AWS Price List at the start of each sweep (the Query API, served from us-east-1).
 * GetProducts has no resource to scope it to.
 */
export function priceListIamStatements(): IamStatement[] {
  return [{ Sid: 'ModelsweepPriceList', Effect: 'Allow', Action: ['pricing:GetProducts'], Resource: ['*'] }];
}

/** IAM statements the SageMaker adapters need, scoped to the names the sweep gives its resources. */
export function sageMakerIamStatements(account = '*', region = '*'): IamStatement[] {
  const arn = (type: string) => `arn:aws:sagemaker:${region}:${account}:${type}/ms-*`;
  return [
    {
      Sid: 'ModelsweepSageMakerLifecycle',
      Effect: 'Allow',
      Action: [
        'sagemaker:CreateModel',
        'sagemaker:DeleteModel',
        'sagemaker:CreateEndpointConfig',
        'sagemaker:DeleteEndpointConfig',
        'sagemaker:DescribeEndpointConfig',
        'sagemaker:CreateEndpoint',
        'sagemaker:DeleteEndpoint',
        'sagemaker:DescribeEndpoint',
        'sagemaker:InvokeEndpoint',
        'sagemaker:InvokeEndpointAsync',
        'sagemaker:CreateTransformJob',
        'sagemaker:DescribeTransformJob',
        'sagemaker:StopTransformJob',
        'sagemaker:AddTags',
        'sagemaker:ListTags',
      ],
      Resource: [arn('model'), arn('endpoint-config'), arn('endpoint'), arn('transform-job')],
    },
    // Listing cannot be scoped to resources; the janitor needs it to find what a sweep left.
    {
      Sid: 'ModelsweepSageMakerList',
      Effect: 'Allow',
      Action: ['sagemaker:ListEndpoints', 'sagemaker:ListEndpointConfigs', 'sagemaker:ListModels', 'sagemaker:ListTransformJobs'],
      Resource: ['*'],
    },
    { Sid: 'ModelsweepSageMakerMetrics', Effect: 'Allow', Action: ['cloudwatch:GetMetricData'], Resource: ['*'] },
    // SageMaker must be allowed to assume the execution role named in the spec.
    {
      Sid: 'ModelsweepPassExecutionRole',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: ['*'],
      Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
    },
  ];
}

/**
 * What asynchronous and transform candidates need in S3: writing requests and samples, reading answers and emptying each
 * candidate's folder, under the `s3Path`s given (s3://bucket/prefix) and nowhere else.
 */
export function sageMakerS3IamStatements(s3Paths: readonly string[]): IamStatement[] {
  const places = s3Paths.map((path) => {
    const { bucket, key } = s3Location(path);
    return { bucket, prefix: key };
  });
  const under = (prefix: string) => (prefix ? `${prefix}/*` : '*');
  return [
    {
      Sid: 'ModelsweepSageMakerFolderObjects',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
      Resource: places.map((p) => `arn:aws:s3:::${p.bucket}/${under(p.prefix)}`),
    },
    ...places.map((p, i) => ({
      Sid: `ModelsweepSageMakerFolderList${i}`,
      Effect: 'Allow' as const,
      Action: ['s3:ListBucket'],
      Resource: [`arn:aws:s3:::${p.bucket}`],
      ...(p.prefix ? { Condition: { StringLike: { 's3:prefix': [`${p.prefix}/*`] } } } : {}),
    })),
  ];
}

/** IAM statements the Lambda adapter needs, scoped to the functions a sweep measures (and their versions and aliases). */
export function lambdaIamStatements(functionNames: readonly string[], account = '*', region = '*'): IamStatement[] {
  const arns = functionNames.flatMap((name) => [
    `arn:aws:lambda:${region}:${account}:function:${name}`,
    `arn:aws:lambda:${region}:${account}:function:${name}:*`,
  ]);
  return [
    {
      Sid: 'ModelsweepLambdaCandidates',
      Effect: 'Allow',
      Action: [
        'lambda:GetFunction',
        'lambda:GetFunctionConfiguration',
        'lambda:UpdateFunctionCode',
        'lambda:UpdateFunctionConfiguration',
        'lambda:PublishVersion',
        'lambda:CreateAlias',
        'lambda:DeleteAlias',
        'lambda:DeleteFunction',
        'lambda:InvokeFunction',
        'lambda:TagResource',
        'lambda:UntagResource',
        'lambda:ListTags',
        'lambda:ListAliases',
        'lambda:ListVersionsByFunction',
      ],
      Resource: arns,
    },
    // The janitor lists functions to find what a sweep left; listing cannot be scoped.
    { Sid: 'ModelsweepLambdaList', Effect: 'Allow', Action: ['lambda:ListFunctions'], Resource: ['*'] },
  ];
}
