import { maxProbes } from '../load/capacity-search';
import type { Payload } from '../load/invoker';
import type { PhasePlan } from '../load/phase';
import { plannedLoadMs, stairRates } from '../spec/expand';
import type { SweepSpec } from '../spec/schema';
import type { MeasurementPlan } from '../targets/adapter';

/** The spec's phases as load-generator plans: stairs become one open phase per step. */
export function phasePlansOf(spec: SweepSpec): PhasePlan[] {
  return spec.load.phases.flatMap((phase, i): PhasePlan[] => {
    const name = phase.name ?? `phase${i + 1}`;
    if (phase.mode === 'open') return [{ name, mode: 'open', rate: phase.rate, arrivals: phase.arrivals, durationMs: phase.duration }];
    if (phase.mode === 'closed') return [{ name, mode: 'closed', concurrency: phase.concurrency, durationMs: phase.duration }];
    return stairRates(phase).map((rate) => ({
      name: `${name}-${+rate.toFixed(3)}rps`,
      mode: 'open',
      rate,
      arrivals: phase.arrivals,
      durationMs: phase.stepDuration,
    }));
  });
}

export function warmupOf(spec: SweepSpec): PhasePlan | undefined {
  const w = spec.load.warmup;
  if (!w) return undefined;
  return w.mode === 'open'
    ? { name: 'warmup', mode: 'open', rate: w.rate, arrivals: w.arrivals, durationMs: w.duration }
    : { name: 'warmup', mode: 'closed', concurrency: w.concurrency, durationMs: w.duration };
}

/**
 * Seconds of load and requests one candidate's measurement plans. Closed-loop phases and the rate
 * search are counted at their most (a closed loop as if each request took the SLO's latency; the
 * search at its top rate). Not counted: a phase the generator could not measure reliably is
 * measured again, and one too close to call runs on (see measure-phase.ts), which can add to it.
 */
export function loadOf(spec: SweepSpec): { loadSeconds: number; requests: number } {
  const assumedDurationMs = spec.slo.latencyMs;
  const plans = [warmupOf(spec), ...phasePlansOf(spec)].filter((p): p is PhasePlan => p !== undefined);
  let requests = 0;
  for (const plan of plans) {
    const seconds = plan.durationMs / 1000;
    requests += plan.mode === 'open' ? plan.rate * seconds : plan.concurrency * seconds * (1000 / assumedDurationMs);
  }
  const search = spec.load.search;
  if (search) requests += (maxProbes(search) * search.to * search.stepDuration) / 1000;
  return { loadSeconds: plannedLoadMs(spec) / 1000, requests: Math.ceil(requests) };
}

/** What measuring one candidate involves at most ({@link loadOf}), for the cost estimate made before it is deployed. */
export function measurementPlanOf(spec: SweepSpec, payloads: readonly Payload[]): MeasurementPlan {
  const totalWeight = payloads.reduce((sum, p) => sum + (p.weight ?? 1), 0);
  const meanRequestBytes =
    payloads.reduce((sum, p) => sum + (p.weight ?? 1) * (typeof p.body === 'string' ? Buffer.byteLength(p.body) : p.body.byteLength), 0) /
    totalWeight;
  return { ...loadOf(spec), assumedDurationMs: spec.slo.latencyMs, meanRequestBytes };
}
