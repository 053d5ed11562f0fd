/**
 * The workflow's Task states, by the handler each runs. The BenchmarkSweep construct names its
 * states with these, the cloud functions export handlers of these names, and the local executor
 * maps each state to its handler by them: one list, so the three cannot drift.
 */
export const SWEEP_TASKS = {
  validate: 'Validate spec',
  planWave: 'Plan next wave',
  budget: 'Check budget',
  deploy: 'Deploy candidate',
  checkReady: 'Check ready',
  warmup: 'Warm up',
  quality: 'Measure quality',
  generate: 'Generate load',
  recordPhase: 'Record phase',
  search: 'Search rate',
  record: 'Record result',
  teardown: 'Tear down',
  teardownAfterFailure: 'Tear down after failure',
  selectAndReport: 'Select and report',
  notify: 'Notify',
} as const;

export type SweepTask = keyof typeof SWEEP_TASKS;

/** Other states the local executor shortens. */
export const WAIT_READY_STATE = 'Wait until ready';
