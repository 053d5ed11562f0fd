import { describe, expect, it } from 'vitest';

import { LatencyHistogram } from '../../../lib/load/histogram';
import { percentileInterval, robustPercentileInterval } from '../../../lib/load/percentile-interval';
import { seededRandom } from '../../../lib/util/seeded-random';

/**
 * A latency series with the correlation real ones have: a fast service (2–6 ms) that stalls now
 * and then, holding the next `stallLength` requests 40–60 ms (a GC pause, a noisy neighbour).
 * Stalls start at random, about one every `stallEvery` requests.
 */
function stallingSeries(n: number, random: () => number, stallEvery = 1500, stallLength = 40): number[] {
  const series: number[] = [];
  let stalled = 0;
  for (let i = 0; i < n; i++) {
    if (stalled === 0 && random() < 1 / stallEvery) stalled = stallLength;
    if (stalled > 0) {
      stalled--;
      series.push(40 + 20 * random());
    } else series.push(2 + 4 * random());
  }
  return series;
}

/** The series' percentile interval the old way (independent samples) and the new (time windows). */
function intervals(series: readonly number[], percentile: number, windows = 10) {
  const all = new LatencyHistogram();
  const perWindow = Array.from({ length: windows }, () => new LatencyHistogram());
  series.forEach((ms, i) => {
    all.recordMs(ms);
    perWindow[Math.floor((i * windows) / series.length)]!.recordMs(ms);
  });
  return {
    old: percentileInterval(all, percentile),
    robust: robustPercentileInterval(
      all,
      percentile,
      perWindow.map((h) => h.percentileMs(percentile)),
    ),
  };
}

describe('the percentile interval on correlated latencies', () => {
  it('covers the true p99 about as often as it says (95%), where the independent-sample interval does not', () => {
    const random = seededRandom(42);
    // The true p99: from a series long enough that its own error is negligible.
    const long = new LatencyHistogram();
    for (const ms of stallingSeries(3_000_000, random)) long.recordMs(ms);
    const truth = long.percentileMs(99);
    let oldCovers = 0;
    let robustCovers = 0;
    const runs = 300;
    for (let run = 0; run < runs; run++) {
      const { old, robust } = intervals(stallingSeries(6_000, random), 99);
      if (old.lowerMs <= truth && truth <= old.upperMs) oldCovers++;
      if (robust.lowerMs <= truth && truth <= robust.upperMs) robustCovers++;
    }
    expect(robustCovers / runs).toBeGreaterThanOrEqual(0.88);
    expect(oldCovers / runs).toBeLessThan(0.75);
  });

  it('on independent latencies it is no narrower than the independent-sample interval, and not much wider', () => {
    const random = seededRandom(7);
    const series = Array.from({ length: 6_000 }, () => 2 + 4 * random());
    const { old, robust } = intervals(series, 95);
    expect(robust.lowerMs).toBeLessThanOrEqual(old.lowerMs);
    expect(robust.upperMs).toBeGreaterThanOrEqual(old.upperMs);
    expect(robust.upperMs - robust.lowerMs).toBeLessThan(3 * (old.upperMs - old.lowerMs));
  });
});
