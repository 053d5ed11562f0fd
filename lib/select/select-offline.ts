import type { PriceSource } from '../cost/price-book';
import { formatDurationMs, formatUsdPrecise } from '../format/format';
import type { PhaseResult } from '../load/phase';
import { estimateJob, estimatePerRequestJob, type InstanceBilling, type OfflineJob } from '../offline/job-estimate';
import { describeJobTiming } from '../offline/job-timing';
import {
  afterSaturationProbe,
  firstSaturationState,
  type Saturation,
  saturationFor,
  saturationOf,
  type SaturationProbe,
  type SaturationSettings,
} from '../offline/saturation';
import { throughputOf } from '../offline/throughput';
import type { CandidateOutcome, CandidateVerdict, Selection, SelectionStrategy } from './select';

/** The name of a saturation probe's phase: `saturation-c16`, or `saturation-b32-c16` for requests of 32 rows (`offline.batch`). */
export const saturationPhaseName = (concurrency: number, batch?: number): string =>
  `saturation-${batch !== undefined ? `b${batch}-` : ''}c${concurrency}`;
const SATURATION_PHASE = /^saturation-(?:b(\d+)-)?c\d+$/;
/** The batch sizes a candidate's saturation searches ran at (`offline.batch`), in the order searched; none for payloads as they are. */
const batchesOf = (phases: readonly PhaseResult[]): number[] => [
  ...new Set(
    phases.flatMap((p) => {
      const batch = SATURATION_PHASE.exec(p.name)?.[1];
      return batch !== undefined ? [Number(batch)] : [];
    }),
  ),
];
/** Whether a phase is a probe of the saturation search of batch `batch` (undefined: payloads as they are). */
const probeOfBatch = (phase: PhaseResult, batch: number | undefined): boolean => {
  const match = SATURATION_PHASE.exec(phase.name);
  return match !== null && (match[1] === undefined ? batch === undefined : Number(match[1]) === batch);
};

export interface OfflineSelectionInput {
  readonly job: OfflineJob;
  readonly rowsPerRequest: number;
  readonly saturation: SaturationSettings;
  readonly maxErrorRate: number;
  readonly strategy: SelectionStrategy;
  readonly candidates: readonly CandidateOutcome[];
  /** A candidate's billing for the job, or undefined where it is not priced per instance-hour. */
  readonly billing: (candidate: CandidateOutcome) => (InstanceBilling & { readonly sources?: readonly PriceSource[] }) | undefined;
  /**
   * What `requests` requests of a candidate billed per request (Lambda) cost, at what `phase`
   * measured of them; undefined where it is not priced so.
   */
  readonly perRequest?: (
    candidate: CandidateOutcome,
    phase: PhaseResult,
    requests: number,
  ) => { readonly usd: number; readonly sources?: readonly PriceSource[] } | undefined;
  /** The most invocations of a candidate billed per request the job may run at once. @default 1000 */
  readonly maxConcurrentInvocations?: number;
}

/**
 * A measured candidate's saturation search, replayed from its recorded probes; or, for a job that
 * timed itself (a transform job), its one measurement at the concurrency it ran at.
 */
export function saturationFromPhases(
  settings: SaturationSettings,
  phases: readonly PhaseResult[],
  rowsPerRequest: number,
  maxErrorRate: number,
  batch?: number,
): Saturation | undefined {
  const timed = phases.find((p) => p.job);
  if (timed?.job) {
    const { rowsPerSecond, interval } = timed.job;
    const concurrency = timed.concurrency ?? 1;
    return {
      rowsPerSecond,
      interval,
      concurrency,
      knee: concurrency,
      curve: [{ concurrency, errorRate: 0, rowsPerSecond, interval }],
      stoppedBecause: describeJobTiming(timed.job),
    };
  }
  let state = firstSaturationState();
  for (const phase of phases.filter((p) => probeOfBatch(p, batch) && p.concurrency !== undefined)) {
    const probe: SaturationProbe = { concurrency: phase.concurrency!, errorRate: phase.errorRate, ...throughputOf(phase, rowsPerRequest) };
    state = afterSaturationProbe(settings, state, probe, maxErrorRate);
  }
  return saturationOf(settings, state, maxErrorRate);
}

