import { describe, expect, it } from 'vitest';

import { arrivalOffsetsMs } from '../../../lib/load/schedule';

/** Kolmogorov-Smirnov statistic of samples against the exponential CDF with the given rate. */
function ksExponential(samples: number[], rate: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  let d = 0;
  sorted.forEach((x, i) => {
    const cdf = 1 - Math.exp(-rate * x);
    d = Math.max(d, Math.abs(cdf - i / sorted.length), Math.abs(cdf - (i + 1) / sorted.length));
  });
  return d;
}

const gaps = (offsets: number[]) => offsets.map((t, i) => (i === 0 ? t : t - offsets[i - 1]));

describe('arrival schedules', () => {
  it.each([1, 42, 20261122])('gives Poisson arrivals that pass a Kolmogorov-Smirnov test at the 1%% level (seed %i)', (seed) => {
    const offsets = [...arrivalOffsetsMs(200, 60_000, 'poisson', seed)];
    const n = offsets.length;
    expect(n).toBeGreaterThan(11_000);
    expect(n).toBeLessThan(13_000);
    const d = ksExponential(gaps(offsets), 200 / 1000);
    expect(d).toBeLessThan(1.628 / Math.sqrt(n)); // critical value for alpha = 0.01
  });

  it('rejects constant gaps as Poisson (the test has power)', () => {
    const offsets = [...arrivalOffsetsMs(200, 60_000, 'constant', 1)];
    expect(ksExponential(gaps(offsets), 200 / 1000)).toBeGreaterThan(1.628 / Math.sqrt(offsets.length));
  });

  it('replays the same schedule for the same seed and another for another seed', () => {
    const a = [...arrivalOffsetsMs(50, 5_000, 'poisson', 7)];
    expect([...arrivalOffsetsMs(50, 5_000, 'poisson', 7)]).toEqual(a);
    expect([...arrivalOffsetsMs(50, 5_000, 'poisson', 8)]).not.toEqual(a);
  });

  it('spaces constant arrivals exactly 1/rate apart within the duration', () => {
    const offsets = [...arrivalOffsetsMs(4, 1_000, 'constant', 1)];
    expect(offsets).toEqual([0, 250, 500, 750]);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => [...arrivalOffsetsMs(0, 1_000, 'poisson', 1)]).toThrow(/rate must be above 0/);
  });
});
