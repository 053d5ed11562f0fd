import { z } from 'zod';

import type { PhaseResult } from '../../load/phase';
import { deployedEvent, InvalidStepInput } from '../events';
import { phasePlansOf } from '../load-plans';
import { SWEEP_TASKS } from '../task-names';
import type { StepContext } from './context';
import { measurePhase } from './measure-phase';
import { generatorSeed, shareOfPhase } from './phases';

export const generateLoadInput = deployedEvent.extend({
  phase: z.number().int().min(0),
  shard: z.number().int().min(0),
  of: z.number().int().min(1),
});

/** One generator's result: the phase's result for its share of the load (merged by the record-phase step). */
export const generateLoadOutput = z.custom<PhaseResult>((r) => typeof r === 'object' && r !== null);

/** Runs one generator's share of one spec phase against the deployment. */
export async function generateLoad(e: z.output<typeof generateLoadInput>, ctx: StepContext): Promise<PhaseResult> {
  const run = await ctx.runOf(e.sweepId);
  const plans = phasePlansOf(run.spec);
  const plan = plans[e.phase];
  if (!plan) throw new InvalidStepInput(`${SWEEP_TASKS.generate}: phase ${e.phase} is not in the spec (it has ${plans.length})`);
  return measurePhase(e, ctx, run, shareOfPhase(plan, e.shard, e.of), generatorSeed(run.spec, e.phase, e.shard));
}
