import type { z } from 'zod';

import type { WorkflowEnv } from '../env';
import { candidateEvent, deployedEvent, deploymentOutput, parseEvent, sweepEvent } from '../events';
import { sweepSummary } from '../sweep-summary';
import { SWEEP_TASKS, type SweepTask } from '../task-names';
import { budgetOutput, checkBudget } from './budget';
import { type StepContext, stepContext } from './context';
import { deployCandidate } from './deploy';
import { nameForStepFunctions } from './failures';
import { generateLoad, generateLoadInput, generateLoadOutput } from './generate-load';
import { notifySweep } from './notify';
import { planNextWave, planWaveInput, planWaveOutput } from './plan-wave';
import { measureCandidateQuality, qualityOutput } from './quality';
import { checkReady, readyOutput } from './ready';
import { recordInput, recordOutput, recordResult } from './record';
import { recordPhase, recordPhaseInput, recordPhaseOutput } from './record-phase';
import { searchRate, searchRateInput, searchRateOutput } from './search-rate';
import { selectAndReport } from './select-and-report';
import { tearDownCandidate, teardownOutput } from './teardown';
import { teardownAfterFailure, teardownAfterFailureInput, teardownAfterFailureOutput } from './teardown-after-failure';
import { validateInput, validateOutput, validateSpec } from './validate';
import { warmUp, warmUpOutput } from './warm-up';

export type { SweepSummary } from '../sweep-summary';
export { CANDIDATE_FAILED, CANDIDATE_UNAVAILABLE } from './failures';

/** A step: the input it parses, the output the state machine reads from it by path, and what it does. */
interface StepDefinition<I extends z.ZodType, O extends z.ZodType> {
  readonly input: I;
  readonly output: O;
  readonly run: (event: z.output<I>, ctx: StepContext) => Promise<z.input<O>>;
}

const step = <I extends z.ZodType, O extends z.ZodType>(
  input: I,
  output: O,
  run: (event: z.output<I>, ctx: StepContext) => Promise<z.input<O>>,
): StepDefinition<I, O> => ({ input, output, run });

/**
 * The workflow's steps, one per Task state (see {@link SWEEP_TASKS}), each in its own module. The
 * output schemas say what the state machine may read from each step's result: a test follows every
 * JSONPath of the definition through them.
 */
export const STEPS = {
  validate: step(validateInput, validateOutput, validateSpec),
  planWave: step(planWaveInput, planWaveOutput, planNextWave),
  budget: step(candidateEvent, budgetOutput, checkBudget),
  deploy: step(candidateEvent, deploymentOutput, deployCandidate),
  checkReady: step(deployedEvent, readyOutput, checkReady),
  warmup: step(deployedEvent, warmUpOutput, warmUp),
  quality: step(deployedEvent, qualityOutput, measureCandidateQuality),
  generate: step(generateLoadInput, generateLoadOutput, generateLoad),
  recordPhase: step(recordPhaseInput, recordPhaseOutput, recordPhase),
  search: step(searchRateInput, searchRateOutput, searchRate),
  record: step(recordInput, recordOutput, recordResult),
  teardown: step(deployedEvent, teardownOutput, tearDownCandidate),
  teardownAfterFailure: step(teardownAfterFailureInput, teardownAfterFailureOutput, teardownAfterFailure),
  selectAndReport: step(sweepEvent, sweepSummary, selectAndReport),
  notify: step(sweepSummary, sweepSummary, notifySweep),
} satisfies { readonly [K in SweepTask]: StepDefinition<z.ZodType, z.ZodType> };

/** Each step's handler: parses its input (a bad one fails naming the field) and returns plain JSON. */
export type StepHandlers = { readonly [K in SweepTask]: (event: unknown) => Promise<z.input<(typeof STEPS)[K]['output']>> };

/**
 * The workflow's step handlers over one environment. The cloud functions and the local executor
 * call these; a candidate's failure leaves under the name the state machine's Catch reads.
 */
export function sweepSteps(env: WorkflowEnv): StepHandlers {
  const ctx = stepContext(env);
  const handlers: Record<string, (event: unknown) => Promise<unknown>> = {};
  for (const [task, definition] of Object.entries(STEPS) as Array<[SweepTask, StepDefinition<z.ZodType, z.ZodType>]>) {
    handlers[task] = async (event) => {
      try {
        return await definition.run(parseEvent(definition.input, event, SWEEP_TASKS[task]), ctx);
      } catch (error) {
        throw nameForStepFunctions(error);
      }
    };
  }
  return handlers as StepHandlers;
}
