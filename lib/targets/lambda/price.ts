/** What a Lambda candidate costs: per request at the forecast (billed duration × memory, and requests), and what measuring it costs. */
import { lambdaMonthlyCost, requestsPerMonth } from '../../cost/estimate';
import type { TargetAdapter } from '../adapter';
import { regionOf } from '../cloud/aws-access';
import { asLambda, type LambdaDeployment } from './common';

export const lambdaPricing: Pick<
  TargetAdapter<LambdaDeployment>,
  'costPerInstanceHour' | 'priceKeys' | 'perRequestMonthlyCost' | 'estimateMeasurementCost'
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