type Judged = { verdict: Omit<CandidateVerdict, 'onFrontier' | 'recommended' | 'reason'>; why?: string; doubt?: string };

/** A measured candidate judged on its saturation search at `batch` rows a request (undefined: its payloads as they are). */
function judgeAt(input: OfflineSelectionInput, c: CandidateOutcome, batch: number | undefined, within: string): Judged {
  const { job } = input;
  const base = { id: c.id, status: c.status, feasible: false };
  const rowsPerRequest = batch ?? input.rowsPerRequest;
  const phases = c.phases.filter((p) => p.job || probeOfBatch(p, batch));
  const saturation = saturationFromPhases(saturationFor(input.saturation, c.maxConcurrency), phases, rowsPerRequest, input.maxErrorRate, batch);
  if (!saturation)
    return { verdict: base, why: `no saturation probe kept its errors within ${Math.round(input.maxErrorRate * 100)}%: ${errorsOf(phases)}` };
  // A probe the machine's own noise may have slowed (see generator-health) understates the target: said, never hidden.
  const doubted = phases.filter((p) => SATURATION_PHASE.test(p.name) && p.validity && !p.validity.valid);
  const timed = phases.find((p) => p.job)?.job;
  const doubt =
    (doubted.length > 0
      ? `; measured on a busy machine (${doubted[0]!.validity!.reason ?? 'inconclusive'}), so its throughput may be understated`
      : '') + (timed?.method === 'whole job' ? `; ${describeJobTiming(timed)}` : '');
  if (c.scaling === 'per-request') {
    // Priced by its requests at the best probe's billed time; its rate an invocation taken to hold at any concurrency.
    const probe = phases.findLast((p) => p.name === saturationPhaseName(saturation.concurrency, batch))!;
    const requests = Math.ceil(job.rows / rowsPerRequest);
    const billed = input.perRequest?.(c, probe, requests);
    if (!billed) return { verdict: { ...base, job: { saturation } }, why: 'it is not priced per request' };
    const priced = billed.sources?.length ? { priceSources: billed.sources } : {};
    const startupSeconds = coldStartSeconds(phases);
    const estimate = estimatePerRequestJob(
      job,
      { usd: billed.usd, startupSeconds, maxConcurrency: input.maxConcurrentInvocations ?? 1000 },
      saturation,
      saturation.concurrency,
    );
    const scaled = `; its rate an invocation, measured at concurrency ${saturation.concurrency}, is taken to hold at any (each invocation runs in its own environment)`;
    if (!estimate.fits) return { verdict: { ...base, ...priced, job: { saturation } }, why: `cannot end ${within}: ${estimate.reason}${doubt}` };
    return { verdict: { ...base, feasible: true, ...priced, job: { saturation, estimate } }, doubt: `${scaled}${doubt}` };
  }
  const perUnit = c.instancesPerUnit ?? 1;
  const billing = withMeasuredStartup(input.billing(c), phases);
  if (!billing) return { verdict: { ...base, job: { saturation } }, why: 'it is not priced by the instance-hour, which offline sweeps need' };
  const unitBilling = { ...billing, usdPerInstanceHour: billing.usdPerInstanceHour * perUnit };
  const estimate = estimateJob({ ...job, maxInstances: Math.floor(job.maxInstances / perUnit) }, unitBilling, saturation);
  const priced = { costPerHourUsd: billing.usdPerInstanceHour, ...(billing.sources?.length ? { priceSources: billing.sources } : {}) };
  if (!estimate.fits) return { verdict: { ...base, ...priced, job: { saturation } }, why: `cannot end ${within}: ${estimate.reason}${doubt}` };
  return {
    verdict: { ...base, feasible: true, ...priced, instances: estimate.instances * perUnit, job: { saturation, estimate } },
    ...(doubt ? { doubt } : {}),
  };
}

