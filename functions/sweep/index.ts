/**
 * The BenchmarkSweep's step functions: one bundle, one exported handler per Task state (the
 * construct points each function at `index.<step>`). Thin: the steps are in lib/workflow.
 */
import { Logger } from '@aws-lambda-powertools/logger';

import { cloudWorkflowEnv } from '../../lib/workflow/cloud-env';
import { type StepHandlers, sweepSteps } from '../../lib/workflow/steps';
import type { SweepTask } from '../../lib/workflow/task-names';

const logger = new Logger({ serviceName: 'modelsweep-sweep' });
let steps: StepHandlers | undefined;

const step =
  (name: SweepTask) =>
  async (event: unknown): Promise<unknown> => {
    steps ??= sweepSteps(cloudWorkflowEnv());
    try {
      return await steps[name](event);
    } catch (error) {
      logger.error(`${name} failed`, { error: error as Error });
      throw error;
    }
  };

export const validate = step('validate');
export const planWave = step('planWave');
export const budget = step('budget');
export const deploy = step('deploy');
export const checkReady = step('checkReady');
export const warmup = step('warmup');
export const quality = step('quality');
export const generate = step('generate');
export const recordPhase = step('recordPhase');
export const search = step('search');
export const record = step('record');
export const teardown = step('teardown');
export const teardownAfterFailure = step('teardownAfterFailure');
export const selectAndReport = step('selectAndReport');
export const notify = step('notify');
