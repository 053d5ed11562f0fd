/** What a Lambda candidate costs: per request at the forecast (billed duration × memory, and requests), and what measuring it costs. */
import type { MeasuredCandidate } from '../../cost/candidate-cost';
import { lambdaMonthlyCost, requestsPerMonth } from '../../cost/estimate';
import type { TargetAdapter } from '../adapter';
import { regionOf } from '../cloud/aws-access';
import { asLambda, type LambdaCandidate, type LambdaDeployment } from './common';

export const lambdaPricing: Pick<
  TargetAdapter<LambdaDeployment>,
  'costPerInstanceHour' | 'priceKeys' | 'perRequestMonthlyCost' | 'perRequestMonthlyFloor' | 'estimateMeasurementCost'
> = {
  costPerInstanceHour: () => undefined,

  priceKeys: (candidate) => [{ catalog: 'lambda', region: regionOf(asLambda(candidate)) }],

  perRequestMonthlyCost(candidate, phase, traffic, prices) {
    const c = asLambda(candidate);
    // Lambda bills its own measured duration; client latency (which adds the network) is the fallback.
    const billedDurationMs = phase.billedDurationMs?.mean ?? phase.latencyMs.mean;
    return lambdaMonthlyCost(
      {
        region: regionOf(c),
        architecture: c.architecture,
        memoryMb: c.memorySizeMb,
        billedDurationMs,
        requestsPerMonth: requestsPerMonth(traffic.averageRps, prices),
      },
      prices,
    ).monthlyUsd;
  },

  perRequestMonthlyFloor(candidate, traffic, prices, measured) {
    const c = asLambda(candidate);
    const learnt = billedFloorFromSiblings(c, measured);
    const usd = lambdaMonthlyCost(
      {
        region: regionOf(c),
        architecture: c.architecture,
        memoryMb: c.memorySizeMb,
        billedDurationMs: learnt?.ms ?? 1,
        requestsPerMonth: requestsPerMonth(traffic.averageRps, prices),
      },
      prices,
    ).monthlyUsd;
    return { usd, basis: learnt?.basis ?? 'even at 1 ms a request (the least Lambda bills)' };
  },

  estimateMeasurementCost(candidate, plan, prices) {
    const c = asLambda(candidate);
    const usd = lambdaMonthlyCost(
      {
        region: regionOf(c),
        architecture: c.architecture,
        memoryMb: c.memorySizeMb,
        billedDurationMs: plan.assumedDurationMs,
        requestsPerMonth: plan.requests,
      },
      prices,
    ).monthlyUsd;
    return { usd, basis: `up to ${plan.requests} invocations × ${plan.assumedDurationMs} ms at ${c.memorySizeMb} MB ${c.architecture}` };
  },
};

/** What a floor may assume a measured mean duration could be off by, run to run. */
const RUN_TO_RUN = 0.9;

/**
 * The least billed duration a Lambda candidate could have, from siblings measured in this sweep
 * (same function, region and architecture): Lambda gives CPU in proportion to memory, so more
 * memory makes a function at most proportionally faster, and less memory never makes it faster.
 * From a sibling at M0 billed d0 a request, at M it bills at least d0 × min(M0, M) / M (times 0.9
 * for run-to-run noise), never under Lambda's 1 ms; the highest such bound wins.
 */
function billedFloorFromSiblings(c: LambdaCandidate, measured: readonly MeasuredCandidate[]): { ms: number; basis: string } | undefined {
  let best: { ms: number; basis: string } | undefined;
  for (const m of measured) {
    const s = m.candidate;
    if (s.kind !== 'lambda' || s.id === c.id || s.functionName !== c.functionName || regionOf(s) !== regionOf(c) || s.architecture !== c.architecture)
      continue;
    // Lambda's own billed durations only: client latency adds the network, which would put the bound too high.
    const billed = m.phases.flatMap((p) => (p.successes > 0 && p.billedDurationMs ? [p.billedDurationMs.mean] : []));
    if (billed.length === 0) continue;
    const d0 = Math.min(...billed);
    const ms = Math.max(1, (RUN_TO_RUN * d0 * Math.min(s.memorySizeMb, c.memorySizeMb)) / c.memorySizeMb);
    if (!best || ms > best.ms)
      best = {
        ms,
        basis: `even at ${ms.toFixed(1)} ms a request (${s.id} billed ${d0.toFixed(1)} ms; more memory is at most proportionally faster)`,
      };
  }
  return best;
}
