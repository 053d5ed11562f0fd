import { z } from 'zod';

import { mergePhaseResults } from '../../load/merge-phases';
import type { PhaseResult } from '../../load/phase';
import { candidateEvent } from '../events';
import type { StepContext } from './context';

export const recordPhaseInput = candidateEvent.extend({
  phase: z.number().int().min(0),
  results: z.array(z.looseObject({ histogram: z.string() })).min(1, 'results needs at least one generator result'),
});

export const recordPhaseOutput = z.object({ phase: z.number().int(), requests: z.number().int() });

/** Merges a phase's generators into one result and records it once. */
export async function recordPhase(e: z.output<typeof recordPhaseInput>, ctx: StepContext): Promise<z.output<typeof recordPhaseOutput>> {
  const merged = mergePhaseResults(e.results as unknown as PhaseResult[]);
  await ctx.env.store.putPhase(e.sweepId, e.candidate.id, e.phase, merged);
  return { phase: e.phase, requests: merged.requests };
}
