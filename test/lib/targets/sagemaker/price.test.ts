import { describe, expect, it } from 'vitest';

import { costFloor, type MeasuredCandidate } from '../../../../lib/cost/candidate-cost';
import { serverlessMonthlyCost } from '../../../../lib/cost/estimate';
import { PriceBook } from '../../../../lib/cost/price-book';
import type { PhaseResult } from '../../../../lib/load/phase';
import type { Candidate } from '../../../../lib/spec/expand';
import { sageMakerPricing } from '../../../../lib/targets/sagemaker/price';

const serverless = (memorySizeMb: number, group = 0, provisionedConcurrency = 0): Candidate => ({
  id: `serverless-${memorySizeMb}mb-g${group}`,
  group,
  environment: {},
  kind: 'sagemaker-serverless',
  region: 'us-east-1',
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/server:1',
  executionRoleArn: 'arn:aws:iam::123456789012:role/sagemaker',
  accept: 'application/json',
  memorySizeMb,
  maxConcurrency: 20,
  provisionedConcurrency,
});
const modelLatency = (averageMs: number) =>
  ({ successes: 100, latencyMs: { mean: averageMs + 40 }, serverMetrics: { ModelLatency: { average: averageMs } } }) as unknown as PhaseResult;
const pricing = { scaling: 'per-request' as const, ...sageMakerPricing };
const prices = PriceBook.snapshot();
const traffic = { averageRps: 20, peakRps: 60 };
const monthlyAt = (memoryMb: number, durationMs: number) =>
  serverlessMonthlyCost({ region: 'us-east-1', memoryMb, durationMs, requestsPerMonth: 20 * 730 * 3600, provisionedConcurrency: 0 }, prices)
    .monthlyUsd;

describe("a serverless candidate's cost floor", () => {
  it('is nothing on demand until a sibling of its group is measured', () => {
    expect(costFloor(pricing, serverless(4096), traffic, prices)).toEqual({ usd: monthlyAt(4096, 0), basis: 'billed per request' });
  });

  it("learns from a sibling's model latency: twice the memory at most twice as fast", () => {
    const measured: MeasuredCandidate[] = [
      { candidate: serverless(2048), phases: [modelLatency(80)] },
      // Another group serves another model: it says nothing about this one.
      { candidate: serverless(2048, 1), phases: [modelLatency(500)] },
    ];
    const floor = costFloor(pricing, serverless(4096), traffic, prices, measured);
    expect(floor.usd).toBeCloseTo(monthlyAt(4096, 0.9 * 40), 6);
    expect(floor.basis).toBe('even at 36.0 ms a request (serverless-2048mb-g0 took 80.0 ms; more memory is at most proportionally faster)');
    expect(floor.usd).toBeLessThan(monthlyAt(4096, 40));
  });
});
