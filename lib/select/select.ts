import { type CandidateCost, candidateCost, type CandidatePrice } from '../cost/candidate-cost';
import type { PriceSource } from '../cost/price-book';
import { errorKinds, formatMs, formatQuality, formatUsd, percentileLabel } from '../format/format';
import { busiestOf } from '../load/busy-processes';
import { robustPercentileInterval } from '../load/percentile-interval';
import { type PhaseResult, phaseSample } from '../load/phase';
import { phaseVerdict } from '../load/phase-verdict';
import {
  boundLabel,
  boundText,
  type PhaseSlo,
  type SloBound,
  sloBounds,
  type SloCall,
  sloCall,
  tokenBounds,
  type TokenMetric,
} from '../load/slo-bounds';
import type { OfflineJobVerdict } from '../offline/job-estimate';
import type { QualityResult, RelativeQuality } from '../quality/measure-quality';
import { isProportion, type QualityMetric } from '../quality/metrics';
import { judgeQuality, type QualityCall, type QualitySlo } from '../quality/quality-verdict';

/** The SLO candidates are judged by: the phase SLO's latency bounds and error rate, and (per-request kinds) a lowest rate. */
export interface SelectionSlo extends PhaseSlo {
  readonly minThroughput?: number;
}

export interface SelectionStrategy {
  readonly type: 'cost' | 'speed' | 'balanced';
  /** balanced: weight of cost against latency, 0 (all latency) to 1 (all cost). */
  readonly weight: number;
}

/** What a sweep learnt about one candidate. */
export interface CandidateOutcome {
  readonly id: string;
  readonly status: 'measured' | 'failed' | 'unavailable' | 'over-budget' | 'skipped';
  /** Why it failed, was unavailable, was refused or was skipped. */
  readonly reason?: string;
  /**
   * `instances`: capacity grows by adding instances (SageMaker real-time, Azure, http, local);
   * `per-request`: the platform scales it (Lambda, serverless).
   */
  readonly scaling: 'instances' | 'per-request';
  /**
   * Instances one measured unit holds (a SageMaker or Azure candidate's instance count): its
   * capacity is measured for the whole unit, and billed per instance. @default 1
   */
  readonly instancesPerUnit?: number;
  /** The most requests it was sent at once (see KindRules' `maxConcurrency`): its saturation search stopped there. */
  readonly maxConcurrency?: number;
  readonly phases: readonly PhaseResult[];
  /** Its answers scored against the quality dataset (sweeps with a quality SLO). */
  readonly quality?: QualityResult;
}

export interface SelectionInput {
  readonly slo: SelectionSlo;
  /** The quality SLO, where the sweep has one: a candidate must meet it as well as the latency SLO. */
  readonly quality?: { readonly metric: QualityMetric; readonly slo: QualitySlo };
  readonly traffic: { readonly averageRps: number; readonly peakRps: number; readonly hourlyProfile?: readonly number[] };
  readonly strategy: SelectionStrategy;
  readonly candidates: readonly CandidateOutcome[];
  /** A candidate's prices (see `priceOfCandidate`); its cost at the forecast comes from `candidateCost`. */
  readonly price: (candidate: CandidateOutcome) => CandidatePrice;
  /** Hours in the month that monthly costs are for. */
  readonly hoursPerMonth: number;
}

export interface CandidateVerdict {
  readonly id: string;
  readonly status: CandidateOutcome['status'];
  readonly feasible: boolean;
  /** The SLO percentile's latency in the deciding phase, with its confidence interval. */
  readonly sloLatencyMs?: number;
  readonly sloLatencyIntervalMs?: readonly [number, number];
  /** Highest request rate one unit (instance, or the whole endpoint) sustained within the SLO. */
  readonly maxRpsWithinSlo?: number;
  /** How far the measurements pin that rate down (see `capacityRange`): [certain, first rate above it that did not pass]. */
  readonly maxRpsWithinSloRange?: readonly [number, number];
  readonly instances?: number;
  /** Instances at the forecast peak over the capacity range: [fewest, most]. */
  readonly instancesRange?: readonly [number, number];
  readonly monthlyCostUsd?: number;
  /** Monthly cost over the capacity range: [lowest, highest]. */
  readonly monthlyCostRangeUsd?: readonly [number, number];
  /** Priced under a commitment (`pricing.commitment`): the same monthly cost on demand. */
  readonly onDemandMonthlyCostUsd?: number;
  /** Where its prices came from: override, price list or snapshot, with their dates. */
  readonly priceSources?: readonly PriceSource[];
  /** Instance-based kinds: one instance's hourly price, and what a million inferences cost at the highest rate it sustained within the SLO. */
  readonly costPerHourUsd?: number;
  readonly costPerMillionInferencesUsd?: number;
  /** Streamed responses: what a million output tokens cost (see `CandidateCost.usdPerMillionOutputTokens`). */
  readonly costPerMillionOutputTokensUsd?: number;
  /** Streamed responses: output tokens per second one unit served at the highest rate it sustained within the SLO. */
  readonly outputTokensPerSecond?: number;
  /** Each token bound of the SLO: its percentile in the phase at the forecast peak (as `sloLatencyMs` is for latency). */
  readonly tokenLatenciesMs?: Partial<Record<TokenMetric, number>>;
  readonly onFrontier: boolean;
  readonly recommended: boolean;
  readonly reason: string;
  /** Set when every phase it did not pass was measured by a struggling generator or a busy machine: why. */
  readonly inconclusive?: string;
  /** Set when it passed no phase, and the lightest it missed was too close to call (the SLO inside the percentile's interval). */
  readonly tooCloseToCall?: boolean;
  /** Set when it met the SLO, but in phases too short to tell its capacity from, so no instance count is sized from them. */
  readonly tooShortToSize?: boolean;
  /** Its quality against the quality SLO: the metric, its value with the 95% interval, and the call. */
  readonly quality?: CandidateQuality;
  /** Offline sweeps: its throughput at saturation, and the job it would run (see lib/offline/select-offline). */
  readonly job?: OfflineJobVerdict;
}

