import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../lib/load/histogram';
import { seededRandom } from '../../../lib/random/seeded-random';

describe('LatencyHistogram', () => {
  it('merges serialized histograms exactly', () => {
    const random = seededRandom(3);
    const parts = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
    const all = new LatencyHistogram();
    for (let i = 0; i < 30_000; i++) {
      const ms = random() < 0.01 ? 500 + random() * 2000 : 1 + random() * 50; // a long tail
      parts[i % 3].recordMs(ms);
      all.recordMs(ms);
    }
    const merged = LatencyHistogram.merge(parts.map((p) => p.encode()));
    // Equal bucket by bucket: the same as serializing the histogram that saw every value.
    const whole = LatencyHistogram.decode(all.encode());
    expect(merged.summary()).toEqual(whole.summary());
    expect(merged.encode()).toBe(whole.encode());
    expect(merged.count).toBe(30_000);
    expect(Math.abs(merged.summary().max - all.summary().max) / all.summary().max).toBeLessThan(0.001);
  });

  it('reports percentiles within 0.1% of the recorded values', () => {
    const h = new LatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) h.recordMs(ms);
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.p50).toBeCloseTo(500, -0.3);
    expect(Math.abs(s.p99 - 990) / 990).toBeLessThan(0.001);
    expect(Math.abs(s.max - 1000) / 1000).toBeLessThan(0.001);
    expect(s.min).toBe(1);
  });

  it('summarizes an empty histogram as zeros', () => {
    expect(new LatencyHistogram().summary()).toMatchObject({ count: 0, p99: 0, max: 0 });
  });
});
