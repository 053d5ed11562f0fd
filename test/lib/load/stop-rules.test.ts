import { describe, expect, it } from 'vitest';

import { LatencyHistogram } from '../../../lib/load/histogram';
import { percentileInterval, shouldStop, wilsonLowerBound } from '../../../lib/load/stop-rules';
import { seededRandom } from '../../../lib/random/seeded-random';

function histogramOf(n: number, draw: () => number): LatencyHistogram {
  const h = new LatencyHistogram();
  for (let i = 0; i < n; i++) h.recordMs(draw());
  return h;
}

const slo = { percentile: 95, latencyMs: 50, maxErrorRate: 0.01 };
/** Ten windows whose percentiles agree closely: no correlation to widen the interval. */
const steadyWindows = (ms: number) => Array.from({ length: 10 }, (_, i) => ms + (i % 2) * 0.1);

describe('stop rules', () => {
  it('stops once the SLO percentile is known within the tolerance', () => {
    const random = seededRandom(1);
    const tight = histogramOf(5_000, () => 20 + random());
    expect(shouldStop(tight, 0, slo, {}, steadyWindows(20.95))).toBe('percentile-known');
  });

  it('keeps going while the percentile is uncertain', () => {
    const random = seededRandom(2);
    const wide = histogramOf(400, () => 1 + random() * 40);
    expect(shouldStop(wide, 0, slo, { tolerance: 0.01 })).toBeUndefined();
  });

  it('stops when the whole interval is over the SLO latency', () => {
    const random = seededRandom(3);
    expect(
      shouldStop(
        histogramOf(1_000, () => 80 + random() * 40),
        0,
        slo,
        {},
        steadyWindows(118),
      ),
    ).toBe('violates-latency');
  });

  it('never stops on latency before enough windows are complete, however clear the samples look', () => {
    const random = seededRandom(3);
    const slow = histogramOf(1_000, () => 80 + random() * 40);
    expect(shouldStop(slow, 0, slo)).toBeUndefined();
    expect(shouldStop(slow, 0, slo, {}, steadyWindows(118).slice(0, 4))).toBeUndefined();
  });

  it('does not call a failure that one stalled stretch of the phase could explain', () => {
    // Over the SLO by the independent-sample interval, but the windows say the percentile swings
    // from 15 ms to 135 ms with the stalls: the failure is not certain yet.
    const random = seededRandom(5);
    const stalled = histogramOf(1_000, () => (random() < 0.1 ? 40 + random() * 60 : 10 + random() * 10));
    expect(percentileInterval(stalled, slo.percentile).lowerMs).toBeGreaterThan(slo.latencyMs);
    const swinging = [15, 130, 16, 135, 15, 17, 128, 16, 18, 132];
    expect(shouldStop(stalled, 0, slo, {}, swinging)).toBeUndefined();
  });

  it('stops when the error rate is surely over the limit', () => {
    const random = seededRandom(4);
    expect(
      shouldStop(
        histogramOf(900, () => 5 + random() * 40),
        100,
        slo,
      ),
    ).toBe('violates-errors');
  });

  it('never stops before the minimum sample count', () => {
    expect(
      shouldStop(
        histogramOf(100, () => 500),
        0,
        slo,
      ),
    ).toBeUndefined();
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