/**
 * A candidate's measured quality as judged: `meets`, `misses`, `too-close` (the bound inside the
 * interval) or `unknown` (its answers could not be scored).
 */
export interface CandidateQuality {
  readonly metric: QualityMetric;
  readonly value?: number;
  readonly interval?: readonly [number, number];
  readonly examples: number;
  readonly call: QualityCall;
  /** The figures in words: "accuracy 0.912 (95% interval 0.897–0.925) < 0.950". */
  readonly text: string;
  /** The reference candidate its answers were compared with (`quality.reference`). */
  readonly reference?: string;
  /** Its score as a share of the reference's (`slo.maxDropFromReference`). */
  readonly relative?: RelativeQuality;
}

export interface Selection {
  readonly recommended?: string;
  readonly strategy: SelectionStrategy;
  readonly frontier: string[];
  /** Set when the best two could not be told apart by the measurements. */
  readonly confidenceNote?: string;
  /**
   * Set when no recommendation is made because a candidate that could be cheaper than the best
   * measured one could not be measured reliably (the machine was too busy): what was seen.
   */
  readonly measurementNote?: string;
  /** Set when the sweep was interrupted: what was measured, and which candidates the selection never saw. */
  readonly incompleteNote?: string;
  /**
   * Set when nothing is recommended: why, case by case (too briefly measured, too close to call,
   * unreachable, failing the SLO, …), and what would settle it.
   */
  readonly noRecommendationNote?: string;
  readonly candidates: CandidateVerdict[];
}

interface Judged extends Omit<CandidateVerdict, 'onFrontier' | 'recommended' | 'reason'> {
  readonly failure?: string;
  /** Measured, but no request got an answer: every one failed to connect. How they failed. */
  readonly unreachable?: string;
  /** Could not be measured reliably: the processes busy beside it, to be named in what to do. */
  readonly busyPids?: readonly number[];
  /** Met the latency SLO, and only quality decided against it: `misses` or `too-close` (or `unknown`). */
  readonly qualityDecided?: CandidateQuality['call'];
  /** Too briefly measured to size: the lowest rate above its busiest passing phase that failed, which its capacity is below. */
  readonly capacityBelowRps?: number;
}

/** One latency bound read against a phase: its percentile there, that percentile's 95% interval, and the call (none where it measured nothing). */
interface BoundCall {
  readonly bound: SloBound;
  readonly estimateMs?: number;
  readonly intervalMs?: readonly [number, number];
  readonly call?: SloCall;
}

function boundCall(phase: PhaseResult, bound: SloBound): BoundCall {
  const { histogram, windowsMs } = phaseSample(phase, bound);
  if (histogram.count === 0) return { bound };
  const interval = robustPercentileInterval(histogram, bound.percentile, windowsMs);
  const intervalMs = [interval.lowerMs, interval.upperMs] as const;
  return { bound, estimateMs: interval.estimateMs, intervalMs, call: sloCall(intervalMs, bound.ms) };
}

/** Every bound of the SLO read against a phase, end-to-end latency first. */
const boundCalls = (phase: PhaseResult, slo: SelectionSlo): BoundCall[] => sloBounds(slo).map((bound) => boundCall(phase, bound));

/** The end-to-end latency bound's call as verdict fields: the SLO percentile with its confidence interval. */
function latencyFields(call: BoundCall): Pick<CandidateVerdict, 'sloLatencyMs' | 'sloLatencyIntervalMs'> {
  return call.estimateMs === undefined ? {} : { sloLatencyMs: call.estimateMs, sloLatencyIntervalMs: call.intervalMs! };
}

