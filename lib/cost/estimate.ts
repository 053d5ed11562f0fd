import { ModelsweepError } from '../errors';
import type { PriceBook, PriceSource } from './price-book';

/** One line of a cost estimate. `usd` is exact; reports round it up to the cent. */
export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitPriceUsd: number;
  readonly usd: number;
  readonly source: PriceSource;
}

export interface CostEstimate {
  readonly kind: 'lambda' | 'sagemaker-realtime' | 'sagemaker-serverless' | 'azureml' | 'http' | 'local';
  readonly lines: CostLine[];
  /** Exact sum of the lines for a month (hoursPerMonth hours). */
  readonly monthlyUsd: number;
  /** Instances the estimate assumes, for instance-based kinds (the most in any hour with a profile). */
  readonly instances?: number;
  readonly notes: string[];
  /** The commitment the lines are priced at, where one was asked for. */
  readonly commitment?: string;
}

/** Rounds a dollar amount up to the cent, as AWS's worked examples do (never under-reports). */
export function roundUpToCent(usd: number): number {
  return Math.ceil(Math.round(usd * 1e6) / 1e4) / 100;
}

const SECONDS_PER_HOUR = 3600;
const total = (lines: CostLine[]) => lines.reduce((sum, l) => sum + l.usd, 0);

export interface LambdaUsage {
  readonly region: string;
  readonly architecture: 'x86_64' | 'arm64';
  readonly memoryMb: number;
  /** Average billed duration of one request (Lambda bills in 1 ms steps). */
  readonly billedDurationMs: number;
  readonly requestsPerMonth: number;
  /** @default 512 (the free amount) */
  readonly ephemeralStorageMb?: number;
  /** Environments kept warm all month. @default 0 */
  readonly provisionedConcurrency?: number;
  /** Subtract the monthly free tier (1 M requests, 400,000 GB-s). @default false */
  readonly freeTier?: boolean;
}

/** Lambda's monthly cost: GB-seconds through the volume tiers, requests, storage, provisioned concurrency. */
export function lambdaMonthlyCost(usage: LambdaUsage, prices: PriceBook): CostEstimate {
  const { prices: p, source } = prices.lambda(usage.region);
  const gb = usage.memoryMb / 1024;
  // An average of billed durations, each already rounded up to Lambda's 1 ms step: rounding the average again would overcharge.
  const seconds = (usage.billedDurationMs / 1000) * usage.requestsPerMonth;
  const lines: CostLine[] = [];
  const notes: string[] = [];
  const monthSeconds = prices.hoursPerMonth * SECONDS_PER_HOUR;
  const provisioned = usage.provisionedConcurrency ?? 0;

  let onDemandGbSeconds = gb * seconds;
  if (provisioned > 0) {
    // Requests served by warm environments bill at the provisioned duration rate; assume all of
    // them are, which holds while traffic stays within the provisioned concurrency.
    const pc = p.provisionedConcurrency[usage.architecture];
    const pcGbSeconds = provisioned * gb * monthSeconds;
    lines.push({
      item: `provisioned concurrency (${provisioned} × ${usage.memoryMb} MB, all month)`,
      quantity: pcGbSeconds,
      unit: 'GB-s',
      unitPriceUsd: pc.perGbSecond,
      usd: pcGbSeconds * pc.perGbSecond,
      source,
    });
    lines.push({
      item: 'duration on provisioned concurrency',
      quantity: onDemandGbSeconds,
      unit: 'GB-s',
      unitPriceUsd: pc.durationPerGbSecond,
      usd: onDemandGbSeconds * pc.durationPerGbSecond,
      source,
    });
    notes.push('all requests are assumed to run on provisioned concurrency');
    if (prices.commitment !== 'on-demand') notes.push(`provisioned concurrency is priced on demand, not at a ${prices.commitment} rate`);
    onDemandGbSeconds = 0;
  }
  const committed = prices.commitment === 'on-demand' ? undefined : p.committedComputePerGbSecond?.[prices.commitment]?.[usage.architecture];
  if (prices.commitment !== 'on-demand' && onDemandGbSeconds > 0 && committed === undefined)
    throw new ModelsweepError(
      'not-found',
      `no ${prices.commitment} Compute Savings Plans rate for Lambda ${usage.architecture} in ${usage.region} (${source.label}); fetch it with \`modelsweep prices update --service lambda --region ${usage.region}\`, or price on demand`,
    );
  if (committed !== undefined && onDemandGbSeconds > 0) {
    const free = usage.freeTier ? Math.min(onDemandGbSeconds, p.freeTier.gbSeconds) : 0;
    if (free > 0) notes.push(`free tier: ${free.toLocaleString('en-US')} GB-s`);
    const gbSeconds = onDemandGbSeconds - free;
    lines.push({
      item: `compute (${usage.architecture}, ${prices.commitment} Compute Savings Plan)`,
      quantity: gbSeconds,
      unit: 'GB-s',
      unitPriceUsd: committed,
      usd: gbSeconds * committed,
      source: { ...source, commitment: prices.commitment as Exclude<typeof prices.commitment, 'on-demand'> },
    });
  } else if (onDemandGbSeconds > 0) {
    const free = usage.freeTier ? Math.min(onDemandGbSeconds, p.freeTier.gbSeconds) : 0;
    if (free > 0) notes.push(`free tier: ${free.toLocaleString('en-US')} GB-s`);
    let remaining = onDemandGbSeconds - free;
    let floor = 0;
    for (const t of p.computePerGbSecond[usage.architecture]) {
      const ceiling = t.upToGbSecondsPerMonth ?? Infinity;
      const inTier = Math.max(0, Math.min(remaining, ceiling - floor));
      if (inTier > 0)
        lines.push({
          item: `compute (${usage.architecture}${floor > 0 ? `, over ${floor.toExponential(1)} GB-s` : ''})`,
          quantity: inTier,
          unit: 'GB-s',
          unitPriceUsd: t.price,
          usd: inTier * t.price,
          source,
        });
      remaining -= inTier;
      floor = ceiling;
      if (remaining <= 0) break;
    }
  }
  const billableRequests = Math.max(0, usage.requestsPerMonth - (usage.freeTier ? p.freeTier.requests : 0));
  lines.push({
    item: 'requests',
    quantity: billableRequests / 1e6,
    unit: 'M requests',
    unitPriceUsd: p.requestsPerMillion,
    usd: (billableRequests / 1e6) * p.requestsPerMillion,
    source,
  });
  const extraStorageGb = Math.max(0, (usage.ephemeralStorageMb ?? p.ephemeralStorageFreeMb) - p.ephemeralStorageFreeMb) / 1024;
  if (extraStorageGb > 0) {
    const storageGbSeconds = extraStorageGb * seconds;
    lines.push({
      item: 'ephemeral storage over 512 MB',
      quantity: storageGbSeconds,
      unit: 'GB-s',
      unitPriceUsd: p.ephemeralStoragePerGbSecond,
      usd: storageGbSeconds * p.ephemeralStoragePerGbSecond,
      source,
    });
  }
  return { kind: 'lambda', lines, monthlyUsd: total(lines), notes, ...commitmentOf(prices) };
}

