import { z } from 'zod';

import { candidateEvent, deploymentOutput } from '../events';
import { candidateRecord, type StepContext } from './context';
import { CANDIDATE_UNAVAILABLE, failureReason } from './failures';

/** The state of a candidate whose step failed: the workflow's Catch adds the error. */
export const teardownAfterFailureInput = candidateEvent.loose().extend({
  deployment: deploymentOutput.optional(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }),
});

export const teardownAfterFailureOutput = z.object({ status: z.enum(['failed', 'unavailable']) });

/**
 * Where every failed step of a candidate ends: tears down what was deployed (if anything was),
 * and records the candidate as failed or unavailable with the phases it completed and why.
 */
export async function teardownAfterFailure(
  e: z.output<typeof teardownAfterFailureInput>,
  ctx: StepContext,
): Promise<z.output<typeof teardownAfterFailureOutput>> {
  const deployment = e.deployment;
  const teardownError = deployment ? await ctx.tearDown({ ...e, deployment }, await ctx.runOf(e.sweepId)) : undefined;
  const status = e.error.Error === CANDIDATE_UNAVAILABLE ? 'unavailable' : 'failed';
  const phases = await ctx.env.store.listPhases(e.sweepId, e.candidate.id).catch(() => []);
  await ctx.putRecord(candidateRecord(e, status, phases, failureReason(e.error), ctx.now, { teardownError, deployment: deployment?.handle }));
  return { status };
}