function judge(candidate: CandidateOutcome, input: SelectionInput): Judged {
  const { slo, traffic } = input;
  if (candidate.status !== 'measured')
    return { id: candidate.id, status: candidate.status, feasible: false, failure: candidate.reason ?? candidate.status };
  const phases = candidate.phases.filter((p) => p.requests > 0);
  if (phases.length === 0) return { id: candidate.id, status: candidate.status, feasible: false, failure: 'no phase was measured' };
  // A rate probed twice (the rate search confirms its bracket) passes only if it passed both times.
  // Each phase's verdict once: it decodes the phase's histogram.
  const verdicts = new Map(phases.map((p) => [p, phaseVerdict(p, slo)]));
  const failing = phases.filter((p) => verdicts.get(p) === 'fail');
  const failedRates = new Set(failing.map(plannedRate));
  const passing = phases.filter((p) => verdicts.get(p) === 'pass' && !failedRates.has(plannedRate(p)));
  const base = { id: candidate.id, status: candidate.status };
  const price = input.price(candidate);
  // An instance's hourly price places even a candidate that is not sized on the report's cost/latency chart.
  const priced = {
    ...(price.usdPerInstanceHour !== undefined ? { costPerHourUsd: price.usdPerInstanceHour } : {}),
    ...(price.sources?.length ? { priceSources: price.sources } : {}),
  };
  if (passing.length === 0 && failing.length === 0) {
    // The lightest phase's reason speaks for the rest (each remeasured phase has one of its own, with its own numbers).
    const others = phases.length - 1;
    const reasons = `${phases[0]!.validity?.reason ?? 'inconclusive'}${others > 0 ? ` (at ${phases[0]!.achievedRps.toFixed(0)} rps; its ${others} other phase${others > 1 ? 's were' : ' was'} inconclusive too)` : ''}`;
    const busy = busiestOf(phases.flatMap((p) => p.health?.busyProcesses ?? []));
    return {
      ...base,
      ...priced,
      feasible: false,
      inconclusive: reasons,
      failure: `could not be measured reliably on this machine: ${reasons}`,
      ...(busy ? { busyPids: busy.map((p) => p.pid) } : {}),
    };
  }
  // The deciding phase: the busiest that met the SLO; with none, the lightest it reliably failed (the kindest test).
  const deciding =
    passing.length > 0
      ? passing.reduce((a, b) => (b.achievedRps > a.achievedRps ? b : a))
      : failing.reduce((a, b) => (b.achievedRps < a.achievedRps ? b : a));
  if (passing.length === 0) {
    const calls = boundCalls(deciding, slo);
    const latency = latencyFields(calls[0]!);
    const close = calls.find((c) => c.call === 'too close to call');
    if (deciding.errorRate <= slo.maxErrorRate && close && !calls.some((c) => c.call === 'over' || c.call === undefined)) {
      const [low, high] = close.intervalMs!;
      const ran = `${(deciding.durationMs / 1000).toFixed(1)} s${deciding.extended ? ', run on past its plan' : ''}`;
      return {
        ...base,
        ...latency,
        ...priced,
        feasible: false,
        tooCloseToCall: true,
        failure:
          `too close to call whether it meets the SLO: ${boundLabel(close.bound)} ${formatMs(close.estimateMs!)} ` +
          `(95% interval ${formatMs(low)}–${formatMs(high)}) against ${formatMs(close.bound.ms)} at ${deciding.achievedRps.toFixed(0)} rps ` +
          `after ${ran}; a longer phase (load.phases[].duration) would settle it`,
      };
    }
    const missedCalls = calls.filter((c) => c.estimateMs === undefined || c.estimateMs > c.bound.ms);
    // Late sends lengthen what is timed from the send, never the gaps between tokens.
    const survived = deciding.validity?.note;
    const overstated = !survived && deciding.generatorLimited && missedCalls.some((c) => c.bound.metric !== 'interTokenLatency');
    const missed = missedCalls
      .map((c) =>
        c.estimateMs === undefined
          ? `${boundLabel(c.bound)} not measured: no response streamed a token`
          : `${boundLabel(c.bound)} ${formatMs(c.estimateMs)} > ${formatMs(c.bound.ms)}`,
      )
      .join(', ');
    const why =
      deciding.errorRate > slo.maxErrorRate
        ? `error rate ${(deciding.errorRate * 100).toFixed(1)}% > ${(slo.maxErrorRate * 100).toFixed(1)}% at ${deciding.achievedRps.toFixed(0)} rps: ${errorKinds(deciding.errors)}`
        : `${missed} at ${deciding.achievedRps.toFixed(0)} rps${survived ? `; ${survived}` : overstated ? '; the load generator fell behind, so this may overstate it' : ''}`;
    const unreachable =
      phases.every((p) => p.errorRate >= 1) && phases.every((p) => Object.keys(p.errors).every((kind) => kind.startsWith('connection_')));
    return {
      ...base,
      ...latency,
      ...priced,
      feasible: false,
      failure: `fails the SLO (${why})`,
      ...(unreachable ? { unreachable: errorKinds(deciding.errors) } : {}),
    };
  }
  const maxRps = deciding.achievedRps;
  if (candidate.scaling === 'instances' && deciding.requests < MIN_REQUESTS_TO_SIZE) {
    // A phase above that failed (not one that was inconclusive) bounds its capacity from above, however briefly it passed.
    const failedAbove = failing.filter((p) => plannedRate(p) > plannedRate(deciding)).map(plannedRate);
    const ran = `${deciding.requests} requests in ${(deciding.durationMs / 1000).toFixed(1)} s`;
    const longer =
      plannedRate(deciding) > 0 ? ` (${Math.ceil(MIN_REQUESTS_TO_SIZE / plannedRate(deciding))} s at ${plannedRate(deciding).toFixed(0)} rps)` : '';
    return {
      ...base,
      ...latencyFields(boundCall(deciding, sloBounds(slo)[0]!)),
      ...priced,
      feasible: false,
      tooShortToSize: true,
      ...(failedAbove.length > 0 ? { capacityBelowRps: Math.min(...failedAbove) } : {}),
      failure:
        `met the SLO, but measured too briefly to size: its busiest passing phase (${deciding.name}) completed ${ran}, ` +
        `which puts its rate only within ±${Math.round(196 / Math.sqrt(Math.max(1, deciding.requests)))}%; ` +
        `phases of at least ${MIN_REQUESTS_TO_SIZE} requests${longer} would`,
    };
  }
  if (slo.minThroughput !== undefined && maxRps < slo.minThroughput && candidate.scaling === 'per-request') {
    return {
      ...base,
      maxRpsWithinSlo: maxRps,
      feasible: false,
      failure: `fails the SLO (highest rate within it ${maxRps.toFixed(1)} rps < minimum ${slo.minThroughput} rps)`,
    };
  }
  // Per-request platforms scale out by themselves: one "unit" is the whole endpoint. An
  // instance-based unit is what was measured (its instance count), and is bought whole.
  const perUnit = candidate.scaling === 'instances' ? (candidate.instancesPerUnit ?? 1) : 1;
  const unitsAt = (rps: number) => (candidate.scaling === 'instances' ? Math.max(1, Math.ceil(traffic.peakRps / rps - 1e-9)) : 1);
  const instancesAt = (rps: number) => unitsAt(rps) * perUnit;
  const instances = instancesAt(maxRps);
  // The latency to compare is the one at the load each unit carries at the forecast peak: the
  // lightest passing phase at or above it (the busiest one only says how far capacity goes).
  const perUnitLoad = traffic.peakRps / unitsAt(maxRps);
  const atPeak =
    passing
      .filter((p) => p.achievedRps >= 0.9 * perUnitLoad)
      .reduce<PhaseResult | undefined>((a, b) => (!a || b.achievedRps < a.achievedRps ? b : a), undefined) ?? deciding;
  const capacity = capacityRange(phases, verdicts, deciding, slo);
  const instancesRange: [number, number] = [instancesAt(capacity[1]), instancesAt(capacity[0])];
  const averageRps = traffic.averageRps;
  // Billed per instance: a million inferences cost one instance's hour over the rate one instance carries.
  const costAt = (n: number, rps: number) =>
    candidateCost(price, { instances: n, phase: atPeak, maxRps: rps / perUnit, averageRps }, input.hoursPerMonth).monthlyUsd;
  const atPeakCalls = boundCalls(atPeak, slo);
  const tokenLatencies = Object.fromEntries(
    atPeakCalls.flatMap((c) => (c.bound.metric !== 'latency' && c.estimateMs !== undefined ? [[c.bound.metric, c.estimateMs]] : [])),
  );
  return {
    ...base,
    ...latencyFields(atPeakCalls[0]!),
    maxRpsWithinSlo: maxRps,
    maxRpsWithinSloRange: capacity,
    instances,
    instancesRange,
    ...priced,
    ...costFields(candidateCost(price, { instances, phase: atPeak, maxRps: maxRps / perUnit, averageRps }, input.hoursPerMonth)),
    monthlyCostRangeUsd: [costAt(instancesRange[0], capacity[1]), costAt(instancesRange[1], capacity[0])],
    ...(deciding.tokens ? { outputTokensPerSecond: deciding.tokens.outputTokensPerSecond } : {}),
    ...(Object.keys(tokenLatencies).length > 0 ? { tokenLatenciesMs: tokenLatencies } : {}),
    feasible: true,
  };
}

