import { describe, expect, it } from 'vitest';

import { candidateCost, priceOfCandidate } from '../../../lib/cost/candidate-cost';
import { PriceBook } from '../../../lib/cost/price-book';
import type { PhaseResult } from '../../../lib/load/phase';
import type { Candidate } from '../../../lib/spec/expand';
import { httpTarget } from '../../../lib/targets/http-target';
import { lambdaAdapter } from '../../../lib/targets/lambda/adapter';

const phase = { achievedRps: 50, latencyMs: { mean: 100 } } as unknown as PhaseResult;
const traffic = { averageRps: 10, peakRps: 50 };
const prices = PriceBook.snapshot();
const LAMBDA = {
  id: 'fn',
  group: 0,
  kind: 'lambda',
  functionName: 'f',
  memorySizeMb: 1024,
  architecture: 'arm64',
  region: 'us-east-1',
} as unknown as Candidate;

describe('the price of a candidate', () => {
  it('an instance-billed candidate: its hourly price × instances × hours, and per million inferences at the rate one instance sustains', () => {
    const candidate = { id: 'h', group: 0, kind: 'http', url: 'http://127.0.0.1:1/', costPerHour: 0.36 } as unknown as Candidate;
    const price = priceOfCandidate(httpTarget, candidate, traffic, prices);
    expect(price).toEqual({ usdPerInstanceHour: 0.36 });
    const cost = candidateCost(price, { instances: 3, phase, maxRps: 100, averageRps: 10 }, 730);
    expect(cost.monthlyUsd).toBeCloseTo(0.36 * 3 * 730, 9);
    expect(cost.usdPerInstanceHour).toBe(0.36);
    // 100 rps for an hour is 360,000 inferences for $0.36: $1 per million
    expect(cost.usdPerMillionInferences).toBeCloseTo(1, 9);
  });

  it('a per-request candidate: priced by its adapter from the phase at the forecast, with no hourly figures', () => {
    const candidate = LAMBDA;
    const adapter = lambdaAdapter();
    const price = priceOfCandidate(adapter, candidate, traffic, prices);
    expect(price.usdPerInstanceHour).toBeUndefined();
    const cost = candidateCost(price, { instances: 1, phase, maxRps: 50, averageRps: traffic.averageRps }, prices.hoursPerMonth);
    expect(cost.monthlyUsd).toBeCloseTo(adapter.perRequestMonthlyCost!(candidate, phase, traffic, prices), 9);
    expect(cost.monthlyUsd).toBeGreaterThan(0);
    expect(cost).not.toHaveProperty('usdPerMillionInferences');
    expect(cost).not.toHaveProperty('usdPerMillionOutputTokens');
  });

  it('streamed responses: a million output tokens, from the output tokens per request the phase measured', () => {
    const streamed = { ...phase, tokens: { streams: 100, outputTokens: 25_000 } } as unknown as PhaseResult;
    const instance = { id: 'h', group: 0, kind: 'http', url: 'http://127.0.0.1:1/', costPerHour: 0.36 } as unknown as Candidate;
    const byInstance = candidateCost(
      priceOfCandidate(httpTarget, instance, traffic, prices),
      { instances: 1, phase: streamed, maxRps: 100, averageRps: 10 },
      730,
    );
    // $1 per million inferences of 250 tokens each: $0.004 per million tokens
    expect(byInstance.usdPerMillionOutputTokens).toBeCloseTo(1 / 250, 12);
    const fn = LAMBDA;
    const byRequest = candidateCost(
      priceOfCandidate(lambdaAdapter(), fn, traffic, prices),
      { instances: 1, phase: streamed, maxRps: 50, averageRps: 10 },
      prices.hoursPerMonth,
    );
    // the month's cost over the month's tokens at the forecast's average rate
    const monthlyTokens = 10 * 3600 * prices.hoursPerMonth * 250;
    expect(byRequest.usdPerMillionOutputTokens).toBeCloseTo((byRequest.monthlyUsd / monthlyTokens) * 1e6, 12);
  });
});