/**
 * The offline selection: each measured candidate's throughput at saturation extrapolated to the
 * job (see job-estimate), and the cheapest that ends by the deadline recommended, with its
 * instance count. Where the next cheapest's cost range reaches into the best's, the two cannot be
 * told apart, and the note says so. The frontier is job cost × job time.
 */
export function selectOffline(input: OfflineSelectionInput): Selection {
  const { job } = input;
  const within = `${job.rows.toLocaleString('en-US')} rows within ${formatDurationMs(job.deadlineSeconds * 1000)}`;
  const judged = input.candidates.map((c): Judged => {
    const base = { id: c.id, status: c.status, feasible: false };
    if (c.status !== 'measured') return { verdict: base, why: c.reason ?? c.status };
    const sizes = batchesOf(c.phases);
    if (sizes.length === 0) return judgeAt(input, c, undefined, within);
    // Each batch size was searched on its own: the cheapest that ends in time, else the fastest, stands for the candidate.
    const all = sizes.map((batch) => ({ batch, judged: judgeAt(input, c, batch, within) }));
    const usd = (j: Judged) => j.verdict.job?.estimate?.usd ?? Number.POSITIVE_INFINITY;
    const rate = (j: Judged) => j.verdict.job?.saturation.rowsPerSecond ?? -1;
    const chosen = [...all].sort((a, b) => usd(a.judged) - usd(b.judged) || rate(b.judged) - rate(a.judged))[0]!;
    const others = all
      .filter((o) => o !== chosen && o.judged.verdict.job)
      .map(
        (o) =>
          `batch ${o.batch}: ${+rate(o.judged).toPrecision(3)} rows/s${o.judged.verdict.job!.estimate ? `, ${formatUsdPrecise(usd(o.judged))}` : ''}`,
      );
    const atBatch = `; at batch ${chosen.batch}${others.length > 0 ? ` (${others.join('; ')})` : ''}`;
    const { verdict, why, doubt } = chosen.judged;
    return {
      verdict: verdict.job ? { ...verdict, job: { ...verdict.job, batch: chosen.batch } } : verdict,
      ...(why ? { why: `${why}${atBatch}` } : { doubt: `${atBatch}${doubt ?? ''}` }),
    };
  });
  const feasible = judged.filter((j) => j.verdict.feasible).sort((a, b) => a.verdict.job!.estimate!.usd - b.verdict.job!.estimate!.usd);
  const best = feasible[0]?.verdict;
  const frontier = feasible
    .filter((j) => !feasible.some((o) => o !== j && dominates(o.verdict.job!.estimate!, j.verdict.job!.estimate!)))
    .map((j) => j.verdict.id);
  const candidates = judged.map(({ verdict, why, doubt }): CandidateVerdict => {
    const onFrontier = frontier.includes(verdict.id);
    const recommended = verdict.id === best?.id;
    return { ...verdict, onFrontier, recommended, reason: why ?? `${reasonOf(verdict, best!, recommended, onFrontier, within)}${doubt ?? ''}` };
  });
  const runnerUp = feasible[1]?.verdict;
  const close =
    best && runnerUp && runnerUp.job!.estimate!.usdRange[0] <= best.job!.estimate!.usdRange[1]
      ? `${best.id} and ${runnerUp.id} cannot be told apart by the job's cost: ${usdRange(best)} against ${usdRange(runnerUp)}, over their throughputs' intervals; longer saturation steps (offline.saturation.stepDuration) would narrow them`
      : undefined;
  return {
    ...(best ? { recommended: best.id } : {}),
    strategy: input.strategy,
    frontier,
    ...(close ? { confidenceNote: close } : {}),
    ...(best
      ? {}
      : {
          noRecommendationNote: `none of the candidates can end ${within}: ${candidates.map((c) => `${c.id} ${c.reason}`).join('; ')}`,
        }),
    candidates,
  };
}