/**
 * A measured candidate's verdict with its quality judged against the quality SLO: one that meets the
 * latency SLO but misses the quality one, or whose quality interval straddles the bound, or whose
 * answers could not be scored, is not feasible, and says so with the figures. Its cost stays, so
 * the report can show what the cheaper, worse candidate would have saved.
 */
function withQuality(j: Judged, candidate: CandidateOutcome, input: SelectionInput): Judged {
  if (!input.quality || candidate.status !== 'measured') return j;
  const result: QualityResult = candidate.quality ?? {
    metric: input.quality.metric,
    examples: 0,
    scored: 0,
    failedRequests: {},
    problem: 'no quality measurement was recorded for it',
  };
  const judged = judgeQuality(result, input.quality.slo);
  const quality: CandidateQuality = {
    metric: result.metric,
    ...(result.value !== undefined ? { value: result.value } : {}),
    ...(result.interval ? { interval: result.interval } : {}),
    examples: result.scored,
    call: judged.status,
    text: judged.text,
    ...(result.reference !== undefined ? { reference: result.reference } : {}),
    ...(result.relative ? { relative: result.relative } : {}),
  };
  if (judged.status === 'meets') return { ...j, quality };
  if (!j.feasible) return { ...j, quality, failure: `${j.failure}; quality: ${judged.text}` };
  const cost = j.monthlyCostUsd !== undefined ? `; it would cost ${formatUsd(j.monthlyCostUsd)}/month` : '';
  return {
    ...j,
    quality,
    feasible: false,
    qualityDecided: judged.status,
    failure:
      judged.status === 'too-close'
        ? `too close to call whether it meets the quality SLO: ${judged.text}${cost}`
        : `fails the quality SLO (${judged.text})${cost}`,
  };
}

