import { z } from 'zod';

import type { DeployedEvent } from '../events';
import type { StepContext } from './context';

export const teardownOutput = z.object({ status: z.literal('done'), teardownError: z.string().optional() });

/** Tears the measured candidate down; what could not be removed is noted on its record for the janitor. */
export async function tearDownCandidate(e: DeployedEvent, ctx: StepContext): Promise<z.output<typeof teardownOutput>> {
  const error = await ctx.tearDown(e, await ctx.runOf(e.sweepId));
  if (error) await ctx.env.store.noteTeardownError(e.sweepId, e.candidate.id, error);
  return { status: 'done', ...(error ? { teardownError: error } : {}) };
}
