import { describe, expect, it } from 'vitest';

import { costFloor, type MeasuredCandidate } from '../../../../lib/cost/candidate-cost';
import { lambdaMonthlyCost } from '../../../../lib/cost/estimate';
import { PriceBook } from '../../../../lib/cost/price-book';
import type { PhaseResult } from '../../../../lib/load/phase';
import type { Candidate } from '../../../../lib/spec/expand';
import { lambdaPricing } from '../../../../lib/targets/lambda/price';

const lambda = (memorySizeMb: number, architecture: 'arm64' | 'x86_64' = 'arm64'): Candidate => ({
  id: `fn-${memorySizeMb}mb-${architecture}`,
  group: 0,
  environment: {},
  kind: 'lambda',
  functionName: 'fn',
  region: 'us-east-1',
  memorySizeMb,
  architecture,
  maxParallelInvocations: 10,
});
const billed = (meanMs: number) =>
  ({ successes: 100, billedDurationMs: { mean: meanMs }, latencyMs: { mean: meanMs + 30 } }) as unknown as PhaseResult;
const pricing = { scaling: 'per-request' as const, ...lambdaPricing };
const prices = PriceBook.snapshot();
const traffic = { averageRps: 50, peakRps: 100 };
const monthlyAt = (memoryMb: number, billedDurationMs: number) =>
  lambdaMonthlyCost({ region: 'us-east-1', architecture: 'arm64', memoryMb, billedDurationMs, requestsPerMonth: 50 * 730 * 3600 }, prices).monthlyUsd;

describe("a Lambda candidate's cost floor", () => {
  it('is every request billed 1 ms when nothing is measured', () => {
    expect(costFloor(pricing, lambda(2048), traffic, prices)).toEqual({
      usd: monthlyAt(2048, 1),
      basis: 'even at 1 ms a request (the least Lambda bills)',
    });
  });

  it('learns from a sibling: twice the memory is at most twice as fast, half the memory never faster', () => {
    const measured: MeasuredCandidate[] = [{ candidate: lambda(1024), phases: [billed(120), billed(100)] }];
    const larger = costFloor(pricing, lambda(2048), traffic, prices, measured);
    expect(larger.usd).toBeCloseTo(monthlyAt(2048, 0.9 * 50), 6);
    expect(larger.basis).toBe('even at 45.0 ms a request (fn-1024mb-arm64 billed 100.0 ms; more memory is at most proportionally faster)');
    // Below what a perfectly proportional speed-up would bill: a floor, not a guess.
    expect(larger.usd).toBeLessThan(monthlyAt(2048, 50));
    expect(costFloor(pricing, lambda(512), traffic, prices, measured).usd).toBeCloseTo(monthlyAt(512, 90), 6);
  });

  it('learns nothing from another architecture or from client latency alone', () => {
    const noBilled = { successes: 100, latencyMs: { mean: 500 } } as unknown as PhaseResult;
    const measured: MeasuredCandidate[] = [
      { candidate: lambda(1024, 'x86_64'), phases: [billed(100)] },
      { candidate: { ...lambda(1536), id: 'other' }, phases: [noBilled] },
    ];
    expect(costFloor(pricing, lambda(2048), traffic, prices, measured).basis).toBe('even at 1 ms a request (the least Lambda bills)');
  });
});