/**
 * How far the measurements pin capacity down: from the busiest phase that met the SLO with its
 * whole interval (certain), to the first rate above the deciding phase that did not meet it, as
 * offered (a passing top phase leaves the top open: capacity is at least that). Phases can say no finer than
 * their rates, so with fixed phases the range is as coarse as their spacing.
 */
function capacityRange(
  phases: readonly PhaseResult[],
  verdicts: ReadonlyMap<PhaseResult, ReturnType<typeof phaseVerdict>>,
  deciding: PhaseResult,
  slo: SelectionSlo,
): [number, number] {
  const certainPass = new Set(phases.filter((p) => verdicts.get(p) === 'pass' && boundCalls(p, slo).every((c) => c.call === 'within')));
  // Every probe at a rate must be a certain pass for that rate to be certain.
  const uncertainRates = new Set(phases.filter((p) => !certainPass.has(p)).map(plannedRate));
  const certain = phases.filter((p) => !uncertainRates.has(plannedRate(p)));
  const low = certain.length > 0 ? Math.min(deciding.achievedRps, Math.max(...certain.map((p) => p.achievedRps))) : deciding.achievedRps;
  const above = phases.filter((p) => plannedRate(p) > plannedRate(deciding) && verdicts.get(p) !== 'pass');
  // The rate a failing phase offered, not what it completed: overloaded, it completes fewer (the
  // rest still queued at its end), which would put the bound below the rate that passed.
  const high = above.length > 0 ? Math.min(...above.map(plannedRate)) : deciding.achievedRps;
  return [low, Math.max(deciding.achievedRps, high)];
}

/**
 * Fewest requests in the phase capacity is read from before instances are sized from it: n
 * arrivals put the rate within about ±2/√n, so 50 within ±28% (a 1 s phase at 20 rps, ±44%, does not).
 */
export const MIN_REQUESTS_TO_SIZE = 50;

/** The rate a phase was planned at (open loop), or what it achieved (closed loop). */
const plannedRate = (phase: PhaseResult): number => phase.rate ?? phase.achievedRps;

function costFields(
  cost: CandidateCost,
): Pick<
  CandidateVerdict,
  'monthlyCostUsd' | 'onDemandMonthlyCostUsd' | 'costPerHourUsd' | 'costPerMillionInferencesUsd' | 'costPerMillionOutputTokensUsd'
> {
  return {
    monthlyCostUsd: cost.monthlyUsd,
    ...(cost.onDemandMonthlyUsd !== undefined ? { onDemandMonthlyCostUsd: cost.onDemandMonthlyUsd } : {}),
    ...(cost.usdPerInstanceHour !== undefined ? { costPerHourUsd: cost.usdPerInstanceHour } : {}),
    ...(cost.usdPerMillionInferences !== undefined ? { costPerMillionInferencesUsd: cost.usdPerMillionInferences } : {}),
    ...(cost.usdPerMillionOutputTokens !== undefined ? { costPerMillionOutputTokensUsd: cost.usdPerMillionOutputTokens } : {}),
  };
}

/** What the frontier compares: cost, latency and, where measured, quality (higher is better for a share, lower for an error). */
interface FrontierPoint {
  readonly id: string;
  readonly monthlyCostUsd?: number;
  readonly sloLatencyMs?: number;
  readonly quality?: { readonly metric: QualityMetric; readonly value?: number };
}

/**
 * Feasible candidates on the Pareto frontier of cost × latency × quality: no other is at least as
 * cheap, as fast and as good, and better in one. Without quality, the cost/latency frontier.
 */
export function paretoFrontier<T extends FrontierPoint>(items: readonly T[]): string[] {
  return items.filter((a) => !items.some((b) => b !== a && dominates(b, a))).map((a) => a.id);
}

/** How much better `b`'s quality is than `a`'s (0 where either has none): positive when better. */
function qualityAdvantage(b: FrontierPoint, a: FrontierPoint): number {
  const qb = b.quality?.value;
  const qa = a.quality?.value;
  if (qb === undefined || qa === undefined) return 0;
  return isProportion(b.quality!.metric) ? qb - qa : qa - qb;
}

function dominates(b: FrontierPoint, a: FrontierPoint): boolean {
  const better = qualityAdvantage(b, a);
  return (
    b.monthlyCostUsd! <= a.monthlyCostUsd! &&
    b.sloLatencyMs! <= a.sloLatencyMs! &&
    better >= 0 &&
    (b.monthlyCostUsd! < a.monthlyCostUsd! || b.sloLatencyMs! < a.sloLatencyMs! || better > 0)
  );
}

