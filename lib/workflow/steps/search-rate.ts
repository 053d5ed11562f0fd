import type { z } from 'zod';

import { batchPayloads } from '../../load/batch-payloads';
import { nextProbe, probePhaseIndex, probeRate } from '../../load/capacity-search';
import type { Payload } from '../../load/invoker';
import { phaseMeetsSlo } from '../../load/phase-verdict';
import { nextBatchSize } from '../../offline/batch-search';
import { afterSaturationProbe, firstSaturationState, nextSaturationProbe, saturationFor, saturationOf } from '../../offline/saturation';
import { throughputOf } from '../../offline/throughput';
import { saturationPhaseName } from '../../select/select-offline';
import { deployedEvent, searchState } from '../events';
import type { StepContext, SweepRun } from './context';
import { measurePhase } from './measure-phase';

/** Each sweep's batched requests, by size: built once per process from its payloads. */
const batchesOf = new WeakMap<SweepRun, Map<number, Payload[]>>();
function batchedPayloads(run: SweepRun, path: string, size: number): Payload[] {
  const sizes = batchesOf.get(run) ?? new Map<number, Payload[]>();
  batchesOf.set(run, sizes);
  if (!sizes.has(size)) sizes.set(size, batchPayloads(run.payloads, path, size));
  return sizes.get(size)!;
}

export const searchRateInput = deployedEvent.extend({ search: searchState });
export const searchRateOutput = searchState;

/**
 * Runs one probe of the rate search (see lib/load/capacity-search), or of an offline sweep's
 * saturation search (lib/offline/saturation), records it as a phase, and says where the search stands.
 */
export async function searchRate(e: z.output<typeof searchRateInput>, ctx: StepContext): Promise<z.output<typeof searchRateOutput>> {
  const { env } = ctx;
  const run = await ctx.runOf(e.sweepId);
  const { offline } = run.spec;
  if (offline) {
    const state = e.search.saturation ?? firstSaturationState();
    if (state.done || env.signal?.aborted) return { ...e.search, done: true, saturation: { ...state, done: true } };
    const index = probePhaseIndex(e.search);
    const adapter = ctx.adapterOf(e.candidate);
    if (adapter.measureJob) {
      // A job that timed itself (a transform job, ended by now): one measurement, no search.
      const result = await adapter.measureJob(ctx.deploymentOf(e, run), run.context, offline.rowsPerRequest);
      await env.store.putPhase(e.sweepId, e.candidate.id, index, result);
      return {
        ...e.search,
        probes: e.search.probes + 1,
        done: true,
        saturation: { done: true, probes: [], stoppedBecause: 'measured by its own job' },
      };
    }
    const { minGain } = offline.saturation;
    const bests = e.search.batchBests ?? [];
    const batch = offline.batch ? (e.search.batch ?? nextBatchSize(offline.batch, [], minGain)) : undefined;
    const settings = saturationFor(offline.saturation, adapter.maxConcurrency?.(e.candidate));
    const { concurrency, durationMs } = nextSaturationProbe(settings, state);
    const plan = { name: saturationPhaseName(concurrency, batch), mode: 'closed', concurrency, durationMs } as const;
    const payloads = batch !== undefined ? batchedPayloads(run, offline.batch!.path, batch) : run.payloads;
    const result = await measurePhase(e, ctx, run, plan, run.spec.seed + index, payloads);
    await env.store.putPhase(e.sweepId, e.candidate.id, index, result);
    const probe = { concurrency, errorRate: result.errorRate, ...throughputOf(result, batch ?? offline.rowsPerRequest) };
    const next = afterSaturationProbe(settings, state, probe, run.spec.slo.maxErrorRate);
    const probes = e.search.probes + 1;
    if (!offline.batch || !next.done)
      return { ...e.search, probes, done: next.done, saturation: next, ...(batch ? { batch, batchBests: bests } : {}) };
    // This size's search is over: the next size's begins, unless the sizes are done or throughput stopped growing with them.
    const batchBests = [...bests, saturationOf(settings, next, run.spec.slo.maxErrorRate)?.rowsPerSecond ?? 0];
    const following = env.signal?.aborted ? undefined : nextBatchSize(offline.batch, batchBests, minGain);
    return following === undefined
      ? { ...e.search, probes, done: true, saturation: next, batch, batchBests }
      : { ...e.search, probes, done: false, saturation: firstSaturationState(), batch: following, batchBests };
  }
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
