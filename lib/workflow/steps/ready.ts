import { z } from 'zod';

import { CandidateError } from '../../targets/adapter';
import type { DeployedEvent } from '../events';
import type { StepContext } from './context';

export const readyOutput = z.object({
  ready: z.boolean(),
  /** Seconds the workflow waits before looking again. */
  waitSeconds: z.number().int().min(0),
});

/**
 * One look at whether the deployment is ready; the workflow waits and looks again until it is, or
 * until its deadline. Kinds without a quick look are waited for here.
 */
export async function checkReady(e: DeployedEvent, ctx: StepContext): Promise<z.output<typeof readyOutput>> {
  const run = await ctx.runOf(e.sweepId);
  const adapter = ctx.adapterOf(e.candidate);
  const deployment = ctx.deploymentOf(e, run);
  if (!adapter.isReady || !adapter.readiness) {
    await adapter.waitReady(deployment, run.context);
    return { ready: true, waitSeconds: 0 };
  }
  if (await adapter.isReady(deployment, run.context)) return { ready: true, waitSeconds: 0 };
  if (ctx.now().getTime() > Date.parse(e.deployment.readyBy)) {
    throw new CandidateError('failed', `${e.candidate.id} was not ready after ${Math.round(adapter.readiness.timeoutMs / 60_000)} min`);
  }
  if (ctx.env.signal?.aborted) throw new CandidateError('failed', 'interrupted while waiting for it to be ready');
  return { ready: false, waitSeconds: Math.max(1, Math.round(adapter.readiness.pollMs / 1000)) };
}