/**
 * Recommends a candidate: the cheapest (cost), the fastest (speed) or the best weighted score
 * (balanced) among those that meet the SLO at the forecast peak. When the measurements cannot
 * tell the top two apart (their SLO-percentile intervals overlap) the cheaper wins, and the
 * selection says so. Every candidate gets a plain reason.
 */
export function selectCandidate(input: SelectionInput): Selection {
  const judged = input.candidates.map((c) => withQuality(judge(c, input), c, input));
  const feasible = judged.filter((j) => j.feasible);
  const frontier = paretoFrontier(feasible);
  const { strategy, slo } = input;
  const minCost = Math.min(...feasible.map((f) => f.monthlyCostUsd!));
  const minLatency = Math.min(...feasible.map((f) => f.sloLatencyMs!));
  const score = (j: Judged) =>
    strategy.type === 'cost'
      ? [j.monthlyCostUsd!, j.sloLatencyMs!]
      : strategy.type === 'speed'
        ? [j.sloLatencyMs!, j.monthlyCostUsd!]
        : [
            strategy.weight * (j.monthlyCostUsd! / Math.max(minCost, 1e-9)) + (1 - strategy.weight) * (j.sloLatencyMs! / Math.max(minLatency, 1e-9)),
            j.monthlyCostUsd!,
          ];
  const ranked = [...feasible].sort((a, b) => {
    const [a1, a2] = score(a);
    const [b1, b2] = score(b);
    return a1 - b1 || a2 - b2;
  });

  let best: Judged | undefined = ranked[0];
  let confidenceNote: string | undefined;
  const runnerUp = ranked[1];
  if (best && runnerUp && strategy.type !== 'cost' && overlaps(best, runnerUp)) {
    const cheaper = runnerUp.monthlyCostUsd! < best.monthlyCostUsd! ? runnerUp : best;
    confidenceNote = `${best.id} and ${runnerUp.id} cannot be told apart: their ${percentileLabel(slo.percentile)} intervals overlap (${interval(best)} and ${interval(runnerUp)}); choosing the cheaper, ${cheaper.id}`;
    best = cheaper;
  } else if (
    best &&
    runnerUp &&
    strategy.type === 'cost' &&
    Math.abs(runnerUp.monthlyCostUsd! - best.monthlyCostUsd!) < 0.005 &&
    overlaps(best, runnerUp)
  ) {
    confidenceNote = `${best.id} and ${runnerUp.id} cost the same and their ${percentileLabel(slo.percentile)} intervals overlap; either will do`;
  } else if (best && runnerUp && strategy.type === 'cost' && costRangesOverlap(best, runnerUp)) {
    confidenceNote = cannotTellApart(best, runnerUp);
  }

  const measurementNote = unmeasuredCheaper(judged, best, input);
  if (measurementNote) best = undefined;
  const undecided = undecidedCheaper(judged, best, input);
  if (undecided) confidenceNote = confidenceNote ? `${confidenceNote}; ${undecided}` : undecided;
  const verdicts = judged.map((j): CandidateVerdict => {
    const { failure, ...rest } = j;
    const onFrontier = frontier.includes(j.id);
    const recommended = best?.id === j.id;
    return { ...rest, onFrontier, recommended, reason: reasonFor(j, failure, best, recommended, onFrontier, feasible, input) };
  });
  return {
    ...(best ? { recommended: best.id } : {}),
    strategy,
    frontier,
    ...(confidenceNote ? { confidenceNote } : {}),
    ...(measurementNote ? { measurementNote } : {}),
    ...(!best && !measurementNote ? { noRecommendationNote: whyNoRecommendation(judged) } : {}),
    candidates: verdicts,
  };
}

/**
 * Why nothing is recommended, each case with its candidates and what would settle it: a sweep
 * whose only candidate was measured too briefly, or never answered, must not read as one whose
 * candidates all fail the SLO.
 */
