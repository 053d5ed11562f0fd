import type { PhaseResult } from '../load/phase';
import type { Candidate } from '../spec/expand';
import { costPerMillionInferences } from './estimate';
import type { PriceBook, PriceKey, PriceSource } from './price-book';

/** The traffic forecast that monthly cost is computed at. */
export interface TrafficForecast {
  readonly averageRps: number;
  readonly peakRps: number;
  readonly hourlyProfile?: readonly number[];
}

/** How a candidate kind is priced: each target adapter supplies its kind's prices. */
export interface CandidatePricing {
  /** How capacity grows: by adding instances, or by the platform per request. */
  readonly scaling: 'instances' | 'per-request';
  /** The prices the candidate is billed by (none for kinds whose cost the spec gives). */
  priceKeys?(candidate: Candidate): PriceKey[];
  /** Instances one deployment of the candidate holds (its instance count). @default 1 */
  instancesPerUnit?(candidate: Candidate): number;
  /** One instance-hour of the candidate (instance-based kinds), for the cost model. */
  costPerInstanceHour(candidate: Candidate, prices: PriceBook): number | undefined;
  /** Monthly cost at the forecast of a per-request candidate, from a phase it passed. */
  perRequestMonthlyCost?(candidate: Candidate, phase: PhaseResult, traffic: TrafficForecast, prices: PriceBook): number;
  /**
   * The least a per-request candidate could cost a month at the forecast, whatever it measures:
   * its platform's least billing, or a bound from what its measured siblings billed.
   */
  perRequestMonthlyFloor?(candidate: Candidate, traffic: TrafficForecast, prices: PriceBook, measured: readonly MeasuredCandidate[]): CostFloor;
}

/** A candidate measured earlier in the sweep, with its phases: what a floor may learn from. */
export interface MeasuredCandidate {
  readonly candidate: Candidate;
  readonly phases: readonly PhaseResult[];
}

/** The least a candidate could cost a month at the forecast, before it is measured, and why. */
export interface CostFloor {
  readonly usd: number;
  /** How the floor was found, for a skip reason: "even on one instance", "even at 1 ms a request". */
  readonly basis: string;
}

/**
 * The least `candidate` could cost a month at the forecast, whatever its measurements say: one
 * deployment of it all month (instance kinds: sizing never buys fewer), or its platform's least
 * billing (per-request kinds). What the search compares with measured costs before deploying anything.
 */
export function costFloor(
  pricing: CandidatePricing,
  candidate: Candidate,
  traffic: TrafficForecast,
  prices: PriceBook,
  measured: readonly MeasuredCandidate[] = [],
): CostFloor {
  if (pricing.scaling === 'instances') {
    const hourly = pricing.costPerInstanceHour(candidate, prices);
    const perUnit = pricing.instancesPerUnit?.(candidate) ?? 1;
    if (hourly === undefined) return { usd: 0, basis: 'unpriced' };
    return {
      usd: hourly * perUnit * prices.hoursPerMonth,
      basis: perUnit > 1 ? `even on one deployment of ${perUnit} instances` : 'even on one instance',
    };
  }
  return pricing.perRequestMonthlyFloor?.(candidate, traffic, prices, measured) ?? { usd: 0, basis: 'billed per request' };
}

/** One candidate's prices, bound to its configuration, the forecast and the catalog. */
export interface CandidatePrice {
  /** What one instance costs per hour, where that is how the candidate is billed. */
  readonly usdPerInstanceHour?: number;
  /** Per-request kinds: the monthly cost at the forecast, priced from a phase's measured latencies. */
  readonly monthlyFromPhase?: (phase: PhaseResult) => number;
  /** The same candidate priced on demand, where the book prices it under a commitment. */
  readonly onDemand?: CandidatePrice;
  /** Where its figures come from (none where the spec gives its cost). */
  readonly sources?: readonly PriceSource[];
}

/** What a candidate costs at the forecast. */
export interface CandidateCost {
  readonly monthlyUsd: number;
  /** Instance-billed kinds: one instance's hourly price. */
  readonly usdPerInstanceHour?: number;
  /** Priced under a commitment: the monthly cost on demand, beside it. */
  readonly onDemandMonthlyUsd?: number;
  /** Instance-billed kinds: a million inferences at the highest rate one instance sustained within the SLO. */
  readonly usdPerMillionInferences?: number;
  /**
   * Streamed responses: a million output tokens, at the output tokens per request the priced phase
   * measured. Instance-billed kinds: at the highest rate one instance sustained within the SLO (as
   * per million inferences); per-request kinds: at the forecast's average rate.
   */
  readonly usdPerMillionOutputTokens?: number;
}

