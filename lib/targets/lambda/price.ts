/** What a Lambda candidate costs: per request at the forecast (billed duration × memory, and requests), and what measuring it costs. */
import { durationFloorFromSiblings, type MeasuredCandidate } from '../../cost/candidate-cost';
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

/** Siblings whose billed durations bound this candidate's: the same function, region and architecture. */
function billedFloorFromSiblings(c: LambdaCandidate, measured: readonly MeasuredCandidate[]): { ms: number; basis: string } | undefined {
  return durationFloorFromSiblings(
    c.memorySizeMb,
    measured.flatMap((m) => {
      const s = m.candidate;
      if (
        s.kind !== 'lambda' ||
        s.id === c.id ||
        s.functionName !== c.functionName ||
        regionOf(s) !== regionOf(c) ||
        s.architecture !== c.architecture
      )
        return [];
      // Lambda's own billed durations only: client latency adds the network, which would put the bound too high.
      return [
        {
          id: s.id,
          memoryMb: s.memorySizeMb,
          durationsMs: m.phases.flatMap((p) => (p.successes > 0 && p.billedDurationMs ? [p.billedDurationMs.mean] : [])),
        },
      ];
    }),
    'billed',
    1,
  );
}
