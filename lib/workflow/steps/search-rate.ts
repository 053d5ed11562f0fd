import type { z } from 'zod';

import { type CapacitySearchState, nextProbe, probePhaseIndex, probeRate } from '../../load/capacity-search';
import { phaseMeetsSlo } from '../../load/phase-verdict';
import { deployedEvent, searchState } from '../events';
import type { StepContext } from './context';
import { measurePhase } from './measure-phase';

export const searchRateInput = deployedEvent.extend({ search: searchState });
export const searchRateOutput = searchState;

/** Runs one probe of the rate search (see lib/load/capacity-search), records it as a phase, and says where the search stands. */
export async function searchRate(e: z.output<typeof searchRateInput>, ctx: StepContext): Promise<CapacitySearchState> {
  const { env } = ctx;
  const run = await ctx.runOf(e.sweepId);
  const range = run.spec.load.search;
  const state = e.search;
  if (!range || state.done || env.signal?.aborted) return { ...state, done: true };
  const rate = probeRate(range, state);
  const index = probePhaseIndex(state);
  const plan = { name: `search-${Math.round(rate)}rps`, mode: 'open', rate, arrivals: 'poisson', durationMs: range.stepDuration } as const;
  const result = await measurePhase(e, ctx, run, plan, run.spec.seed + index);
  await env.store.putPhase(e.sweepId, e.candidate.id, index, result);
  return nextProbe(range, state, phaseMeetsSlo(result, run.spec.slo));
}