export interface InstanceUsage {
  readonly region: string;
  readonly instanceType: string;
  /** A fixed count; or give peakRps and rpsPerInstance. */
  readonly instances?: number;
  /** Requests/s the endpoint must serve at its busiest. */
  readonly peakRps?: number;
  /** The highest rate one instance sustains within the SLO (measured). */
  readonly rpsPerInstance?: number;
  /** With autoscaling: requests/s in each hour of the day; each hour then pays for the instances it needs. */
  readonly hourlyProfile?: readonly number[];
  /** Floor on instances, e.g. 2 for availability. @default 1 */
  readonly minInstances?: number;
}

/**
 * Instances a load needs: ceil(rps / what one instance sustains within the SLO), at least the floor.
 */
export function instancesFor(rps: number, rpsPerInstance: number, minInstances = 1): number {
  if (!(rpsPerInstance > 0)) throw new ModelsweepError('invalid-input', `rpsPerInstance must be above 0, got ${rpsPerInstance}`);
  return Math.max(minInstances, Math.ceil(rps / rpsPerInstance - 1e-9));
}

/** Monthly cost of an instance-based endpoint (SageMaker real-time or Azure ML online), at the book's commitment. */
export function instanceMonthlyCost(kind: 'sagemaker-realtime' | 'azureml', usage: InstanceUsage, prices: PriceBook): CostEstimate {
  const { usd: hourly, source } = prices.instanceHour(kind, usage.region, usage.instanceType);
  const minInstances = usage.minInstances ?? 1;
  const notes: string[] = [];
  let instanceHours: number;
  let instances: number;
  if (usage.instances !== undefined) {
    instances = usage.instances;
    instanceHours = instances * prices.hoursPerMonth;
  } else if (usage.rpsPerInstance !== undefined && usage.hourlyProfile) {
    const perHour = usage.hourlyProfile.map((rps) => instancesFor(rps, usage.rpsPerInstance!, minInstances));
    instances = Math.max(...perHour);
    instanceHours = (perHour.reduce((a, b) => a + b, 0) / 24) * prices.hoursPerMonth;
    notes.push(`autoscaling on the hourly profile: ${Math.min(...perHour)} to ${instances} instances`);
  } else if (usage.rpsPerInstance !== undefined && usage.peakRps !== undefined) {
    instances = instancesFor(usage.peakRps, usage.rpsPerInstance, minInstances);
    instanceHours = instances * prices.hoursPerMonth;
    notes.push(`ceil(${usage.peakRps} peak rps / ${usage.rpsPerInstance} rps per instance) = ${instances} instance${instances === 1 ? '' : 's'}`);
  } else {
    throw new ModelsweepError('invalid-input', 'give instances, or peakRps (or hourlyProfile) with rpsPerInstance');
  }
  const lines: CostLine[] = [
    {
      item: `${usage.instanceType} instance-hours`,
      quantity: instanceHours,
      unit: 'instance-hours',
      unitPriceUsd: hourly,
      usd: instanceHours * hourly,
      source,
    },
  ];
  return { kind, lines, monthlyUsd: total(lines), instances, notes, ...commitmentOf(prices) };
}

