/**
 * Simulated landscapes for the candidate search: candidates of known capacity and price, measured
 * by synthesizing the phases a real sweep would record (latencies well inside the SLO below
 * capacity, far outside above it), then judged and searched by the real selection and search
 * code. Used by the pruning tests and by bench/search-efficiency.
 */
import type { CostFloor } from '../../lib/cost/candidate-cost';
import { type CapacitySearchRange, firstProbe, nextProbe, probeRate } from '../../lib/load/capacity-search';
import { LatencyHistogram } from '../../lib/load/histogram';
import type { PhaseResult } from '../../lib/load/phase';
import { phaseVerdict } from '../../lib/load/phase-verdict';
import { planWave, predictFromSiblings, type SearchItem, type SearchSettings } from '../../lib/select/candidate-search';
import { type CandidateOutcome, selectCandidate, type Selection, type SelectionStrategy } from '../../lib/select/select';
import { seededRandom } from '../../lib/util/seeded-random';

export interface SimulatedCandidate {
  readonly id: string;
  /** True capacity of one instance: the highest rate whose p95 meets the SLO. */
  readonly capacityRps: number;
  readonly usdPerHour: number;
  /** Latency well below capacity, as a share of the SLO (above 1: it never meets the SLO). @default 0.5 */
  readonly floorShare?: number;
  /** For guided search: its family and size (vCPUs or accelerators). */
  readonly family?: string;
  readonly units?: number;
}

export interface Landscape {
  readonly candidates: readonly SimulatedCandidate[];
  /** The rate search every candidate is measured by (the real one, lib/load/capacity-search). */
  readonly search: CapacitySearchRange;
  readonly peakRps: number;
  readonly sloMs: number;
}

export const HOURS_PER_MONTH = 730;

/** One synthesized open-loop phase of `candidate` at `rate`: 10 s, latencies drawn around a centre set by the load. */
export function simulatedPhase(candidate: SimulatedCandidate, rate: number, sloMs: number, seed: number): PhaseResult {
  const random = seededRandom(seed);
  const load = rate / candidate.capacityRps;
  const share = candidate.floorShare ?? 0.5;
  // Below 90% of capacity: the floor; between 90% and 100%: close to the SLO yet within it; above:
  // far out. Latencies are drawn from the centre × [0.9, 1.1].
  const centre = sloMs * (load <= 0.9 ? share : load <= 1 ? Math.max(share, 0.75) : 1.8 + load);
  const h = new LatencyHistogram();
  // Enough samples for the SLO percentile's interval; more would only slow the simulation.
  const n = Math.min(2000, Math.max(60, Math.round(rate * 10)));
  for (let i = 0; i < n; i++) h.recordMs(centre * (0.9 + 0.2 * random()));
  return {
    name: `${rate}rps`,
    mode: 'open',
    rate,
    arrivals: 'poisson',
    plannedDurationMs: 10_000,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 10_000,
    requests: n,
    successes: n,
    errors: {},
    errorCount: 0,
    errorRate: 0,
    achievedRps: load > 1 ? candidate.capacityRps : rate,
    lateSends: 0,
    maxLatenessMs: 0,
    generatorLimited: false,
    latencyMs: h.summary(),
    histogram: h.encode(),
  };
}

/** The phases a sweep records for `c`: the real rate search, each probe a synthesized phase judged by the real verdict. */
export function measure(c: SimulatedCandidate, landscape: Landscape, seed: number): PhaseResult[] {
  const slo = { percentile: 95, latencyMs: landscape.sloMs, maxErrorRate: 0.01 };
  const phases: PhaseResult[] = [];
  for (let state = firstProbe(landscape.search); !state.done;) {
    const phase = simulatedPhase(c, probeRate(landscape.search, state), landscape.sloMs, seed * 7919 + state.probes);
    phases.push(phase);
    state = nextProbe(landscape.search, state, phaseVerdict(phase, slo) === 'pass');
  }
  return phases;
}

const floorOf = (c: SimulatedCandidate): CostFloor => ({ usd: c.usdPerHour * HOURS_PER_MONTH, basis: 'even on one instance' });

