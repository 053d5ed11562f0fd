/**
 * What a SageMaker candidate costs: real-time and asynchronous endpoints by the instance hour (each
 * at its own rate), serverless per request (compute by memory, data, provisioned concurrency), and
 * what measuring it costs.
 */
import { durationFloorFromSiblings } from '../../cost/candidate-cost';
import { requestsPerMonth, serverlessMonthlyCost } from '../../cost/estimate';
import { ModelsweepError } from '../../errors';
import { hourlyMeasurementCost, type TargetAdapter } from '../adapter';
import { regionOf } from '../cloud/aws-access';
import { KIND_RULES } from '../kind-rules';
import { asSageMaker, type SageMakerDeployment } from './common';

export const sageMakerPricing: Pick<
  TargetAdapter<SageMakerDeployment>,
  'priceKeys' | 'costPerInstanceHour' | 'perRequestMonthlyCost' | 'perRequestMonthlyFloor' | 'estimateMeasurementCost'
> = {
  priceKeys(candidate) {
    const c = asSageMaker(candidate);
    return [
      c.kind === 'sagemaker-serverless'
        ? { catalog: 'sagemaker-serverless', region: regionOf(c) }
        : { catalog: c.kind, region: regionOf(c), type: c.instanceType },
    ];
  },

  costPerInstanceHour(candidate, prices) {
    const c = asSageMaker(candidate);
    return c.kind === 'sagemaker-serverless' ? undefined : prices.instanceHour(c.kind, regionOf(c), c.instanceType).usd;
  },

  perRequestMonthlyCost(candidate, phase, traffic, prices) {
    const c = asSageMaker(candidate);
    if (c.kind !== 'sagemaker-serverless') throw new ModelsweepError('invalid-input', 'only serverless candidates are billed per request');
    // Serverless bills the model's compute time; the client-side mean is the fallback when CloudWatch had nothing.
    const durationMs = phase.serverMetrics?.ModelLatency?.average ?? phase.latencyMs.mean;
    return serverlessMonthlyCost(
      {
        region: regionOf(c),
        memoryMb: c.memorySizeMb,
        durationMs,
        requestsPerMonth: requestsPerMonth(traffic.averageRps, prices),
        provisionedConcurrency: c.provisionedConcurrency,
      },
      prices,
    ).monthlyUsd;
  },

  perRequestMonthlyFloor(candidate, traffic, prices, measured) {
    const c = asSageMaker(candidate);
    if (c.kind !== 'sagemaker-serverless') throw new ModelsweepError('invalid-input', 'only serverless candidates are billed per request');
    // Siblings of its group and variant serve the same model: their model latency (CloudWatch's, never the client's) bounds its own.
    const learnt = durationFloorFromSiblings(
      c.memorySizeMb,
      measured.flatMap((m) =>
        m.candidate.kind === 'sagemaker-serverless' && m.candidate.group === c.group && m.candidate.variant === c.variant && m.candidate.id !== c.id
          ? [
              {
                id: m.candidate.id,
                memoryMb: m.candidate.memorySizeMb,
                durationsMs: m.phases.flatMap((p) =>
                  p.successes > 0 && p.serverMetrics?.ModelLatency ? [p.serverMetrics.ModelLatency.average] : [],
                ),
              },
            ]
          : [],
      ),
      'took',
      0,
    );
    const usd = serverlessMonthlyCost(
      {
        region: regionOf(c),
        memoryMb: c.memorySizeMb,
        durationMs: learnt?.ms ?? 0,
        requestsPerMonth: requestsPerMonth(traffic.averageRps, prices),
        provisionedConcurrency: c.provisionedConcurrency,
      },
      prices,
    ).monthlyUsd;
    const basis = learnt?.basis ?? (c.provisionedConcurrency > 0 ? 'for its provisioned concurrency alone' : 'billed per request');
    return { usd, basis };
  },

  estimateMeasurementCost(candidate, plan, prices) {
    const c = asSageMaker(candidate);
    if (c.kind !== 'sagemaker-serverless') {
      const hourly = prices.instanceHour(c.kind, regionOf(c), c.instanceType).usd * c.instanceCount;
      return hourlyMeasurementCost(hourly, plan, KIND_RULES[c.kind].provisioningSeconds, `${c.instanceCount} × ${c.instanceType}`);
    }
    const p = prices.serverless(regionOf(c)).prices;
    const memory = String(c.memorySizeMb);
    const compute = plan.requests * (plan.assumedDurationMs / 1000) * (p.computePerSecondByMemoryMb[memory] ?? 0);
    const data = ((plan.requests * plan.meanRequestBytes) / 1024 ** 3) * p.dataProcessingPerGb;
    const provisioned =
      c.provisionedConcurrency *
      (plan.loadSeconds + KIND_RULES[c.kind].provisioningSeconds) *
      (p.provisionedConcurrencyPerSecondByMemoryMb?.[memory] ?? 0);
    return {
      usd: compute + data + provisioned,
      basis: `up to ${plan.requests} requests × ${plan.assumedDurationMs} ms at ${c.memorySizeMb} MB${c.provisionedConcurrency ? ` + provisioned concurrency ${c.provisionedConcurrency}` : ''}`,
    };
  },
};
