import { describe, expect, it } from 'vitest';

import type { PhaseResult } from '../../../lib/load/phase';
import { estimateJob, estimatePerRequestJob } from '../../../lib/offline/job-estimate';
import {
  afterSaturationProbe,
  firstSaturationState,
  nextSaturationProbe,
  saturationOf,
  type SaturationProbe,
  type SaturationState,
} from '../../../lib/offline/saturation';
import { throughputOf } from '../../../lib/offline/throughput';
import { maxSaturationProbes } from '../../../lib/spec/expand';

const phase = (successes: number, durationMs: number, windowSuccesses?: number[]) =>
  ({ successes, durationMs, plannedDurationMs: durationMs, ...(windowSuccesses ? { windowSuccesses } : {}) }) as unknown as PhaseResult;

describe('an offline throughput', () => {
  it('takes rows a second with a batch-means interval from the time windows', () => {
    // 1,000 requests of 4 rows in 10 s, 100 in each 1 s window: 400 rows/s, no spread.
    expect(throughputOf(phase(1000, 10_000, Array(10).fill(100)), 4)).toEqual({ rowsPerSecond: 400, interval: [400, 400] });
    // Windows alternating 90 and 110: standard deviation √(1000/9) = 10.54, so ± t(9) 2.262 × 10.54 / √10 = 7.54.
    const spread = throughputOf(phase(1000, 10_000, [90, 110, 90, 110, 90, 110, 90, 110, 90, 110]), 1);
    expect(spread.rowsPerSecond).toBe(100);
    expect(spread.interval[0]).toBeCloseTo(92.46, 2);
    expect(spread.interval[1]).toBeCloseTo(107.54, 2);
    // Too few windows: the Poisson interval of the count, 400 ± 1.96 × 20, over 4 s.
    const few = throughputOf(phase(400, 4000), 1);
    expect(few.rowsPerSecond).toBe(100);
    expect(few.interval[0]).toBeCloseTo(90.2, 10);
    expect(few.interval[1]).toBeCloseTo(109.8, 10);
  });
});

describe('the saturation search', () => {
  const settings = { from: 1, to: 64, minGain: 0.1, stepDuration: 1000, precision: 0.05 };
  const probe = (concurrency: number, rowsPerSecond: number, errorRate = 0): SaturationProbe => ({
    concurrency,
    rowsPerSecond,
    interval: [rowsPerSecond * 0.98, rowsPerSecond * 1.02],
    errorRate,
  });
  const run = (throughputs: Array<[number, number?]>, s = settings): SaturationState => {
    let state = firstSaturationState();
    for (const [rate, errorRate] of throughputs) {
      expect(state.done).toBe(false);
      state = afterSaturationProbe(s, state, probe(nextSaturationProbe(s, state).concurrency, rate, errorRate), 0.01);
    }
    return state;
  };

  it('doubles the concurrency until two doublings in a row add less than minGain, and finds the knee below them', () => {
    const state = run([[100], [200], [400], [800], [810], [805]]);
    expect(state.probes.map((p) => p.concurrency)).toEqual([1, 2, 4, 8, 16, 32]);
    expect(state).toMatchObject({ done: true, stoppedBecause: 'throughput stopped growing: 2 doublings past concurrency 8 each added under 10%' });
    // Past the knee the target's queue keeps it busy: its capacity is the highest throughput, 810 at 16; the knee is 8 (800 ≥ 90% of it).
    expect(saturationOf(settings, state, 0.01)).toMatchObject({ rowsPerSecond: 810, concurrency: 16, knee: 8 });
    // One low probe does not end it: 2 dips, then the search goes on growing.
    const noisy = run([[100], [95], [400], [800], [790], [780]]);
    expect(noisy.probes.map((p) => p.concurrency)).toEqual([1, 2, 4, 8, 16, 32]);
    expect(saturationOf(settings, noisy, 0.01)).toMatchObject({ rowsPerSecond: 800, knee: 8 });
    expect(maxSaturationProbes(settings)).toBe(7);
  });

  it('measures a probe again, twice and four times as long, while its interval is wider than precision allows', () => {
    const wide = (concurrency: number, rowsPerSecond: number, half: number): SaturationProbe => ({
      concurrency,
      rowsPerSecond,
      interval: [rowsPerSecond - half, rowsPerSecond + half],
      errorRate: 0,
    });
    let state = afterSaturationProbe(settings, firstSaturationState(), wide(1, 100, 2), 0.01);
    // ±10% at concurrency 2: measured again for 2 s, then (±7%) for 4 s, whose figure stands however wide.
    state = afterSaturationProbe(settings, state, wide(2, 200, 20), 0.01);
    expect(nextSaturationProbe(settings, state)).toEqual({ concurrency: 2, durationMs: 2000 });
    state = afterSaturationProbe(settings, state, wide(2, 190, 14), 0.01);
    expect(nextSaturationProbe(settings, state)).toEqual({ concurrency: 2, durationMs: 4000 });
    state = afterSaturationProbe(settings, state, wide(2, 195, 12), 0.01);
    expect(state.probes.map((p) => [p.concurrency, p.rowsPerSecond])).toEqual([
      [1, 100],
      [2, 195],
    ]);
    expect(nextSaturationProbe(settings, state)).toEqual({ concurrency: 4, durationMs: 1000 });
    expect(saturationOf(settings, state, 0.01)).toMatchObject({ rowsPerSecond: 195, remeasured: 2 });
  });

  it('stops at errors above the SLO, leaving that probe out, and says when it never saturated', () => {
    const overloaded = run([[100], [200], [150, 0.2]]);
    expect(overloaded.stoppedBecause).toBe('error rate 20% at concurrency 4, above 1%');
    expect(saturationOf(settings, overloaded, 0.01)).toMatchObject({ rowsPerSecond: 200, knee: 2 });
    const growing = run([[100], [200], [400]], { ...settings, to: 4 });
    expect(growing).toMatchObject({ done: true, unsaturated: true, stoppedBecause: 'still growing at concurrency 4, the most probed' });
    expect(saturationOf(settings, run([[100, 0.5]]), 0.01)).toBeUndefined();
  });
});