function whyNoRecommendation(judged: readonly Judged[]): string {
  const named = (js: readonly Judged[]) => js.map((j) => j.id).join(', ');
  const were = (js: readonly Judged[]) => (js.length > 1 ? 'were' : 'was');
  const cases: string[] = [];
  const short = judged.filter((j) => j.tooShortToSize);
  if (short.length > 0)
    cases.push(
      `${named(short)} met the SLO but ${were(short)} measured too briefly to size; phases of at least ${MIN_REQUESTS_TO_SIZE} requests (load.phases[].duration) would settle it`,
    );
  const close = judged.filter((j) => j.tooCloseToCall);
  if (close.length > 0) cases.push(`${named(close)} ${were(close)} too close to call against the SLO; longer phases would settle it`);
  const unreachable = judged.filter((j) => j.unreachable);
  if (unreachable.length > 0)
    cases.push(
      `${named(unreachable)} could not be reached: no request got an answer (${unreachable[0]!.unreachable}); check the endpoint and run again`,
    );
  const broken = judged.filter((j) => j.status === 'failed' || j.status === 'unavailable');
  if (broken.length > 0) cases.push(`${named(broken)} could not be measured (${broken[0]!.failure}); fix that and run again`);
  const refused = judged.filter((j) => j.status === 'over-budget');
  if (refused.length > 0) cases.push(`${named(refused)} ${were(refused)} over the budget (budget.maxUsd)`);
  const skipped = judged.filter((j) => j.status === 'skipped');
  if (skipped.length > 0) cases.push(`${named(skipped)} ${were(skipped)} not deployed (${skipped[0]!.failure})`);
  const qualityClose = judged.filter((j) => j.qualityDecided === 'too-close');
  if (qualityClose.length > 0)
    cases.push(
      `${named(qualityClose)} met the latency SLO but ${were(qualityClose)} too close to call against the quality SLO; more examples (quality.dataset) would settle it`,
    );
  const qualityUnknown = judged.filter((j) => j.qualityDecided === 'unknown');
  if (qualityUnknown.length > 0)
    cases.push(`${named(qualityUnknown)} met the latency SLO but ${qualityUnknown[0]!.quality!.text}; fix that and run again`);
  const qualityMiss = judged.filter((j) => j.qualityDecided === 'misses');
  if (qualityMiss.length > 0)
    cases.push(`${named(qualityMiss)} met the latency SLO but ${qualityMiss.length > 1 ? 'fail' : 'fails'} the quality SLO`);
  const failing = judged.filter(
    (j) => j.status === 'measured' && !j.feasible && !j.tooShortToSize && !j.tooCloseToCall && !j.unreachable && !j.inconclusive && !j.qualityDecided,
  );
  if (failing.length > 0) cases.push(`${named(failing)} ${failing.length > 1 ? 'fail' : 'fails'} the SLO`);
  if (cases.length === 0) return 'none: the sweep has no candidate';
  if (failing.length === judged.length) return `none of the candidates meets the SLO (${cases[0]})`;
  if (qualityMiss.length + failing.length === judged.length && qualityMiss.length > 0)
    return `none of the candidates meets both SLOs: ${cases.join('; ')}`;
  return `none: ${cases.join('; ')}`;
}

/**
 * Whether a candidate that could not be measured reliably might beat the best measured one: at one
 * instance it would cost less (a per-request one always might). Then recommending the best measured
 * one would let the machine's noise decide, so the selection says what it saw instead.
 */
function unmeasuredCheaper(judged: readonly Judged[], best: Judged | undefined, input: SelectionInput): string | undefined {
  const cheaper = judged.filter((j) => {
    if (!j.inconclusive) return false;
    if (!best) return true;
    // Judged inconclusive, it carries its hourly price (per-request kinds have none: they always might).
    return j.costPerHourUsd === undefined || j.costPerHourUsd * input.hoursPerMonth < best.monthlyCostUsd!;
  });
  if (cheaper.length === 0) return undefined;
  const names = cheaper.map((j) => `${j.id} (${j.inconclusive})`).join('; ');
  const against = best ? `, and might cost less than the best measured, ${best.id} at ${formatUsd(best.monthlyCostUsd!)}/month` : '';
  const pids = [...new Set(cheaper.flatMap((j) => j.busyPids ?? []))];
  const stop = pids.length > 0 ? `stop ${pids.map((pid) => `pid ${pid}`).join(', ')} or ` : '';
  return `no recommendation: this machine was too busy to measure ${names}${against}; ${stop}run the sweep again on a quieter machine`;
}

/** Candidates too close to call at their lightest rate that would cost less than the recommended one at one instance. */
function undecidedCheaper(judged: readonly Judged[], best: Judged | undefined, input: SelectionInput): string | undefined {
  if (!best) return undefined;
  // At least one instance; a capacity known to be below some rate needs at least the peak over that rate.
  const fewestInstances = (j: Judged) => (j.capacityBelowRps ? Math.max(1, Math.ceil(input.traffic.peakRps / j.capacityBelowRps)) : 1);
  const mightBeCheaper = (j: Judged) =>
    j.costPerHourUsd === undefined || fewestInstances(j) * j.costPerHourUsd * input.hoursPerMonth < best.monthlyCostUsd!;
  const close = judged.filter((j) => j.tooCloseToCall && mightBeCheaper(j));
  const short = judged.filter((j) => j.tooShortToSize && mightBeCheaper(j));
  const notes: string[] = [];
  if (close.length > 0)
    notes.push(
      `${close.map((j) => j.id).join(', ')} might meet the SLO too and cost less than ${best.id}: too close to call at ${close.length > 1 ? 'their' : 'its'} lightest rate; longer phases would settle it`,
    );
  if (short.length > 0)
    notes.push(
      `${short.map((j) => j.id).join(', ')} met the SLO and might cost less than ${best.id}, but ${short.length > 1 ? 'were' : 'was'} measured too briefly to size; longer phases would settle it`,
    );
  const qualityClose = judged.filter(
    (j) => j.qualityDecided === 'too-close' && j.monthlyCostUsd !== undefined && j.monthlyCostUsd < best.monthlyCostUsd!,
  );
  if (qualityClose.length > 0)
    notes.push(
      `${qualityClose.map((j) => j.id).join(', ')} might meet the quality SLO too and ${qualityClose.length > 1 ? 'cost' : 'costs'} less than ${best.id}: ${qualityClose.map((j) => j.quality!.text).join('; ')}`,
    );
  return notes.length > 0 ? notes.join('; ') : undefined;
}

