/**
 * A batch job that times itself (a SageMaker transform job on a sample): its throughput and its
 * start-up, from the platform's timestamps and the times its output files were written. Pure
 * functions over plain JSON, so the figures can be checked against hand-computed values.
 */
import { LatencyHistogram } from '../load/histogram';
import type { JobTiming, PhaseResult } from '../load/phase';
import { studentT975 } from './throughput';

/** What the platform says of a job on a sample split into equal files, in ms since the epoch. */
export interface SampleJobTimes {
  /** When the job was asked for (SageMaker's CreationTime). */
  readonly createdAt: number;
  /** When billing began: its instances were up (TransformStartTime). */
  readonly startedAt: number;
  /** When billing ended (TransformEndTime). */
  readonly endedAt: number;
  /** When each input file's output was written (its object's LastModified), with the rows it held. */
  readonly files: ReadonlyArray<{ readonly rows: number; readonly doneAt: number }>;
  /** How finely the files' times are given: S3's LastModified is to the second. */
  readonly resolutionMs: number;
}

export type { JobTiming };

/** Fewer gaps between files than this, and their spread says too little: the whole job is used. */
const MIN_GAPS = 4;
/** Each gap must be at least this many timestamp steps long on average, or rounding swamps it. */
const MIN_STEPS_PER_GAP = 3;

/**
 * The job's throughput with a 95% interval, and its start-up apart from it. With files processed
 * one after another (as a transform job does on an instance), each gap between two files' ends is
 * one file's time: their mean time per row is the throughput's inverse, their spread its interval,
 * and the one second by which S3 rounds each time widens it (the gaps' sum is off by at most one
 * step, whatever the steps between). Billed overhead is the billed time less the rows' time.
 */
export function jobTimingOf(times: SampleJobTimes): JobTiming {
  const files = [...times.files].sort((a, b) => a.doneAt - b.doneAt);
  const rows = files.reduce((n, f) => n + f.rows, 0);
  const billedSeconds = Math.max(0, (times.endedAt - times.startedAt) / 1000);
  const unbilledStartupSeconds = Math.max(0, (times.startedAt - times.createdAt) / 1000);
  const gaps = files.slice(1).map((f, i) => ({ rows: f.rows, seconds: (f.doneAt - files[i]!.doneAt) / 1000 }));
  const spanSeconds = gaps.reduce((s, g) => s + g.seconds, 0);
  const spanRows = gaps.reduce((n, g) => n + g.rows, 0);
  const resolution = times.resolutionMs / 1000;
  if (gaps.length >= MIN_GAPS && spanSeconds >= MIN_STEPS_PER_GAP * resolution * gaps.length && spanRows > 0) {
    const perRow = gaps.map((g) => g.seconds / g.rows);
    const mean = spanSeconds / spanRows;
    const variance = perRow.reduce((a, x) => a + (x - mean) ** 2, 0) / (perRow.length - 1);
    const half = studentT975(perRow.length - 1) * Math.sqrt(variance / perRow.length) + resolution / spanRows;
    // Files that ended in bunches (processed side by side) spread so widely that the interval has no top: the whole job then.
    if (mean - half > 0)
      return {
        rows,
        rowsPerSecond: 1 / mean,
        interval: [1 / (mean + half), 1 / (mean - half)],
        unbilledStartupSeconds,
        billedOverheadSeconds: Math.max(0, billedSeconds - rows * mean),
        method: 'files',
      };
  }
  const seconds = Math.max(billedSeconds, resolution);
  const rowsPerSecond = rows / seconds;
  return {
    rows,
    rowsPerSecond,
    interval: [rows / (seconds + 2 * resolution), rows / Math.max(seconds - 2 * resolution, resolution)],
    unbilledStartupSeconds,
    billedOverheadSeconds: 0,
    method: 'whole job',
  };
}

/** What the timing means, in words, for the reasons and the report. */
export function describeJobTiming(timing: JobTiming): string {
  const s = (seconds: number) => `${Math.round(seconds)} s`;
  return timing.method === 'files'
    ? `one transform job on ${timing.rows.toLocaleString('en-US')} rows: ${s(timing.unbilledStartupSeconds)} to start, ${s(timing.billedOverheadSeconds)} billed before and after its rows; its interval is the spread of its files' times (one job: not the variation between jobs)`
    : `one transform job on ${timing.rows.toLocaleString('en-US')} rows, whose files ended too close together to tell its start-up from its rows: its whole billed time is counted as the rows' (a longer job's time and cost are overstated), and its interval holds the timestamps' resolution only; more sampleRows would separate them`;
}

/** The name of the phase a self-timed job is recorded as. */
export const JOB_PHASE_NAME = 'sample-job';

/**
 * A self-timed job recorded in a phase's place, so it is stored, replayed and reported as the
 * saturation probes are: its lines as requests (each carries `rowsPerRequest` rows), no errors (a
 * transform job with a failed record fails as a whole), no latencies (the job times itself, not
 * each request), and `concurrency` the requests it sent an instance at once.
 */
export function jobPhase(timing: JobTiming, startedAt: Date, concurrency: number, rowsPerRequest: number): PhaseResult {
  const durationMs = Math.round((timing.rows / timing.rowsPerSecond) * 1000);
  const lines = Math.round(timing.rows / rowsPerRequest);
  const none = new LatencyHistogram();
  return {
    name: JOB_PHASE_NAME,
    mode: 'closed',
    concurrency,
    plannedDurationMs: durationMs,
    startedAt: startedAt.toISOString(),
    durationMs,
    requests: lines,
    successes: lines,
    errors: {},
    errorCount: 0,
    errorRate: 0,
    achievedRps: durationMs > 0 ? lines / (durationMs / 1000) : 0,
    lateSends: 0,
    maxLatenessMs: 0,
    generatorLimited: false,
    latencyMs: none.summary(),
    histogram: none.encode(),
    job: timing,
  };
}
