import { describe, expect, it } from 'vitest';

import { LatencyHistogram } from '../../../lib/load/histogram';
import { percentileInterval, wilsonLowerBound } from '../../../lib/load/percentile-interval';
import { type BoundSample, type SloBound } from '../../../lib/load/slo-bounds';
import { shouldStop, sloUndecided } from '../../../lib/load/stop-rules';
import { seededRandom } from '../../../lib/util/seeded-random';

function histogramOf(n: number, draw: () => number): LatencyHistogram {
  const h = new LatencyHistogram();
  for (let i = 0; i < n; i++) h.recordMs(draw());
  return h;
}

const slo = { percentile: 95, latencyMs: 50, maxErrorRate: 0.01 };
/** Ten windows whose percentiles agree closely: no correlation to widen the interval. */
const steadyWindows = (ms: number) => Array.from({ length: 10 }, (_, i) => ms + (i % 2) * 0.1);
const latencyBound: SloBound = { metric: 'latency', percentile: slo.percentile, ms: slo.latencyMs };
/** The stop rules on end-to-end latency alone. */
const stopOn = (histogram: LatencyHistogram, failures: number, options = {}, windowsMs: number[] = []) =>
  shouldStop([{ bound: latencyBound, histogram, windowsMs }], failures, slo.maxErrorRate, options);

describe('stop rules', () => {
  it('stops once the SLO percentile is known within the tolerance', () => {
    const random = seededRandom(1);
    const tight = histogramOf(5_000, () => 20 + random());
    expect(stopOn(tight, 0, {}, steadyWindows(20.95))).toBe('percentile-known');
  });

  it('keeps going while the percentile is uncertain', () => {
    const random = seededRandom(2);
    const wide = histogramOf(400, () => 1 + random() * 40);
    expect(stopOn(wide, 0, { tolerance: 0.01 })).toBeUndefined();
  });

  it('stops when the whole interval is over the SLO latency', () => {
    const random = seededRandom(3);
    expect(
      stopOn(
        histogramOf(1_000, () => 80 + random() * 40),
        0,
        {},
        steadyWindows(118),
      ),
    ).toBe('violates-latency');
  });

  it('never stops on latency before enough windows are complete, however clear the samples look', () => {
    const random = seededRandom(3);
    const slow = histogramOf(1_000, () => 80 + random() * 40);
    expect(stopOn(slow, 0)).toBeUndefined();
    expect(stopOn(slow, 0, {}, steadyWindows(118).slice(0, 4))).toBeUndefined();
  });

  it('does not call a failure that one stalled stretch of the phase could explain', () => {
    // Over the SLO by the independent-sample interval, but the windows say the percentile swings
    // from 15 ms to 135 ms with the stalls: the failure is not certain yet.
    const random = seededRandom(5);
    const stalled = histogramOf(1_000, () => (random() < 0.1 ? 40 + random() * 60 : 10 + random() * 10));
    expect(percentileInterval(stalled, slo.percentile).lowerMs).toBeGreaterThan(slo.latencyMs);
    const swinging = [15, 130, 16, 135, 15, 17, 128, 16, 18, 132];
    expect(stopOn(stalled, 0, {}, swinging)).toBeUndefined();
  });

  it('stops when the error rate is surely over the limit', () => {
    const random = seededRandom(4);
    expect(
      stopOn(
        histogramOf(900, () => 5 + random() * 40),
        100,
      ),
    ).toBe('violates-errors');
  });

  it('never stops before the minimum sample count', () => {
    expect(
      stopOn(
        histogramOf(100, () => 500),
        0,
      ),
    ).toBeUndefined();
  });

  it('with token bounds, stops on the first bound clearly over, and calls the percentiles known only when all are', () => {
    const random = seededRandom(6);
    const latency: BoundSample = { bound: latencyBound, histogram: histogramOf(1_000, () => 20 + random()), windowsMs: steadyWindows(20.95) };
    const ttftBound: SloBound = { metric: 'timeToFirstToken', percentile: 95, ms: 500 };
    const slowFirst: BoundSample = { bound: ttftBound, histogram: histogramOf(1_000, () => 700 + random() * 50), windowsMs: steadyWindows(747) };
    const quickFirst: BoundSample = { bound: ttftBound, histogram: histogramOf(1_000, () => 200 + random()), windowsMs: steadyWindows(200.95) };
    const gaps: SloBound = { metric: 'interTokenLatency', percentile: 95, ms: 50 };
    // a p95 at about 50 ms whose windows swing either side of it: not known, not over
    const unsureGaps: BoundSample = {
      bound: gaps,
      histogram: histogramOf(1_000, () => 20 + random() * 31.6),
      windowsMs: [40, 62, 45, 58, 41, 60, 44, 57, 43, 61],
    };
    expect(shouldStop([latency, slowFirst], 0, 0.01)).toBe('violates-latency');
    expect(shouldStop([latency, quickFirst], 0, 0.01)).toBe('percentile-known');
    expect(shouldStop([latency, quickFirst, unsureGaps], 0, 0.01)).toBeUndefined();
    // a phase runs on while a bound is too close to call, unless another already fails it
    expect(sloUndecided([latency, quickFirst, unsureGaps])).toBe(true);
    expect(sloUndecided([latency, slowFirst, unsureGaps])).toBe(false);
    expect(sloUndecided([latency, quickFirst])).toBe(false);
  });

  it('brackets the percentile with order statistics', () => {
    const h = histogramOf(
      10_000,
      (() => {
        let i = 0;
        return () => ++i / 100;
      })(),
    ); // 0.01 .. 100 ms uniformly
    const interval = percentileInterval(h, 95);
    expect(interval.lowerMs).toBeLessThan(interval.estimateMs);
    expect(interval.upperMs).toBeGreaterThan(interval.estimateMs);
    // rank spread is 1.96·√(10000·0.95·0.05) ≈ 43 samples = 0.43 ms either side
    expect(interval.upperMs - interval.lowerMs).toBeGreaterThan(0.7);
    expect(interval.upperMs - interval.lowerMs).toBeLessThan(1.0);
  });

  it('computes the Wilson lower bound', () => {
    expect(wilsonLowerBound(0, 100)).toBe(0);
    expect(wilsonLowerBound(50, 100)).toBeCloseTo(0.404, 2);
  });
});
