import { describe, expect, it } from 'vitest';

import { LatencyHistogram } from '../../../lib/load/histogram';
import { formatLoadTable } from '../../../lib/load/load-table';
import type { PhaseResult } from '../../../lib/load/phase';

/** A finished open-loop phase at 5 requests/s for 2 s, 2 of its 10 sends late, its p99 `p99Ms`. */
function phase(p99Ms: number, maxLatenessMs: number, requests = 10): PhaseResult {
  const histogram = new LatencyHistogram();
  for (let i = 0; i < requests; i++) histogram.recordMs(i === 0 ? p99Ms : p99Ms / 2);
  return {
    name: 'measured',
    mode: 'open',
    rate: 5,
    arrivals: 'poisson',
    plannedDurationMs: 2_000,
    startedAt: new Date(0).toISOString(),
    durationMs: 2_000,
    requests,
    successes: requests,
    errors: {},
    errorCount: 0,
    errorRate: 0,
    achievedRps: requests / 2,
    lateSends: 2,
    maxLatenessMs,
    generatorLimited: true,
    latencyMs: histogram.summary(),
    histogram: histogram.encode(),
  };
}

describe('the load table', () => {
  it('blames the generator only where its lateness could explain the latencies', () => {
    // 6 ms late at 5 requests/s hides nothing a target does in 80 ms
    expect(formatLoadTable({ phases: [phase(80, 6)] })).toMatch(
      /measured: 2 of 10 sends were over 1 ms late \(max 6\.0 ms\), too little to change these latencies \(p99 80\.\d ms\)$/m,
    );
    expect(formatLoadTable({ phases: [phase(20, 6)] })).toContain(
      'measured: 2 of 10 sends were over 1 ms late (max 6.0 ms): the load generator fell behind its schedule, and its delay may account for some of these latencies',
    );
    // Sending well short of the planned rate: the generator, not the target, set the pace.
    expect(formatLoadTable({ phases: [phase(20, 6, 7)] })).toContain(
      'the load generator could not keep the planned rate; it, not the target, limited this phase',
    );
  });
});
