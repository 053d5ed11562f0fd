// The names a BenchmarkSweep stack and its step functions agree on. They live apart from
// cloud-env.ts so that the construct can use them without loading the AWS SDK at synth.

/** The environment variables the BenchmarkSweep construct gives its step functions. */
export const CLOUD_ENV = {
  table: 'MODELSWEEP_TABLE',
  bucket: 'MODELSWEEP_BUCKET',
  topic: 'MODELSWEEP_TOPIC_ARN',
  kinds: 'MODELSWEEP_CANDIDATE_KINDS',
  maxRatePerGenerator: 'MODELSWEEP_MAX_RATE_PER_GENERATOR',
  maxPhaseSeconds: 'MODELSWEEP_MAX_PHASE_SECONDS',
} as const;

/** The outputs a sweep stack gives, which `modelsweep start --stack` reads. */
export const SWEEP_STACK_OUTPUTS = {
  stateMachineArn: 'SweepStateMachineArn',
  bucketName: 'SweepBucketName',
  tableName: 'SweepTableName',
  topicArn: 'SweepTopicArn',
} as const;
