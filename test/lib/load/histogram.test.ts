import { describe, expect, it } from 'vitest';

import { LatencyHistogram } from '../../../lib/load/histogram';
import { seededRandom } from '../../../lib/util/seeded-random';

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

describe('mergePhaseResults', () => {
  it('merges generators exactly: percentiles of every request, counts and rates added up', async () => {
    const { mergePhaseResults } = await import('../../../lib/load/merge-phases');
    const shard = (values: number[], errors: Record<string, number>, rate: number) => {
      const h = new LatencyHistogram();
      values.forEach((v) => h.recordMs(v));
      const errorCount = Object.values(errors).reduce((a, b) => a + b, 0);
      return {
        name: 'p',
        mode: 'open' as const,
        rate,
        arrivals: 'poisson' as const,
        plannedDurationMs: 1000,
        startedAt: '2026-11-22T10:00:00.000Z',
        durationMs: 1000,
        requests: values.length + errorCount,
        successes: values.length,
        errors,
        errorCount,
        errorRate: errorCount / (values.length + errorCount),
        achievedRps: values.length + errorCount,
        lateSends: 0,
        maxLatenessMs: 0.5,
        generatorLimited: false,
        latencyMs: h.summary(),
        histogram: h.encode(),
      };
    };
    const a = Array.from({ length: 90 }, (_, i) => 1 + i * 0.1);
    const b = Array.from({ length: 10 }, (_, i) => 100 + i);
    const merged = mergePhaseResults([shard(a, { timeout: 1 }, 50), shard(b, { timeout: 2, http_503: 1 }, 50)]);
    const whole = new LatencyHistogram();
    [...a, ...b].forEach((v) => whole.recordMs(v));
    // as one generator's histogram would read after serialization (which keeps buckets, not the exact max)
    expect(merged.latencyMs).toEqual(LatencyHistogram.decode(whole.encode()).summary());
    expect(merged.latencyMs.p95).toBeGreaterThan(99); // not a mean of the two p95s
    expect(merged).toMatchObject({ rate: 100, requests: 104, successes: 100, errorCount: 4, errors: { http_503: 1, timeout: 3 }, achievedRps: 104 });
    expect(merged.errorRate).toBeCloseTo(4 / 104);
  });
});
