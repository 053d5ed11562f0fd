import { Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

import { SWEEP_TASKS, type SweepTask, WAIT_READY_STATE } from '../../lib/workflow/task-names';

/** How long each step's function may run, in seconds: load steps run one phase (at most 10 min). */
export const STEP_TIMEOUT_SECONDS: Record<SweepTask, number> = {
  validate: 120,
  planWave: 300,
  budget: 60,
  deploy: 900,
  checkReady: 900,
  warmup: 900,
  quality: 900,
  generate: 900,
  recordPhase: 60,
  search: 900,
  record: 900,
  teardown: 900,
  teardownAfterFailure: 900,
  selectAndReport: 300,
  notify: 60,
};

/** Errors a step is retried on: the platform's throttling and Lambda's own hiccups. */
const THROTTLING = ['Lambda.TooManyRequestsException', 'ThrottlingException', 'TooManyRequestsException', 'ProvisionedThroughputExceededException'];

export interface SweepDefinitionProps {
  /** The function that runs each step. */
  readonly functions: Readonly<Record<SweepTask, lambda.IFunction>>;
  /** Candidates (lanes) measured at once unless an execution asks for another number. */
  readonly defaultMaxConcurrency: number;
}

/**
 * The sweep's states: validate → plan a wave → Map over its lanes (bounded concurrency) → Map
 * over a lane's candidates one at a time → plan the next wave, until none is left → select and
 * report → notify → fail if nothing was measured. A candidate: budget → deploy → ready loop →
 * warmup → phases (each a Map of generators, merged) → rate search loop → record → teardown,
 * every failure caught and sent to teardown and a failure record.
 */
export function sweepDefinition(scope: Construct, props: SweepDefinitionProps): sfn.IChainable {
  /** A step's Task state; with payload 'state' the function gets the whole state as its event. */
  const task = (name: SweepTask, payload: Record<string, unknown> | 'state', resultPath: string | undefined) => {
    const state = new tasks.LambdaInvoke(scope, SWEEP_TASKS[name], {
      lambdaFunction: props.functions[name],
      payloadResponseOnly: true,
      ...(payload === 'state' ? {} : { payload: sfn.TaskInput.fromObject(payload) }),
      // "$" is the default and is left out: aws-local-stepfunctions 3.0 writes a result at "$" under a key named "$".
      ...(resultPath === '$' ? {} : { resultPath: resultPath ?? sfn.JsonPath.DISCARD }),
      taskTimeout: sfn.Timeout.duration(Duration.seconds(STEP_TIMEOUT_SECONDS[name])),
    });
    state.addRetry({ errors: THROTTLING, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 6, jitterStrategy: sfn.JitterType.FULL });
    return state;
  };
  const candidate = { 'sweepId.$': '$.sweepId', 'candidate.$': '$.candidate' };
  const deployed = { ...candidate, 'deployment.$': '$.deployment' };

  const validate = task('validate', { 'request.$': '$', defaultMaxConcurrency: props.defaultMaxConcurrency }, '$');

  // One candidate, from its budget check to its teardown. Each branch ends with a small output
  // (its status), so a sweep of many candidates stays far from the 256 KB state limit.
  // The whole state: a failure before deploy has no $.deployment, which a path would require.
  const teardownAfterFailure = task('teardownAfterFailure', 'state', '$');
  teardownAfterFailure.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 3 });
  const onFailure = <T extends sfn.TaskStateBase | sfn.Map>(state: T): T => {
    state.addCatch(teardownAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    return state;
  };
  const budget = task('budget', { ...candidate, 'position.$': '$.position' }, '$.budget');
  const deploy = task('deploy', candidate, '$.deployment');
  const checkReady = task('checkReady', deployed, '$.ready');
  const waitReady = new sfn.Wait(scope, WAIT_READY_STATE, { time: sfn.WaitTime.secondsPath('$.ready.waitSeconds') });
  const warmup = task('warmup', deployed, '$.warm');
  const quality = task('quality', deployed, '$.quality');
  const generators = new sfn.Map(scope, 'Run generators', {
    itemsPath: '$.shards',
    itemSelector: { ...deployed, 'phase.$': '$.phase', 'shard.$': '$$.Map.Item.Value.shard', 'of.$': '$$.Map.Item.Value.of' },
    resultPath: '$.results',
    // The item selector already builds the generator's event.
  }).itemProcessor(task('generate', 'state', '$'));
  const phases = new sfn.Map(scope, 'Run phases', {
    itemsPath: '$.warm.phases',
    maxConcurrency: 1,
    itemSelector: { ...deployed, 'phase.$': '$$.Map.Item.Value.phase', 'shards.$': '$$.Map.Item.Value.shards' },
    resultPath: sfn.JsonPath.DISCARD,
  }).itemProcessor(generators.next(task('recordPhase', { ...candidate, 'phase.$': '$.phase', 'results.$': '$.results' }, undefined)));
  const search = task('search', { ...deployed, 'search.$': '$.warm.search' }, '$.warm.search');
  const record = task('record', { ...deployed, 'warm.$': '$.warm', 'quality.$': '$.quality' }, '$.result');
  const teardown = onFailure(task('teardown', deployed, '$'));
  const searching = new sfn.Choice(scope, 'Search done?')
    .when(sfn.Condition.booleanEquals('$.warm.search.done', false), onFailure(search))
    .otherwise(onFailure(record).next(teardown));
  search.next(searching);
  const ready = new sfn.Choice(scope, 'Ready?')
    .when(sfn.Condition.booleanEquals('$.ready.ready', true), onFailure(warmup).next(onFailure(quality)).next(onFailure(phases)).next(searching))
    .otherwise(waitReady.next(checkReady));
  const candidateBranch = onFailure(budget).next(
    new sfn.Choice(scope, 'Within budget?')
      .when(sfn.Condition.booleanEquals('$.budget.approved', true), onFailure(deploy).next(onFailure(checkReady)).next(ready))
      .otherwise(new sfn.Succeed(scope, 'Refused', { outputPath: '$.budget' })),
  );

  // Waves: plan (judge what is recorded, skip what cannot win, pick the next candidates, cheapest
  // possible first) → measure them side by side → plan again, until nothing is left.
  const planWave = task('planWave', { 'sweepId.$': '$.sweepId', 'maxConcurrency.$': '$.maxConcurrency' }, '$.wave');
  const lanes = new sfn.Map(scope, 'Measure lanes', {
    itemsPath: '$.wave.lanes',
    maxConcurrencyPath: '$.maxConcurrency',
    itemSelector: { 'candidates.$': '$$.Map.Item.Value.candidates' },
    resultPath: sfn.JsonPath.DISCARD,
  }).itemProcessor(new sfn.Map(scope, 'Measure candidates', { itemsPath: '$.candidates', maxConcurrency: 1 }).itemProcessor(candidateBranch));
  const selectAndReport = task('selectAndReport', { 'sweepId.$': '$.sweepId' }, '$');
  lanes.addCatch(selectAndReport, { errors: [sfn.Errors.ALL], resultPath: '$.lanesError' });
  planWave.addCatch(selectAndReport, { errors: [sfn.Errors.ALL], resultPath: '$.planError' });
  const notify = task('notify', 'state', '$');
  selectAndReport
    .next(notify)
    .next(
      new sfn.Choice(scope, 'Anything measured?')
        .when(
          sfn.Condition.stringEquals('$.status', 'failed'),
          new sfn.Fail(scope, 'Sweep failed', { error: 'NoCandidateMeasured', causePath: '$.reason' }),
        )
        .otherwise(new sfn.Succeed(scope, 'Sweep succeeded')),
    );
  lanes.next(planWave);
  return validate
    .next(planWave)
    .next(new sfn.Choice(scope, 'More to measure?').when(sfn.Condition.booleanEquals('$.wave.done', false), lanes).otherwise(selectAndReport));
}

/**
 * The definition as plain Amazon States Language, with each function's ARN as given: for the
 * local executor, which maps every Task state to its handler by name.
 */
export function renderSweepDefinition(defaultMaxConcurrency = 1): Record<string, unknown> {
  const stack = new Stack(undefined, 'Render', { env: { account: '123456789012', region: 'us-east-1' } });
  const functions = Object.fromEntries(
    (Object.keys(SWEEP_TASKS) as SweepTask[]).map((name) => [
      name,
      lambda.Function.fromFunctionArn(stack, `fn-${name}`, `arn:aws:lambda:us-east-1:123456789012:function:modelsweep-${name}`),
    ]),
  ) as Record<SweepTask, lambda.IFunction>;
  const start = sweepDefinition(stack, { functions, defaultMaxConcurrency });
  return stack.resolve(new sfn.StateGraph(start.startState, 'sweep').toGraphJson()) as Record<string, unknown>;
}
