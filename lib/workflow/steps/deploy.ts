import type { z } from 'zod';

import type { CandidateEvent, deploymentOutput } from '../events';
import type { StepContext } from './context';

/** Deploys the candidate; the deployment's handle lets later steps (other processes) reach it. */
export async function deployCandidate(e: CandidateEvent, ctx: StepContext): Promise<z.input<typeof deploymentOutput>> {
  const run = await ctx.runOf(e.sweepId);
  const adapter = ctx.adapterOf(e.candidate);
  // Delivered twice in one process: the first deployment is the one.
  const deployment = ctx.liveDeployment(e.sweepId, e.candidate.id) ?? (await adapter.deploy(e.candidate, run.context));
  ctx.rememberDeployment(e.sweepId, e.candidate.id, deployment);
  const readyBy = new Date(ctx.now().getTime() + (adapter.readiness?.timeoutMs ?? 0)).toISOString();
  return { handle: adapter.handleOf?.(deployment) ?? {}, readyBy };
}