export interface ServerlessUsage {
  readonly region: string;
  readonly memoryMb: number;
  readonly durationMs: number;
  readonly requestsPerMonth: number;
  /** Request plus response bytes of one invocation. @default 0 */
  readonly bytesPerRequest?: number;
  /** @default 0 */
  readonly provisionedConcurrency?: number;
}

/** SageMaker serverless: compute seconds by memory, data processed, provisioned concurrency. */
export function serverlessMonthlyCost(usage: ServerlessUsage, prices: PriceBook): CostEstimate {
  const { prices: p, source } = prices.serverless(usage.region);
  const memory = String(usage.memoryMb);
  const perSecond = p.computePerSecondByMemoryMb[memory];
  if (perSecond === undefined)
    throw new ModelsweepError(
      'invalid-input',
      `no serverless price for ${usage.memoryMb} MB; sizes: ${Object.keys(p.computePerSecondByMemoryMb).join(', ')} MB`,
    );
  const seconds = (usage.durationMs / 1000) * usage.requestsPerMonth;
  const lines: CostLine[] = [];
  const provisioned = usage.provisionedConcurrency ?? 0;
  if (provisioned > 0) {
    const monthSeconds = provisioned * prices.hoursPerMonth * SECONDS_PER_HOUR;
    const pcRate = p.provisionedConcurrencyPerSecondByMemoryMb?.[memory];
    const durationRate = p.provisionedDurationPerSecondByMemoryMb?.[memory];
    if (pcRate === undefined || durationRate === undefined)
      throw new ModelsweepError(
        'not-found',
        `no provisioned-concurrency price for ${usage.memoryMb} MB serverless in ${usage.region} (${source.label}); give it with --prices`,
      );
    lines.push({
      item: `provisioned concurrency (${provisioned} × ${usage.memoryMb} MB, all month)`,
      quantity: monthSeconds,
      unit: 'seconds',
      unitPriceUsd: pcRate,
      usd: monthSeconds * pcRate,
      source,
    });
    lines.push({
      item: 'inference duration on provisioned concurrency',
      quantity: seconds,
      unit: 'seconds',
      unitPriceUsd: durationRate,
      usd: seconds * durationRate,
      source,
    });
  } else {
    lines.push({
      item: `compute (${usage.memoryMb} MB)`,
      quantity: seconds,
      unit: 'seconds',
      unitPriceUsd: perSecond,
      usd: seconds * perSecond,
      source,
    });
  }
  const gigabytes = ((usage.bytesPerRequest ?? 0) * usage.requestsPerMonth) / 1024 ** 3;
  if (gigabytes > 0)
    lines.push({
      item: 'data processed in and out',
      quantity: gigabytes,
      unit: 'GB',
      unitPriceUsd: p.dataProcessingPerGb,
      usd: gigabytes * p.dataProcessingPerGb,
      source,
    });
  return { kind: 'sagemaker-serverless', lines, monthlyUsd: total(lines), notes: [] };
}

/** Requests in a month at an average rate. */
export function requestsPerMonth(averageRps: number, prices: PriceBook): number {
  return averageRps * prices.hoursPerMonth * SECONDS_PER_HOUR;
}

/** Dollars per million inferences for something that costs `usdPerHour` and serves `rps`. */
export function costPerMillionInferences(usdPerHour: number, rps: number): number {
  return rps > 0 ? (usdPerHour / (rps * SECONDS_PER_HOUR)) * 1e6 : Infinity;
}

const commitmentOf = (prices: PriceBook) => (prices.commitment === 'on-demand' ? {} : { commitment: prices.commitment });
