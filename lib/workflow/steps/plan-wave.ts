import { z } from 'zod';

import { costFloor } from '../../cost/candidate-cost';
import { planWave, predictFromSiblings, type SearchItem } from '../../select/candidate-search';
import { type Candidate, expandCandidates } from '../../spec/expand';
import type { CandidateRecord } from '../../store/results-store';
import { KIND_RULES, withSizes } from '../../targets/kind-rules';
import { loadOf } from '../load-plans';
import { INTERRUPTED_BEFORE_IT_STARTED } from './budget';
import { candidateRecord, measurementCostOf, type StepContext } from './context';
import { withReferenceQuality } from './quality';
import { inSpecOrder, selectFromRecords } from './select-and-report';

export const planWaveInput = z.object({
  sweepId: z.string().min(1, 'sweepId is required'),
  /** Lanes measured side by side: the wave's most candidates. */
  maxConcurrency: z.number().int().min(1),
});

const laneItem = z.object({
  sweepId: z.string(),
  candidate: z.custom<Candidate>((c) => typeof c === 'object' && c !== null),
  position: z.object({ index: z.number().int(), total: z.number().int() }),
});

export const planWaveOutput = z.object({
  /** Nothing is left to deploy: every candidate is recorded (measured, failed, skipped, …). */
  done: z.boolean(),
  /** The wave: each lane's candidates are measured one after the other; lanes run side by side. */
  lanes: z.array(z.object({ candidates: z.array(laneItem) })),
});

/**
 * The decide step between waves: judges what is recorded so far (the same selection the sweep
 * ends with), records as skipped every candidate that can no longer win (see candidate-search),
 * and returns the next wave, cheapest possible first, one candidate per lane. Idempotent: it
 * plans from the records alone, so a retried delivery plans the same wave.
 */
export async function planNextWave(e: z.output<typeof planWaveInput>, ctx: StepContext): Promise<z.input<typeof planWaveOutput>> {
  const { env, now } = ctx;
  const run = await ctx.runOf(e.sweepId);
  const { spec } = run;
  const records = await env.store.listCandidateResults(e.sweepId);
  const recorded = new Set(records.map((r) => r.candidate.id));
  const grid = expandCandidates(spec);
  const pending = grid.filter((c) => !recorded.has(c.id));
  if (pending.length === 0) return { done: true, lanes: [] };
  if (env.signal?.aborted) {
    for (const candidate of pending)
      await ctx.putRecord(candidateRecord({ sweepId: e.sweepId, candidate }, 'failed', [], INTERRUPTED_BEFORE_IT_STARTED, now, {}));
    return { done: true, lanes: [] };
  }
  const byId = new Map(pending.map((c) => [c.id, c]));
  const selection = records.some((r) => r.status === 'measured')
    ? selectFromRecords(spec, await withReferenceQuality(spec, inSpecOrder(records, spec), env.blobs), env.adapters, run.context.prices)
    : undefined;
  const measured = records.filter((r) => r.status === 'measured');
  const siblings = withSizes(selection?.candidates ?? [], records);
  const items: SearchItem[] = pending.map((c) => {
    const adapter = env.adapters[c.kind];
    // A kind without an adapter is deployed (and recorded unavailable) rather than guessed at.
    // An offline job has no monthly floor to prune by: each candidate is measured, in the spec's order.
    const floor =
      adapter && spec.traffic
        ? costFloor(adapter, c, spec.traffic, run.context.prices, measured)
        : { usd: 0, basis: spec.offline ? 'an offline job' : 'unpriced' };
    const size = spec.candidateSearch.mode === 'guided' && spec.traffic ? KIND_RULES[c.kind].sizeOf?.(c) : undefined;
    const predicted = size ? predictFromSiblings({ size, floor }, siblings, spec.traffic!.peakRps, spec.candidateSearch.margin) : undefined;
    return { id: c.id, floor, ...(predicted ? { predicted } : {}) };
  });
  const plan = planWave({
    pending: items,
    selection,
    strategy: spec.strategy,
    settings: spec.candidateSearch,
    deployed: records.filter((r) => r.status !== 'skipped').length,
    waveSize: e.maxConcurrency,
    laneOf: (id) => KIND_RULES[byId.get(id)!.kind].laneKey(byId.get(id)!),
    needed: referenceCandidatesNeeded(spec.quality?.reference, pending, records),
  });
  const { loadSeconds } = loadOf(spec);
  for (const skip of plan.skipped) {
    const candidate = byId.get(skip.id)!;
    const adapter = env.adapters[candidate.kind];
    const hours = (KIND_RULES[candidate.kind].provisioningSeconds + loadSeconds) / 3600;
    const usd = adapter ? measurementCostOf(adapter, candidate, run).usd : 0;
    await ctx.putRecord(candidateRecord({ sweepId: e.sweepId, candidate }, 'skipped', [], skip.reason, now, { notSpent: { usd, hours } }));
  }
  // One candidate per lane (see planWave), so each lane of the wave is that candidate alone;
  // positions count deployments, so progress reads [1/8], [2/8], … with the skipped ones said apart.
  const first = records.filter((r) => r.status !== 'skipped').length;
  const lanes = plan.wave.map((id, k) => ({
    candidates: [{ sweepId: e.sweepId, candidate: byId.get(id)!, position: { index: first + k, total: grid.length } }],
  }));
  return { done: lanes.length === 0, lanes };
}

/**
 * The pending candidates of the reference variant, while none of that variant has been measured
 * with answers: every other candidate's quality waits on one of them.
 */
function referenceCandidatesNeeded(
  variant: string | undefined,
  pending: readonly Candidate[],
  records: readonly CandidateRecord[],
): ReadonlySet<string> | undefined {
  if (variant === undefined) return undefined;
  const answered = records.some((r) => r.candidate.variant === variant && r.quality?.answersKey !== undefined && r.quality.problem === undefined);
  return answered ? undefined : new Set(pending.filter((c) => c.variant === variant).map((c) => c.id));
}
