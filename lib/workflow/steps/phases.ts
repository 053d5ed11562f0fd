import type { PhasePlan } from '../../load/phase';
import type { SweepSpec } from '../../spec/schema';
import { phasePlansOf } from '../load-plans';

/** How a spec phase is run: by `of` generators side by side, shard `shard` each. */
export interface PhaseShards {
  readonly phase: number;
  readonly shards: Array<{ readonly shard: number; readonly of: number }>;
}

/** The spec's phases with their generators: an open phase above `maxRatePerGenerator` is split among several. */
export function phaseShardsOf(spec: SweepSpec, maxRatePerGenerator = Infinity): PhaseShards[] {
  return phasePlansOf(spec).map((plan, phase) => {
    const of = plan.mode === 'open' ? Math.max(1, Math.ceil(plan.rate / maxRatePerGenerator)) : 1;
    return { phase, shards: Array.from({ length: of }, (_, shard) => ({ shard, of })) };
  });
}

/** Shard `shard` of `of`'s part of a phase: its share of the rate, or of the workers spread as evenly as whole numbers allow. */
export function shareOfPhase(plan: PhasePlan, shard: number, of: number): PhasePlan {
  if (plan.mode === 'open') return { ...plan, rate: plan.rate / of };
  return { ...plan, concurrency: Math.floor(plan.concurrency / of) + (shard < plan.concurrency % of ? 1 : 0) };
}

/** Each generator its own arrivals and payload sequence; the phase's seed as in one generator when alone. */
export const generatorSeed = (spec: SweepSpec, phase: number, shard: number): number => spec.seed + phase + shard * 7919;
