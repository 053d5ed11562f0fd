import { describe, expect, it } from 'vitest';

import { jobPhase, jobTimingOf } from '../../../lib/offline/job-timing';

/** A job asked for at 0, billed from 100 s, its five files of 100 rows done at `doneAt` seconds, billed to `endedAt`. */
const job = (doneAt: number[], endedAt: number) => ({
  createdAt: 0,
  startedAt: 100_000,
  endedAt: endedAt * 1000,
  files: doneAt.map((s) => ({ rows: 100, doneAt: s * 1000 })),
  resolutionMs: 1000,
});

describe("a transform job's timing, from its files", () => {
  it('takes the throughput from the gaps between files, and the rest of the billed time as start-up', () => {
    const timing = jobTimingOf(job([160, 170, 180, 190, 200], 203));

    // 4 gaps of 10 s for 100 rows: 0.1 s a row. Rounding to the second widens it by 1 s over 400 rows.
    expect(timing.method).toBe('files');
    expect(timing.rowsPerSecond).toBeCloseTo(10, 9);
    expect(timing.interval[0]).toBeCloseTo(1 / 0.1025, 9);
    expect(timing.interval[1]).toBeCloseTo(1 / 0.0975, 9);
    // 100 s to an instance, unbilled; 103 s billed, of which 500 rows × 0.1 s = 50 s were rows'.
    expect(timing.unbilledStartupSeconds).toBe(100);
    expect(timing.billedOverheadSeconds).toBeCloseTo(53, 9);
  });

  it("widens the interval by the spread of the files' times (Student's t, 3 degrees of freedom)", () => {
    const timing = jobTimingOf(job([160, 169, 180, 190, 200], 203));

    // Per row: 0.09, 0.11, 0.10, 0.10 s; mean 0.1, sd/√4 = 0.0040825; t = 3.182; + 1 s / 400 rows.
    const half = 3.182 * Math.sqrt((0.0001 + 0.0001) / 3 / 4) + 0.0025;
    expect(timing.rowsPerSecond).toBeCloseTo(10, 9);
    expect(timing.interval[0]).toBeCloseTo(1 / (0.1 + half), 9);
    expect(timing.interval[1]).toBeCloseTo(1 / (0.1 - half), 9);
  });

  it('falls back on the whole billed time when the files ended too close together to be told apart', () => {
    const timing = jobTimingOf(job([196, 197, 198, 199, 200], 203));

    expect(timing.method).toBe('whole job');
    expect(timing.rowsPerSecond).toBeCloseTo(500 / 103, 9);
    expect(timing.interval).toEqual([500 / 105, 500 / 101]);
    expect(timing.billedOverheadSeconds).toBe(0);
    expect(timing.unbilledStartupSeconds).toBe(100);
  });

  it('falls back on the whole job with too few files for a spread, or where the spread leaves the interval no top', () => {
    expect(jobTimingOf(job([150, 200], 203)).method).toBe('whole job');
    // One gap of 40 s and three of 3 s: the spread is wider than the mean.
    expect(jobTimingOf(job([140, 180, 183, 186, 189], 190)).method).toBe('whole job');
  });

  it('is recorded as a phase of its lines, without latencies, at the concurrency it ran at', () => {
    const timing = jobTimingOf(job([160, 170, 180, 190, 200], 203));

    const phase = jobPhase(timing, new Date(100_000), 4, 10);

    expect(phase).toMatchObject({ name: 'sample-job', concurrency: 4, successes: 50, errorRate: 0, durationMs: 50_000, job: timing });
    expect(phase.latencyMs.count).toBe(0);
  });
});
