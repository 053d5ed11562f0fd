import { z } from 'zod';

import type { CandidateRecord } from '../../store/results-store';
import type { CandidateEvent } from '../events';
import { candidateRecord, measurementCostOf, type StepContext } from './context';

/** A candidate the sweep never reached because it was stopped first. */
export const INTERRUPTED_BEFORE_IT_STARTED = 'interrupted before it started';
/** A candidate whose measurement was stopped part-way (its phases so far are kept, not judged). */
export const INTERRUPTED_WHILE_MEASURING = 'interrupted';

export const budgetOutput = z.object({
  /** Whether the candidate may be deployed; when not, its record says why. */
  approved: z.boolean(),
  estimateUsd: z.number().optional(),
});

/**
 * Estimates what measuring the candidate will cost and reserves it from the spec's budget; a
 * candidate the budget cannot cover (or a sweep already interrupted) is recorded and skipped.
 */
export async function checkBudget(e: CandidateEvent, ctx: StepContext): Promise<z.output<typeof budgetOutput>> {
  const { env, now } = ctx;
  const run = await ctx.runOf(e.sweepId);
  if (e.position) env.events?.onCandidateStart?.(e.candidate, e.position.index, e.position.total);
  const refuse = async (status: CandidateRecord['status'], reason: string, measurementCostUsd?: number) => {
    await ctx.putRecord(candidateRecord(e, status, [], reason, now, { measurementCostUsd }));
    return { approved: false };
  };
  if (env.signal?.aborted) return refuse('failed', INTERRUPTED_BEFORE_IT_STARTED);
  // Without one, adapterOf fails the step and the failure path records the candidate unavailable.
  const adapter = ctx.adapterOf(e.candidate);
  const estimate = measurementCostOf(adapter, e.candidate, run);
  const budget = run.spec.budget;
  if (!budget) return { approved: true, estimateUsd: estimate.usd };
  const { granted, reservedUsd } = await env.store.reserveBudget(e.sweepId, e.candidate.id, estimate.usd, budget.maxUsd);
  if (granted) return { approved: true, estimateUsd: estimate.usd };
  return refuse(
    'over-budget',
    `measuring it would cost about $${estimate.usd.toFixed(2)} (${estimate.basis}); $${Math.max(0, budget.maxUsd - reservedUsd).toFixed(2)} of the $${budget.maxUsd} budget is left`,
    estimate.usd,
  );
}