/** A job billed per request starts with cold starts, side by side: the slowest typical one its probes met, in seconds. */
function coldStartSeconds(phases: readonly PhaseResult[]): number {
  return Math.max(0, ...phases.filter((p) => SATURATION_PHASE.test(p.name)).map((p) => (p.coldStarts?.latencyMs.p50 ?? 0) / 1000));
}

/**
 * A job that timed itself says how long it took to start and what of that was billed; other kinds'
 * start-up is their kind's assumed provisioning time (the caller's billing).
 */
function withMeasuredStartup<B extends InstanceBilling>(billing: B | undefined, phases: readonly PhaseResult[]): B | undefined {
  const timed = phases.find((p) => p.job)?.job;
  if (!billing || !timed) return billing;
  return {
    ...billing,
    startupSeconds: timed.unbilledStartupSeconds + timed.billedOverheadSeconds,
    billedStartupSeconds: timed.billedOverheadSeconds,
  };
}

const dominates = (a: { usd: number; seconds: number }, b: { usd: number; seconds: number }) =>
  a.usd <= b.usd && a.seconds <= b.seconds && (a.usd < b.usd || a.seconds < b.seconds);

const usdRange = (v: Pick<CandidateVerdict, 'job'>) =>
  `${formatUsdPrecise(v.job!.estimate!.usdRange[0])}–${formatUsdPrecise(v.job!.estimate!.usdRange[1])}`;

/** What a job runs on: `2 instances` (the verdict's, which counts each instance of a unit), or `40 invocations at once`. */
function onWhat(v: Pick<CandidateVerdict, 'job' | 'instances'>): string {
  const estimate = v.job!.estimate!;
  const n = estimate.unit === 'invocations' ? estimate.instances : (v.instances ?? estimate.instances);
  return estimate.unit === 'invocations' ? `${n} invocation${n === 1 ? '' : 's'} at once` : `${n} instance${n === 1 ? '' : 's'}`;
}

function summary(v: Pick<CandidateVerdict, 'job' | 'instances'>): string {
  const { estimate, saturation } = v.job!;
  const [fast, slow] = estimate!.secondsRange;
  const time = (s: number) => formatDurationMs(s * 1000);
  return (
    `${formatUsdPrecise(estimate!.usd)} on ${onWhat(v)}, ${time(estimate!.seconds)} (${time(fast)}–${time(slow)}); ` +
    `${+saturation.rowsPerSecond.toPrecision(3)} rows/s ${estimate!.unit === 'invocations' ? 'in all' : 'an instance'} (${+saturation.interval[0].toPrecision(3)}–${+saturation.interval[1].toPrecision(3)}) at concurrency ${estimate!.unit === 'invocations' ? saturation.concurrency : saturation.knee}`
  );
}

function reasonOf(
  v: Pick<CandidateVerdict, 'job' | 'instances'>,
  best: Pick<CandidateVerdict, 'job' | 'id'>,
  recommended: boolean,
  onFrontier: boolean,
  within: string,
): string {
  if (recommended) return `recommended: the cheapest that ends ${within}: ${summary(v)}`;
  const more = `${formatUsdPrecise(v.job!.estimate!.usd - best.job!.estimate!.usd)} more`;
  if (onFrontier) return `on the frontier, not chosen: ends sooner than ${best.id} but costs ${more} (${summary(v)})`;
  return `ends in time, but costs ${more} than ${best.id} (${summary(v)})`;
}

function errorsOf(phases: readonly PhaseResult[]): string {
  return phases
    .filter((p) => SATURATION_PHASE.test(p.name))
    .map((p) => `${Math.round(p.errorRate * 100)}% at concurrency ${p.concurrency}`)
    .join(', ');
}