/** What a sweep of the landscape knows: measured and skipped candidates' outcomes, judged by the real selection. */
function judge(landscape: Landscape, outcomes: readonly CandidateOutcome[], strategy: SelectionStrategy): Selection {
  const price = new Map(landscape.candidates.map((c) => [c.id, c.usdPerHour]));
  return selectCandidate({
    slo: { percentile: 95, latencyMs: landscape.sloMs, maxErrorRate: 0.01 },
    traffic: { averageRps: landscape.peakRps / 2, peakRps: landscape.peakRps },
    strategy,
    candidates: outcomes,
    price: (c) => ({ usdPerInstanceHour: price.get(c.id)! }),
    hoursPerMonth: HOURS_PER_MONTH,
  });
}

/** The guided prediction for `c`, by the real search code, from its measured siblings (family and units stand for a type's). */
function predictionOf(c: SimulatedCandidate, landscape: Landscape, selection: Selection | undefined, margin: number): SearchItem['predicted'] {
  if (!selection || c.family === undefined || c.units === undefined) return undefined;
  const sizeOf = (s: SimulatedCandidate) => (s.family !== undefined && s.units !== undefined ? { family: s.family, units: s.units } : undefined);
  const siblings = selection.candidates.map((verdict) => ({ verdict, size: sizeOf(landscape.candidates.find((s) => s.id === verdict.id)!) }));
  return predictFromSiblings({ size: sizeOf(c), floor: floorOf(c) }, siblings, landscape.peakRps, margin);
}

export interface SearchOutcome {
  readonly selection: Selection;
  /** Candidates deployed, in the order the search measured them. */
  readonly deployed: readonly string[];
  readonly skipped: ReadonlyMap<string, string>;
}

/** Searches the landscape as the workflow does: plan a wave, measure it, plan again; then the final selection over everything recorded. */
export function searchLandscape(
  landscape: Landscape,
  settings: SearchSettings,
  strategy: SelectionStrategy = { type: 'cost', weight: 0.5 },
  waveSize = 1,
): SearchOutcome {
  const outcomes: CandidateOutcome[] = [];
  const deployed: string[] = [];
  const skipped = new Map<string, string>();
  const byId = new Map(landscape.candidates.map((c) => [c.id, c]));
  for (;;) {
    const measured = outcomes.some((o) => o.status === 'measured');
    const selection = measured ? judge(landscape, outcomes, strategy) : undefined;
    const pending = landscape.candidates
      .filter((c) => !outcomes.some((o) => o.id === c.id))
      .map((c) => ({ id: c.id, floor: floorOf(c), predicted: predictionOf(c, landscape, selection, settings.margin) }));
    const plan = planWave({ pending, selection, strategy, settings, deployed: deployed.length, waveSize });
    for (const skip of plan.skipped) {
      skipped.set(skip.id, skip.reason);
      outcomes.push({ id: skip.id, status: 'skipped', reason: skip.reason, scaling: 'instances', phases: [] });
    }
    if (plan.wave.length === 0) break;
    for (const id of plan.wave) {
      const c = byId.get(id)!;
      deployed.push(id);
      outcomes.push({ id, status: 'measured', scaling: 'instances', phases: measure(c, landscape, deployed.length) });
    }
  }
  // In the grid's order, as the sweep's selection reads its records.
  const order = new Map(landscape.candidates.map((c, i) => [c.id, i]));
  outcomes.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  return { selection: judge(landscape, outcomes, strategy), deployed, skipped };
}

/** A random landscape: `n` candidates, capacities and prices drawn so that cheap is not always best. */
export function randomLandscape(seed: number, n = 8): Landscape {
  const random = seededRandom(seed);
  const candidates = Array.from({ length: n }, (_, i): SimulatedCandidate => {
    const units = 2 ** Math.floor(random() * 4);
    const family = `f${Math.floor(random() * 3)}`;
    return {
      id: `c${i}`,
      family,
      units,
      capacityRps: Math.round((15 + random() * 60) * units * (family === 'f0' ? 1 : family === 'f1' ? 1.6 : 0.7)),
      usdPerHour: Number((units * (0.08 + random() * 0.15) * (family === 'f1' ? 1.5 : 1)).toFixed(3)),
      ...(random() < 0.15 ? { floorShare: 1.3 } : {}),
    };
  });
  return { candidates, search: { from: 5, to: 2000, precision: 0.1 }, peakRps: Math.round(50 + random() * 400), sloMs: 100 };
}