function costRangesOverlap(a: Judged, b: Judged): boolean {
  const [aLow, aHigh] = a.monthlyCostRangeUsd ?? [a.monthlyCostUsd!, a.monthlyCostUsd!];
  const [bLow, bHigh] = b.monthlyCostRangeUsd ?? [b.monthlyCostUsd!, b.monthlyCostUsd!];
  return aLow <= bHigh && bLow <= aHigh;
}

const costRange = (j: Judged) => {
  const [low, high] = j.monthlyCostRangeUsd ?? [j.monthlyCostUsd!, j.monthlyCostUsd!];
  return low === high ? `${formatUsd(low)}/month` : `${formatUsd(low)}–${formatUsd(high)}/month`;
};

/** The best two's cost ranges overlap: which is cheaper depends on capacity the phases did not pin down. */
function cannotTellApart(best: Judged, runnerUp: Judged): string {
  const settle = [best, runnerUp]
    .filter((j) => j.maxRpsWithinSloRange && j.maxRpsWithinSloRange[0] < j.maxRpsWithinSloRange[1])
    .map((j) => `${j.id} between ${j.maxRpsWithinSloRange![0].toFixed(0)} and ${j.maxRpsWithinSloRange![1].toFixed(0)} rps`);
  const how = settle.length > 0 ? `a rate search (load.search) of ${settle.join(' and of ')} would settle it` : 'longer phases would settle it';
  return `too close to call: ${best.id} (${costRange(best)}) and ${runnerUp.id} (${costRange(runnerUp)}) could each be the cheaper; recommending ${best.id}, the cheaper at the measured capacity; ${how}`;
}

function overlaps(a: Judged, b: Judged): boolean {
  const [aLow, aHigh] = a.sloLatencyIntervalMs!;
  const [bLow, bHigh] = b.sloLatencyIntervalMs!;
  return aLow <= bHigh && bLow <= aHigh;
}

const interval = (j: Judged) => `${formatMs(j.sloLatencyIntervalMs![0])}–${formatMs(j.sloLatencyIntervalMs![1])}`;

function reasonFor(
  j: Judged,
  failure: string | undefined,
  best: Judged | undefined,
  recommended: boolean,
  onFrontier: boolean,
  feasible: Judged[],
  input: SelectionInput,
): string {
  const { slo, strategy } = input;
  if (j.status === 'unavailable') return `unavailable: ${failure}`;
  if (j.status === 'failed') return `failed: ${failure}`;
  if (j.status === 'over-budget') return `over budget: ${failure}`;
  if (j.status === 'skipped') return `skipped: ${failure}`;
  if (!j.feasible) return failure!;
  const tokens = tokenBounds(slo)
    .filter((b) => j.tokenLatenciesMs?.[b.metric] !== undefined)
    .map((b) => `, ${boundLabel(b)} ${formatMs(j.tokenLatenciesMs![b.metric]!)}`)
    .join('');
  const perToken = j.costPerMillionOutputTokensUsd !== undefined ? `, ${formatUsd(j.costPerMillionOutputTokensUsd)} per million output tokens` : '';
  const summary = `${formatUsd(j.monthlyCostUsd!)}/month${j.instances && j.instances > 1 ? ` on ${j.instances} instances` : ''}, ${percentileLabel(slo.percentile)} ${formatMs(j.sloLatencyMs!)}${tokens}${perToken}`;
  if (recommended) {
    const by =
      strategy.type === 'cost' ? 'the cheapest' : strategy.type === 'speed' ? 'the fastest' : `the best balance (cost weight ${strategy.weight})`;
    const quality = j.quality ? `; quality: ${j.quality.text}` : '';
    return `recommended: ${by} that meets ${sloBounds(slo).map(boundText).join(', ')} at ${+input.traffic.peakRps.toFixed(2)} rps peak: ${summary}${quality}`;
  }
  const dominator = feasible.find((other) => other !== j && dominates(other, j));
  if (dominator)
    return `dominated by ${dominator.id}: it costs ${formatUsd(dominator.monthlyCostUsd!)} and has ${percentileLabel(slo.percentile)} ${formatMs(dominator.sloLatencyMs!)} (this: ${summary})`;
  if (onFrontier && best) {
    const more = `${formatUsd(j.monthlyCostUsd! - best.monthlyCostUsd!)}/month more`;
    if (qualityAdvantage(j, best) > 0 && j.monthlyCostUsd! >= best.monthlyCostUsd!)
      return `on the frontier, not chosen: better ${j.quality!.metric} than ${best.id} (${formatQuality(j.quality!.value!)} against ${formatQuality(best.quality!.value!)}) but ${more} (${summary})`;
    const faster = j.sloLatencyMs! < best.sloLatencyMs!;
    return `on the frontier, not chosen: ${faster ? `faster than ${best.id} but ${more}` : `cheaper than ${best.id} but slower`} (${summary})`;
  }
  return `meets the SLO, not chosen (${summary})`;
}
