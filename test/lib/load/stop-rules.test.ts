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

describe('stop rules', () => {
  it('stops once the SLO percentile is known within the tolerance', () => {
    const random = seededRandom(1);
    const tight = histogramOf(5_000, () => 20 + random());
    expect(shouldStop(tight, 0, slo)).toBe('percentile-known');
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
      ),
    ).toBe('violates-latency');
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
