import type { PhaseResult } from '../load/phase';
import type { Candidate } from '../spec/expand';
import type { PriceCatalog } from './catalog';
import { costPerMillionInferences } from './estimate';

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
  /** One instance-hour of the candidate (instance-based kinds), for the cost model. */
  costPerInstanceHour(candidate: Candidate, prices: PriceCatalog): number | undefined;
  /** Monthly cost at the forecast of a per-request candidate, from a phase it passed. */
  perRequestMonthlyCost?(candidate: Candidate, phase: PhaseResult, traffic: TrafficForecast, prices: PriceCatalog): number;
}

/** One candidate's prices, bound to its configuration, the forecast and the catalog. */
export interface CandidatePrice {
  /** What one instance costs per hour, where that is how the candidate is billed. */
  readonly usdPerInstanceHour?: number;
  /** Per-request kinds: the monthly cost at the forecast, priced from a phase's measured latencies. */
  readonly monthlyFromPhase?: (phase: PhaseResult) => number;
}

/** What a candidate costs at the forecast. */
export interface CandidateCost {
  readonly monthlyUsd: number;
  /** Instance-billed kinds: one instance's hourly price. */
  readonly usdPerInstanceHour?: number;
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
export function priceOfCandidate(pricing: CandidatePricing, candidate: Candidate, traffic: TrafficForecast, prices: PriceCatalog): CandidatePrice {
  const usdPerInstanceHour = pricing.costPerInstanceHour(candidate, prices);
  const perRequest = pricing.scaling === 'per-request' ? pricing.perRequestMonthlyCost : undefined;
  return {
    ...(usdPerInstanceHour !== undefined ? { usdPerInstanceHour } : {}),
    ...(perRequest ? { monthlyFromPhase: (phase: PhaseResult) => perRequest(candidate, phase, traffic, prices) } : {}),
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
  const monthlyUsd = price.monthlyFromPhase ? price.monthlyFromPhase(at.phase) : (hourly ?? Number.NaN) * at.instances * hoursPerMonth;
  const tokens = at.phase.tokens;
  const tokensPerRequest = tokens && tokens.streams > 0 ? tokens.outputTokens / tokens.streams : undefined;
  if (hourly === undefined) {
    const perRequest = at.averageRps > 0 ? costPerMillionInferences(monthlyUsd / hoursPerMonth, at.averageRps) : undefined;
    return { monthlyUsd, ...perMillionTokens(perRequest, tokensPerRequest) };
  }
  const usdPerMillionInferences = costPerMillionInferences(hourly, at.maxRps);
  return { monthlyUsd, usdPerInstanceHour: hourly, usdPerMillionInferences, ...perMillionTokens(usdPerMillionInferences, tokensPerRequest) };
}

/** A million inferences' cost over the output tokens each streamed. */
function perMillionTokens(
  usdPerMillionInferences: number | undefined,
  tokensPerRequest: number | undefined,
): Pick<CandidateCost, 'usdPerMillionOutputTokens'> {
  if (usdPerMillionInferences === undefined || !tokensPerRequest || !Number.isFinite(usdPerMillionInferences)) return {};
  return { usdPerMillionOutputTokens: usdPerMillionInferences / tokensPerRequest };
}