/** A candidate's prices from its kind's pricing: the one place that decides how a candidate is billed. */
export function priceOfCandidate(pricing: CandidatePricing, candidate: Candidate, traffic: TrafficForecast, prices: PriceBook): CandidatePrice {
  const usdPerInstanceHour = pricing.costPerInstanceHour(candidate, prices);
  const perRequest = pricing.scaling === 'per-request' ? pricing.perRequestMonthlyCost : undefined;
  const keys = pricing.priceKeys?.(candidate) ?? [];
  return {
    ...(usdPerInstanceHour !== undefined ? { usdPerInstanceHour } : {}),
    ...(perRequest ? { monthlyFromPhase: (phase: PhaseResult) => perRequest(candidate, phase, traffic, prices) } : {}),
    ...(keys.length > 0 ? { sources: keys.map((key) => prices.sourceOf(key)) } : {}),
    ...(prices.commitment !== 'on-demand' && keys.length > 0
      ? { onDemand: priceOfCandidate(pricing, candidate, traffic, prices.with({ commitment: 'on-demand' })) }
      : {}),
  };
}

/**
 * Hourly, per-inference, per-token and monthly cost of a candidate that meets the SLO: `instances`
 * of it (one for per-request kinds), `phase` the measured phase it is priced from, `maxRps` the
 * highest rate one instance sustained within the SLO, `averageRps` the forecast's average.
 */
export function candidateCost(
  price: CandidatePrice,
  at: { readonly instances: number; readonly phase: PhaseResult; readonly maxRps: number; readonly averageRps: number },
  hoursPerMonth: number,
): CandidateCost {
  const hourly = price.usdPerInstanceHour;
  const monthlyOf = (p: CandidatePrice) =>
    p.monthlyFromPhase ? p.monthlyFromPhase(at.phase) : (p.usdPerInstanceHour ?? Number.NaN) * at.instances * hoursPerMonth;
  const monthlyUsd = monthlyOf(price);
  const onDemand = price.onDemand ? { onDemandMonthlyUsd: monthlyOf(price.onDemand) } : {};
  const tokens = at.phase.tokens;
  const tokensPerRequest = tokens && tokens.streams > 0 ? tokens.outputTokens / tokens.streams : undefined;
  if (hourly === undefined) {
    const perRequest = at.averageRps > 0 ? costPerMillionInferences(monthlyUsd / hoursPerMonth, at.averageRps) : undefined;
    return { monthlyUsd, ...onDemand, ...perMillionTokens(perRequest, tokensPerRequest) };
  }
  const usdPerMillionInferences = costPerMillionInferences(hourly, at.maxRps);
  return {
    monthlyUsd,
    ...onDemand,
    usdPerInstanceHour: hourly,
    usdPerMillionInferences,
    ...perMillionTokens(usdPerMillionInferences, tokensPerRequest),
  };
}

/** A million inferences' cost over the output tokens each streamed. */
function perMillionTokens(
  usdPerMillionInferences: number | undefined,
  tokensPerRequest: number | undefined,
): Pick<CandidateCost, 'usdPerMillionOutputTokens'> {
  if (usdPerMillionInferences === undefined || !tokensPerRequest || !Number.isFinite(usdPerMillionInferences)) return {};
  return { usdPerMillionOutputTokens: usdPerMillionInferences / tokensPerRequest };
}

/** What a floor may assume a measured mean duration could be off by, run to run. */
const RUN_TO_RUN = 0.9;

/**
 * The least duration a request of a per-request candidate at `memoryMb` could take, from its
 * siblings measured in this sweep, on platforms that give CPU in proportion to memory (Lambda,
 * SageMaker serverless): more memory makes a request at most proportionally faster, and less never
 * makes it faster. From a sibling at M0 with mean d0, at M it takes at least d0 × min(M0, M) / M
 * (times 0.9 for run-to-run noise), never under `leastMs`; the highest such bound wins.
 */
export function durationFloorFromSiblings(
  memoryMb: number,
  siblings: ReadonlyArray<{ readonly id: string; readonly memoryMb: number; readonly durationsMs: readonly number[] }>,
  what: 'billed' | 'took',
  leastMs: number,
): { ms: number; basis: string } | undefined {
  let best: { ms: number; basis: string } | undefined;
  for (const s of siblings) {
    if (s.durationsMs.length === 0) continue;
    const d0 = Math.min(...s.durationsMs);
    const ms = Math.max(leastMs, (RUN_TO_RUN * d0 * Math.min(s.memoryMb, memoryMb)) / memoryMb);
    if (!best || ms > best.ms)
      best = {
        ms,
        basis: `even at ${ms.toFixed(1)} ms a request (${s.id} ${what} ${d0.toFixed(1)} ms; more memory is at most proportionally faster)`,
      };
  }
  return best;
}
