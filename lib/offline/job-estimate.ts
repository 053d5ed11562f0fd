import { formatDurationMs } from '../format/format';
import type { Saturation } from './saturation';
import type { Throughput } from './throughput';

/** The job: how many rows, by when, and the most instances it may run on. */
export interface OfflineJob {
  readonly rows: number;
  readonly deadlineSeconds: number;
  readonly maxInstances: number;
}

/** How a candidate is started and billed for a job: per instance-hour, with a start-up before rows flow. */
export interface InstanceBilling {
  readonly usdPerInstanceHour: number;
  /** From the job's start to its first row (provisioning, model load): part of the job's time. */
  readonly startupSeconds: number;
  /** Of that start-up, what the platform bills (SageMaker bills a transform job's instances from their start). */
  readonly billedStartupSeconds: number;
}

/** What running the job on a candidate comes to, at the low and the high end of its throughput's interval. */
export type JobEstimate =
  | {
      readonly fits: true;
      /**
       * Sized so that the job ends by the deadline even at the low end of the throughput's interval:
       * instances of an instance-billed candidate, or, for one billed per request (Lambda),
       * invocations at once.
       */
      readonly instances: number;
      /** `invocations`: `instances` counts invocations in flight at once (a candidate billed per request). @default instances */
      readonly unit?: 'invocations';
      /** The job's time in seconds: at the measured throughput, and its range over the interval (high throughput first). */
      readonly seconds: number;
      readonly secondsRange: readonly [number, number];
      readonly usd: number;
      readonly usdRange: readonly [number, number];
      readonly usdPerMillionRows: number;
    }
  | {
      readonly fits: false;
      /** Why no instance count within the cap ends it by the deadline. */
      readonly reason: string;
      /** The instances it would take (at the low end of the interval), where some number would. */
      readonly instancesNeeded?: number;
    };

/**
 * The job on `instances` instances of a candidate of throughput `rowsPerSecond` per instance:
 * time = start-up + rows / (throughput × instances); cost = instances × price × (billed start-up +
 * the rows' time). Work is assumed to split evenly among instances (a transform job splits its
 * input by file or by record).
 */
export function jobAt(job: OfflineJob, billing: InstanceBilling, rowsPerSecond: number, instances: number): { seconds: number; usd: number } {
  const working = job.rows / (rowsPerSecond * instances);
  return {
    seconds: billing.startupSeconds + working,
    usd: (instances * billing.usdPerInstanceHour * (billing.billedStartupSeconds + working)) / 3600,
  };
}

/**
 * The fewest instances that end the job by its deadline even at the low end of the throughput's
 * interval (fewer instances cost less: each pays its own start-up), and what the job then takes
 * and costs, with ranges over the interval.
 */
export function estimateJob(job: OfflineJob, billing: InstanceBilling, throughput: Throughput): JobEstimate {
  const [low, high] = throughput.interval;
  const instances = fewestToEnd(job, billing.startupSeconds, low, {
    startup: 'start-up',
    units: 'instances',
    rate: '',
    cap: job.maxInstances,
    capField: 'offline.maxInstances',
  });
  if (typeof instances !== 'number') return instances;
  const at = (rate: number) => jobAt(job, billing, rate, instances);
  const [fast, measured, slow] = [at(high), at(throughput.rowsPerSecond), at(low)];
  return {
    fits: true,
    instances,
    seconds: measured.seconds,
    secondsRange: [fast.seconds, slow.seconds],
    usd: measured.usd,
    usdRange: [fast.usd, slow.usd],
    usdPerMillionRows: (measured.usd / job.rows) * 1e6,
  };
}

const formatRate = (rowsPerSecond: number) => `${+rowsPerSecond.toPrecision(3)} rows/s`;

/**
 * The fewest units (instances, or invocations at once) that end the job by its deadline at `low`
 * rows a second each, after `startupSeconds`; or why no number within `cap` does. Fewer cost less
 * where each pays its own start-up, and never more where requests are billed.
 */
function fewestToEnd(
  job: OfflineJob,
  startupSeconds: number,
  low: number,
  words: { startup: string; units: string; rate: string; cap: number; capField: string },
): number | Extract<JobEstimate, { fits: false }> {
  const working = job.deadlineSeconds - startupSeconds;
  if (working <= 0)
    return {
      fits: false,
      reason: `its ${words.startup} (${formatDurationMs(startupSeconds * 1000)}) alone takes the deadline (${formatDurationMs(job.deadlineSeconds * 1000)})`,
    };
  if (!(low > 0)) return { fits: false, reason: 'its throughput may be 0 (the low end of its interval)' };
  const count = Math.max(1, Math.ceil(job.rows / (low * working) - 1e-9));
  if (count > words.cap)
    return {
      fits: false,
      instancesNeeded: count,
      reason: `it would take ${count} ${words.units} to end by the deadline (at ${formatRate(low)}${words.rate}, the low end of its interval), more than ${words.capField} (${words.cap})`,
    };
  return count;
}

/** A job billed per request: its requests' cost at the measured billed duration, however many run at once. */
export interface PerRequestBilling {
  /** What the job's requests cost (the platform's per-request and per-duration charges, no free tier). */
  readonly usd: number;
  /** From the job's start to its first rows: a cold start, measured. */
  readonly startupSeconds: number;
  /** The most invocations that may run at once (the account's concurrency limit). */
  readonly maxConcurrency: number;
}

/**
 * A job on a candidate billed per request (Lambda), measured at saturation with `concurrency`
 * requests in flight. Each invocation runs in its own environment, so its rate (throughput ÷
 * concurrency) is taken to hold at any concurrency: the job runs as many at once as end it by the
 * deadline at the low end of the interval. Its cost does not depend on how many run at once; its
 * range follows the throughput's interval, as a request's billed time varies with its time.
 */
export function estimatePerRequestJob(job: OfflineJob, billing: PerRequestBilling, throughput: Throughput, concurrency: number): JobEstimate {
  const perInvocation = {
    rowsPerSecond: throughput.rowsPerSecond / concurrency,
    interval: [throughput.interval[0] / concurrency, throughput.interval[1] / concurrency] as const,
  };
  const low = perInvocation.interval[0];
  const invocations = fewestToEnd(job, billing.startupSeconds, low, {
    startup: 'cold start',
    units: 'invocations at once',
    rate: ' an invocation',
    cap: billing.maxConcurrency,
    capField: 'offline.maxConcurrentInvocations',
  });
  if (typeof invocations !== 'number') return invocations;
  const seconds = (rate: number) => billing.startupSeconds + job.rows / (rate * invocations);
  const [fastUsd, slowUsd] = [
    billing.usd * (perInvocation.rowsPerSecond / perInvocation.interval[1]),
    billing.usd * (perInvocation.rowsPerSecond / low),
  ];
  return {
    fits: true,
    instances: invocations,
    unit: 'invocations',
    seconds: seconds(perInvocation.rowsPerSecond),
    secondsRange: [seconds(perInvocation.interval[1]), seconds(low)],
    usd: billing.usd,
    usdRange: [fastUsd, slowUsd],
    usdPerMillionRows: (billing.usd / job.rows) * 1e6,
  };
}

/** An offline candidate's verdict: its throughput at saturation, and the job it would run. */
export interface OfflineJobVerdict {
  readonly saturation: Saturation;
  /** Rows a request, where the sweep searched batch sizes (`offline.batch`): the size judged cheapest. */
  readonly batch?: number;
  /** The job on the fewest instances that end it by the deadline; absent where none within the cap do. */
  readonly estimate?: Extract<JobEstimate, { fits: true }>;
}