describe('a job extrapolated from a throughput', () => {
  const job = { rows: 100_000, deadlineSeconds: 600, maxInstances: 10 };
  const billing = { usdPerInstanceHour: 0.36, startupSeconds: 60, billedStartupSeconds: 60 };
  const throughput = { rowsPerSecond: 100, interval: [90, 110] as const };

  it('sizes the fewest instances that end by the deadline at the low end, and prices the job with its start-up', () => {
    // 540 s after start-up; at 90 rows/s an instance, 100,000 rows take ⌈2.06⌉ = 3 instances.
    const estimate = estimateJob(job, billing, throughput);
    expect(estimate.fits).toBe(true);
    if (!estimate.fits) return;
    expect(estimate.instances).toBe(3);
    // At 100 rows/s: 333.3 s of rows after 60 s of start-up; 3 instances × $0.0001/s × 393.3 s billed.
    expect(estimate.seconds).toBeCloseTo(393.333, 3);
    expect(estimate.usd).toBeCloseTo(0.118, 10);
    expect(estimate.usdPerMillionRows).toBeCloseTo(1.18, 10);
    // At 110 and 90 rows/s: 363.0 s and $0.1089; 430.4 s and $0.1291.
    expect(estimate.secondsRange[0]).toBeCloseTo(363.03, 2);
    expect(estimate.secondsRange[1]).toBeCloseTo(430.37, 2);
    expect(estimate.usdRange[0]).toBeCloseTo(0.108909, 6);
    expect(estimate.usdRange[1]).toBeCloseTo(0.129111, 6);
    // Start-up the platform does not bill costs time, not money: 3 × $0.0001 × 333.3 s.
    const unbilled = estimateJob(job, { ...billing, billedStartupSeconds: 0 }, throughput);
    expect(unbilled.fits && unbilled.usd).toBeCloseTo(0.1, 10);
  });

  it('says why a job cannot end by the deadline', () => {
    expect(estimateJob({ ...job, deadlineSeconds: 50 }, billing, throughput)).toEqual({
      fits: false,
      reason: 'its start-up (1m) alone takes the deadline (50s)',
    });
    expect(estimateJob({ ...job, maxInstances: 2 }, billing, throughput)).toEqual({
      fits: false,
      instancesNeeded: 3,
      reason: 'it would take 3 instances to end by the deadline (at 90 rows/s, the low end of its interval), more than offline.maxInstances (2)',
    });
  });
});

describe('a job billed per request (Lambda)', () => {
  const job = { rows: 360_000, deadlineSeconds: 3600, maxInstances: 100 };
  // 100 rows/s (80–120) at concurrency 4: 25 rows/s an invocation (20–30).
  const throughput = { rowsPerSecond: 100, interval: [80, 120] as const };

  it('runs as many invocations at once as end it by the deadline at the low end, its cost whatever that number', () => {
    const estimate = estimatePerRequestJob(job, { usd: 1.5, startupSeconds: 10, maxConcurrency: 1000 }, throughput, 4);

    // ⌈360,000 / (20 × 3,590)⌉ = 6; 10 + 360,000 / (25 × 6) = 2,410 s (2,010 at 30, 3,010 at 20).
    expect(estimate).toEqual({
      fits: true,
      instances: 6,
      unit: 'invocations',
      seconds: 2410,
      secondsRange: [2010, 3010],
      usd: 1.5,
      // A request's billed time varies as its time: 1.5 × 25/30 and 1.5 × 25/20.
      usdRange: [1.25, 1.875],
      usdPerMillionRows: (1.5 / 360_000) * 1e6,
    });
  });

  it('cannot end it with fewer invocations allowed at once than it needs, and says how many', () => {
    const estimate = estimatePerRequestJob(job, { usd: 1.5, startupSeconds: 10, maxConcurrency: 5 }, throughput, 4);

    expect(estimate).toMatchObject({ fits: false, instancesNeeded: 6 });
    expect(estimate.fits === false && estimate.reason).toMatch(/6 invocations at once .* more than offline\.maxConcurrentInvocations \(5\)/);
  });
});
