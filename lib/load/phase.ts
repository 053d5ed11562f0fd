import { type BoundObservation, type GeneratorHealth, GeneratorWatch, type PhaseValidity, phaseValidity } from './generator-health';
import { LatencyHistogram, type LatencySummary } from './histogram';
import { failureKey, type InvokeOutcome, type Invoker, type Payload, type TokenStream } from './invoker';
import { arrivalOffsetsMs, type Arrivals } from './schedule';
import { boundLabel, type BoundSample, type PhaseSlo, type SloBound, sloBounds, type SloMetric } from './slo-bounds';
import { shouldStop, sloUndecided, type StopReason, type StopRuleOptions } from './stop-rules';

/** A send more than this late counts as late (MLPerf/perf_analyzer use the same kind of bound). */
export const LATE_SEND_MS = 1;
/** Over this fraction of late sends, the generator, not the target, limited the phase. */
export const GENERATOR_LIMIT_FRACTION = 0.01;

/** Time windows a phase's planned duration is cut into, its latencies kept apart by window, for the percentile's interval. */
export const PHASE_WINDOWS = 10;
/**
 * Consecutive windows are joined into batches until a batch holds this many latencies above the
 * SLO percentile (300 for p99): a window's p99 from a few dozen latencies is just its largest, and
 * batches of maxima swing far more than the phase's p99 does.
 */
const TAIL_SAMPLES_PER_BATCH = 3;
/** Nor fewer than this in a batch, whatever the percentile. */
const MIN_BATCH_SAMPLES = 20;

export type PhasePlan =
  | { readonly name: string; readonly mode: 'open'; readonly rate: number; readonly arrivals: Arrivals; readonly durationMs: number }
  | { readonly name: string; readonly mode: 'closed'; readonly concurrency: number; readonly durationMs: number };

export interface PhaseOptions {
  /** Seeds the arrival schedule. */
  readonly seed: number;
  /** Picks the body of each request. */
  readonly nextPayload: () => Payload;
  /**
   * Most requests outstanding at once in an open-loop phase; a send beyond it is counted as an
   * `in_flight_limit` error rather than queued, so a stalled target cannot grow memory without bound.
   * @default 10000
   */
  readonly maxInFlight?: number;
  /**
   * With an SLO, the phase may end early (see {@link shouldStop}), and one whose SLO percentile is
   * still too close to call at its planned end runs on, up to {@link maxDurationMs}.
   */
  readonly slo?: PhaseSlo;
  /**
   * How long a phase may run on past its plan while its SLO percentile's interval still has the
   * SLO inside it (more windows narrow it); at this length it stops, too close to call.
   * @default the plan's duration: no extension
   */
  readonly maxDurationMs?: number;
  readonly stopRules?: StopRuleOptions;
  /** Called about every `progressEveryMs` while the phase runs. */
  readonly onProgress?: (progress: PhaseProgress) => void;
  /** @default 500 */
  readonly progressEveryMs?: number;
  /** Aborts the phase (sends stop; outstanding requests are awaited). */
  readonly signal?: AbortSignal;
  /** The target's processes on this machine (a local model server), told apart from other processes' load. */
  readonly targetPids?: readonly number[];
}

export interface PhaseProgress {
  readonly phase: string;
  readonly elapsedMs: number;
  readonly plannedMs: number;
  readonly sent: number;
  readonly completed: number;
  readonly errors: number;
  readonly p99Ms: number;
}

/** What one phase measured. Latencies are from the intended send time in open-loop phases. */
/**
 * A job that timed itself (a transform job on a sample) in a load phase's place: its throughput on
 * one instance, with a 95% interval, and what it spent apart from its rows (see lib/offline/job-timing).
 */
export interface JobTiming {
  readonly rows: number;
  readonly rowsPerSecond: number;
  readonly interval: readonly [number, number];
  /** From the request to billing's start: waiting for an instance. Part of a job's time, not of its cost. */
  readonly unbilledStartupSeconds: number;
  /** Billed, but not spent on rows: the container's start and the model's load before the first file, the wind-down after the last. */
  readonly billedOverheadSeconds: number;
  /**
   * `files`: the throughput is the rows of the files after the first over the time between the
   * first's end and the last's, and its interval the spread of the files' own times. `whole job`:
   * the files ended too close together for that, so the whole billed time is taken as the rows'
   * (start-up included: an overestimate of a longer job's time), and the interval holds the
   * timestamps' resolution only.
   */
  readonly method: 'files' | 'whole job';
}

export interface PhaseResult {
  readonly name: string;
  readonly mode: 'open' | 'closed';
  readonly rate?: number;
  readonly arrivals?: Arrivals;
  readonly concurrency?: number;
  readonly plannedDurationMs: number;
  /** When the phase started (ISO 8601), so server-side metrics can be read for its window. */
  readonly startedAt: string;
  readonly durationMs: number;
  /** Requests sent to the target. */
  readonly requests: number;
  /**
   * Sends the generator itself refused because {@link PhaseOptions.maxInFlight} requests were
   * already outstanding: neither requests nor target errors (the target never saw them), but
   * latencies that could not be timed, so a phase with them cannot pass (see phaseValidity).
   */
  readonly refusedByGenerator?: number;
  readonly successes: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly errorCount: number;
  readonly errorRate: number;
  /** Completed requests per second of phase time. */
  readonly achievedRps: number;
  readonly lateSends: number;
  readonly maxLatenessMs: number;
  /** More than 1% of sends were over 1 ms late: the generator could not keep the schedule. */
  readonly generatorLimited: boolean;
  readonly stoppedEarly?: StopReason;
  /** It ran past its planned duration because its SLO percentile was too close to call there. */
  readonly extended?: boolean;
  readonly latencyMs: LatencySummary;
  /** The HDR histogram of successful latencies (µs), compressed base64; merges exactly. */
  readonly histogram: string;
  /** Successes served by a new execution environment (where the platform says so), apart from the warm ones. */
  readonly coldStarts?: {
    readonly count: number;
    readonly latencyMs: LatencySummary;
    readonly initMs: LatencySummary;
    readonly warmLatencyMs: LatencySummary;
  };
  /** What the platform billed per request, where it says (Lambda). */
  readonly billedDurationMs?: LatencySummary;
  /** Streamed responses (generative models): their tokens' timing and count. */
  readonly tokens?: TokenResults;
  /** The platform's own metrics for the phase's window (CloudWatch, Azure Monitor), where they exist. */
  readonly serverMetrics?: Readonly<Record<string, ServerMetric>>;
  /**
   * Measured with an SLO: its percentile in each batch of consecutive time windows of the phase
   * (a window is a tenth of the planned duration, see {@link PHASE_WINDOWS}; a batch holds enough
   * latencies for the percentile to be more than its largest), from which the percentile's interval is made
   * so that it holds for correlated latencies (see `robustPercentileInterval`).
   */
  readonly sloWindowsMs?: number[];
  /**
   * A closed-loop phase's successes in each whole time window of it (a tenth of its planned
   * duration, see {@link PHASE_WINDOWS}), the window that takes completions after its end left
   * out: what a throughput's interval is made from (see lib/offline/throughput).
   */
  readonly windowSuccesses?: number[];
  /** Set where a job timed itself in the phase's place (a transform job): its throughput and start-up, not the generator's. */
  readonly job?: JobTiming;
  /** How well the generator kept up while it ran (see {@link GeneratorHealth}). */
  readonly health?: GeneratorHealth;
  /** Measured with an SLO: whether a failure of this phase can be charged to the target. */
  readonly validity?: PhaseValidity;
}

/**
 * What a phase's streamed responses did, token by token. Time to first token is from the intended
 * send, as latencies are, so a target that falls behind its schedule is charged for the wait. The
 * histograms (µs, compressed base64) merge exactly across generators.
 */
export interface TokenResults {
  /** Successes that streamed at least one token. */
  readonly streams: number;
  readonly outputTokens: number;
  /** Output tokens per second of phase time. */
  readonly outputTokensPerSecond: number;
  /** Where the token counts came from (see token-stream.ts): the servers' own, one per chunk, or some of each. */
  readonly countedBy: 'usage' | 'chunks' | 'mixed';
  readonly timeToFirstTokenMs: LatencySummary;
  readonly timeToFirstTokenHistogram: string;
  readonly interTokenMs: LatencySummary;
  readonly interTokenHistogram: string;
  /** Measured with a time-to-first-token SLO: its percentile per batch of time windows, as {@link PhaseResult.sloWindowsMs}. */
  readonly timeToFirstTokenWindowsMs?: number[];
  /** Measured with an inter-token latency SLO: its percentile per batch of time windows. */
  readonly interTokenWindowsMs?: number[];
}

/** One server-side metric over a phase: the average and the largest of its data points. */
export interface ServerMetric {
  readonly average: number;
  readonly maximum: number;
  readonly unit: string;
  readonly datapoints: number;
}

const DEFAULT_MAX_IN_FLIGHT = 10_000;

class PhaseRecorder {
  readonly histogram = new LatencyHistogram();
  readonly errors = new Map<string, number>();
  sent = 0;
  completed = 0;
  errorCount = 0;
  refused = 0;
  late = 0;
  maxLatenessMs = 0;
  /**
   * Latency, time to first token and gaps between tokens, less each request's own share of the
   * generator's delay (see LoopTicks): what is left is the target's, whatever the generator did.
   */
  private readonly outside: Record<SloMetric, LatencyHistogram> = {
    latency: new LatencyHistogram(),
    timeToFirstToken: new LatencyHistogram(),
    interTokenLatency: new LatencyHistogram(),
  };
  /** Each bounded metric's latencies by time window of the phase (see {@link PHASE_WINDOWS}). */
  private readonly windows: Record<SloMetric, LatencyHistogram[]> = { latency: [], timeToFirstToken: [], interTokenLatency: [] };

  constructor(
    private readonly watch: GeneratorWatch | undefined,
    private readonly start: number,
    private readonly windowMs: number,
    /** The last window's index: a request that completes after the phase's end counts in it. */
    private readonly lastWindow: number,
  ) {}

  /** Created on the first streamed success, so phases of whole responses pay nothing. */
  private tokens?: TokenTally;

  /** Created on the first success that carries platform details, so plain HTTP phases pay nothing. */
  private platform?: { cold: LatencyHistogram; warm: LatencyHistogram; init: LatencyHistogram; billed: LatencyHistogram };

  /** A completed request: its outcome, its latency, when it was sent and when it completed (for its time window). */
  record(outcome: InvokeOutcome, latencyMs: number, sentAt: number, completedAt: number): void {
    this.completed++;
    if (!outcome.ok) return this.fail(failureKey(outcome.failure));
    this.histogram.recordMs(latencyMs);
    // Per request, what judging a phase against its SLO needs (the watch ticks only then).
    const ticks = this.watch?.ticks;
    ticks?.outside(sentAt, completedAt, (ms) => this.outside.latency.recordMs(ms));
    const window = this.windowOf(completedAt);
    this.inWindow('latency', window).recordMs(latencyMs);
    if (outcome.stream) {
      const tokens = (this.tokens ??= { ttft: new LatencyHistogram(), itl: new LatencyHistogram(), outputTokens: 0, countedBy: new Set() });
      // The request's intended send is `latencyMs` before it completed.
      const ttftMs = outcome.stream.firstTokenAt - (completedAt - latencyMs);
      tokens.ttft.recordMs(ttftMs);
      ticks?.outside(sentAt, outcome.stream.firstTokenAt, (ms) => this.outside.timeToFirstToken.recordMs(ms));
      this.inWindow('timeToFirstToken', this.windowOf(outcome.stream.firstTokenAt)).recordMs(ttftMs);
      const gaps = this.inWindow('interTokenLatency', window);
      // Each token's read time, from the first's and the gaps, for the gap's lower bound (see LoopTicks.gapMs).
      let readAt = outcome.stream.firstTokenAt;
      for (const gap of outcome.stream.interTokenMs) {
        tokens.itl.recordMs(gap);
        gaps.recordMs(gap);
        if (ticks) this.outside.interTokenLatency.recordMs(ticks.gapMs(readAt, readAt + gap));
        readAt += gap;
      }
      tokens.outputTokens += outcome.stream.outputTokens;
      tokens.countedBy.add(outcome.stream.tokensCountedBy);
    }
    if (outcome.billedMs === undefined && outcome.initMs === undefined) return;
    const platform = (this.platform ??= {
      cold: new LatencyHistogram(),
      warm: new LatencyHistogram(),
      init: new LatencyHistogram(),
      billed: new LatencyHistogram(),
    });
    if (outcome.billedMs !== undefined) platform.billed.recordMs(outcome.billedMs);
    if (outcome.initMs !== undefined) {
      platform.cold.recordMs(latencyMs);
      platform.init.recordMs(outcome.initMs);
    } else platform.warm.recordMs(latencyMs);
  }

  /** Successes in each window wholly inside the phase's `durationMs`, before the one that takes late completions. */
  private wholeWindowSuccesses(durationMs: number): number[] {
    const whole = Math.min(this.lastWindow, Math.floor(durationMs / this.windowMs + 1e-9));
    return Array.from({ length: whole }, (_, w) => this.windows.latency[w]?.count ?? 0);
  }

  private windowOf(at: number): number {
    return Math.min(this.lastWindow, Math.max(0, Math.floor((at - this.start) / this.windowMs)));
  }

  private inWindow(metric: SloMetric, window: number): LatencyHistogram {
    const windows = this.windows[metric];
    while (windows.length <= window) windows.push(new LatencyHistogram());
    return windows[window]!;
  }

  /** All of a metric's latencies so far. */
  histogramOf(metric: SloMetric): LatencyHistogram {
    return metric === 'latency' ? this.histogram : metric === 'timeToFirstToken' ? (this.tokens?.ttft ?? EMPTY) : (this.tokens?.itl ?? EMPTY);
  }

  /** Each bound of the SLO with what the phase measured for it (with `now`, windows complete by then only). */
  samples(slo: PhaseSlo, now?: number): BoundSample[] {
    return sloBounds(slo).map((bound) => ({
      bound,
      histogram: this.histogramOf(bound.metric),
      windowsMs: this.windowPercentiles(bound.metric, bound.percentile, now),
    }));
  }

  /**
   * The percentile of each batch of consecutive windows (see {@link TAIL_SAMPLES_PER_BATCH}); with
   * `now`, of the windows complete by then only, and a last batch too small left out (at the end,
   * it joins the one before).
   */
  windowPercentiles(metric: SloMetric, percentile: number, now?: number): number[] {
    const windows = this.windows[metric];
    const complete = now === undefined ? windows.length : Math.floor((now - this.start) / this.windowMs);
    const minBatch = Math.max(MIN_BATCH_SAMPLES, Math.ceil(TAIL_SAMPLES_PER_BATCH / (1 - percentile / 100)));
    const batches: LatencyHistogram[] = [];
    let batch = new LatencyHistogram();
    for (const window of windows.slice(0, complete)) {
      batch.add(window);
      if (batch.count < minBatch) continue;
      batches.push(batch);
      batch = new LatencyHistogram();
    }
    if (now === undefined && batch.count > 0 && batches.length > 0) batches.at(-1)!.add(batch);
    return batches.map((b) => Math.round(b.percentileMs(percentile) * 1000) / 1000);
  }

  fail(key: string): void {
    this.errorCount++;
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }

  lateness(ms: number): void {
    this.watch?.late(ms);
    if (ms > LATE_SEND_MS) this.late++;
    if (ms > this.maxLatenessMs) this.maxLatenessMs = ms;
  }

  result(
    plan: PhasePlan,
    startedAt: Date,
    durationMs: number,
    end: { stoppedEarly: StopReason | undefined; extended: boolean },
    options: PhaseOptions,
  ): PhaseResult {
    const requests = this.sent;
    const platform = this.platform;
    const health = this.watch?.stop();
    const samples = options.slo ? this.samples(options.slo) : [];
    const windowsOf = (metric: SloMetric) => samples.find((sample) => sample.bound.metric === metric)?.windowsMs;
    const [latencyWindows, ttftWindows, itlWindows] = [windowsOf('latency'), windowsOf('timeToFirstToken'), windowsOf('interTokenLatency')];
    return {
      name: plan.name,
      mode: plan.mode,
      ...(plan.mode === 'open' ? { rate: plan.rate, arrivals: plan.arrivals } : { concurrency: plan.concurrency }),
      plannedDurationMs: plan.durationMs,
      startedAt: startedAt.toISOString(),
      durationMs,
      requests,
      ...(this.refused > 0 ? { refusedByGenerator: this.refused } : {}),
      successes: this.histogram.count,
      errors: Object.fromEntries([...this.errors].sort()),
      errorCount: this.errorCount,
      errorRate: this.completed === 0 ? 0 : this.errorCount / this.completed,
      achievedRps: durationMs > 0 ? (this.completed * 1000) / durationMs : 0,
      ...(plan.mode === 'closed' ? { windowSuccesses: this.wholeWindowSuccesses(durationMs) } : {}),
      lateSends: this.late,
      maxLatenessMs: this.maxLatenessMs,
      generatorLimited: plan.mode === 'open' && requests > 0 && this.late / requests > GENERATOR_LIMIT_FRACTION,
      ...(end.stoppedEarly ? { stoppedEarly: end.stoppedEarly } : {}),
      ...(end.extended ? { extended: true } : {}),
      latencyMs: this.histogram.summary(),
      histogram: this.histogram.encode(),
      ...(platform && platform.cold.count > 0
        ? {
            coldStarts: {
              count: platform.cold.count,
              latencyMs: platform.cold.summary(),
              initMs: platform.init.summary(),
              warmLatencyMs: platform.warm.summary(),
            },
          }
        : {}),
      ...(platform && platform.billed.count > 0 ? { billedDurationMs: platform.billed.summary() } : {}),
      ...(this.tokens
        ? {
            tokens: {
              ...tokenResults({ ...this.tokens, outputTokensPerSecond: durationMs > 0 ? (this.tokens.outputTokens * 1000) / durationMs : 0 }),
              ...(ttftWindows ? { timeToFirstTokenWindowsMs: [...ttftWindows] } : {}),
              ...(itlWindows ? { interTokenWindowsMs: [...itlWindows] } : {}),
            },
          }
        : {}),
      ...(latencyWindows ? { sloWindowsMs: [...latencyWindows] } : {}),
      ...(health ? { health } : {}),
      ...(health && options.slo
        ? {
            validity: phaseValidity(health, {
              bounds: samples.map((sample) => observed(sample.bound, sample.histogram, this.outside)),
              refusedByGenerator: this.refused,
              maxInFlight: options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
            }),
          }
        : {}),
    };
  }
}

const EMPTY = new LatencyHistogram();

/** A bound with the percentile a phase measured for it, for {@link phaseValidity} (none measured: its errors speak for it). */
function observed(bound: SloBound, histogram: LatencyHistogram, outside: Readonly<Record<SloMetric, LatencyHistogram>>): BoundObservation {
  // Gaps between tokens are timed on arrival; a late send does not move them (a held-up event loop does).
  const left = outside[bound.metric];
  return {
    label: boundLabel(bound),
    observedMs: histogram.count > 0 ? histogram.percentileMs(bound.percentile) : 0,
    sloMs: bound.ms,
    fromSend: bound.metric !== 'interTokenLatency',
    percentile: bound.percentile,
    ...(left && left.count > 0 ? { outside: { count: left.count, atPercentile: (p: number) => left.percentileMs(p) } } : {}),
  };
}

/** What a phase's streamed successes added up to while it ran. */
interface TokenTally {
  readonly ttft: LatencyHistogram;
  readonly itl: LatencyHistogram;
  outputTokens: number;
  readonly countedBy: Set<TokenStream['tokensCountedBy']>;
}

/**
 * A phase's token results from its histograms and counts: one home for how counts made different
 * ways combine (the phase's own requests, or generators' shards merged).
 */
export function tokenResults(parts: {
  readonly ttft: LatencyHistogram;
  readonly itl: LatencyHistogram;
  readonly outputTokens: number;
  readonly outputTokensPerSecond: number;
  readonly countedBy: Iterable<TokenResults['countedBy']>;
}): TokenResults {
  const countedBy = new Set(parts.countedBy);
  return {
    streams: parts.ttft.count,
    outputTokens: parts.outputTokens,
    outputTokensPerSecond: parts.outputTokensPerSecond,
    countedBy: countedBy.size > 1 ? 'mixed' : [...countedBy][0]!,
    timeToFirstTokenMs: parts.ttft.summary(),
    timeToFirstTokenHistogram: parts.ttft.encode(),
    interTokenMs: parts.itl.summary(),
    interTokenHistogram: parts.itl.encode(),
  };
}

/** A bound of the SLO with what a finished phase measured for it (an empty histogram where it measured none). */
export function phaseSample(phase: PhaseResult, bound: SloBound): BoundSample {
  const [histogram, windowsMs] =
    bound.metric === 'latency'
      ? [phase.histogram, phase.sloWindowsMs]
      : bound.metric === 'timeToFirstToken'
        ? [phase.tokens?.timeToFirstTokenHistogram, phase.tokens?.timeToFirstTokenWindowsMs]
        : [phase.tokens?.interTokenHistogram, phase.tokens?.interTokenWindowsMs];
  return { bound, histogram: histogram ? LatencyHistogram.decode(histogram) : new LatencyHistogram(), windowsMs: windowsMs ?? [] };
}

/** Runs one phase against an invoker. */
export async function runPhase(invoker: Invoker, plan: PhasePlan, options: PhaseOptions): Promise<PhaseResult> {
  const startedAt = new Date();
  const start = performance.now();
  const windowMs = Math.max(1, plan.durationMs / PHASE_WINDOWS);
  const plannedEnd = start + plan.durationMs;
  const hardEnd = start + Math.max(plan.durationMs, options.maxDurationMs ?? plan.durationMs);
  const recorder = new PhaseRecorder(
    new GeneratorWatch(options.targetPids, { judged: options.slo !== undefined }),
    start,
    windowMs,
    Math.ceil((hardEnd - start) / windowMs) - 1,
  );
  const slo = options.slo;
  let stopReason: StopReason | undefined;
  let extending: boolean | undefined;
  let ranOn = false;
  let nextCheck = start + (options.progressEveryMs ?? 500);
  // Whether to send (or start) another request at `now`; the rules are checked about every progressEveryMs.
  const stop = (now: number): boolean => {
    if (now >= nextCheck) {
      nextCheck = now + (options.progressEveryMs ?? 500);
      options.onProgress?.({
        phase: plan.name,
        elapsedMs: now - start,
        plannedMs: plan.durationMs,
        sent: recorder.sent,
        completed: recorder.completed,
        errors: recorder.errorCount,
        p99Ms: recorder.histogram.count > 0 ? recorder.histogram.percentileMs(99) : 0,
      });
      if (slo && (stopReason === undefined || extending)) {
        const samples = recorder.samples(slo, now);
        stopReason ??= shouldStop(samples, recorder.errorCount, slo.maxErrorRate, options.stopRules);
        if (extending) extending = sloUndecided(samples);
      }
    }
    if (stopReason !== undefined || options.signal?.aborted === true || now >= hardEnd) return true;
    if (now < plannedEnd) return false;
    // Past the plan: on only while the SLO percentile is too close to call.
    extending ??= slo !== undefined && hardEnd > plannedEnd && sloUndecided(recorder.samples(slo, now));
    ranOn ||= extending;
    return !extending;
  };

  if (plan.mode === 'open') await runOpen(invoker, plan, options, recorder, start, hardEnd - start, stop);
  else await runClosed(invoker, plan, options, recorder, stop);
  return recorder.result(plan, startedAt, performance.now() - start, { stoppedEarly: stopReason, extended: ranOn }, options);
}

function runOpen(
  invoker: Invoker,
  plan: Extract<PhasePlan, { mode: 'open' }>,
  options: PhaseOptions,
  recorder: PhaseRecorder,
  start: number,
  scheduleMs: number,
  stop: (now: number) => boolean,
): Promise<void> {
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const outstanding = new Set<Promise<void>>();
  const schedule = arrivalOffsetsMs(plan.rate, scheduleMs, plan.arrivals, options.seed);
  const send = (intended: number, now: number) => {
    recorder.lateness(now - intended);
    if (outstanding.size >= maxInFlight) {
      recorder.refused++;
      return;
    }
    recorder.sent++;
    const request = invoker.invoke(options.nextPayload()).then((outcome) => {
      // From the intended time: a target that stalls delays every request scheduled behind it.
      const completedAt = performance.now();
      recorder.record(outcome, completedAt - intended, now, completedAt);
      outstanding.delete(request);
    });
    outstanding.add(request);
  };
  return new Promise<void>((resolve) => {
    let next = schedule.next();
    const finish = () => void Promise.all(outstanding).then(() => resolve());
    // Callbacks rather than awaits: this runs thousands of times a second and must not feed the GC.
    const tick = () => {
      let now = performance.now();
      while (!next.done && start + next.value <= now) {
        if (stop(now)) return finish();
        send(start + next.value, now);
        next = schedule.next();
        now = performance.now();
      }
      if (next.done) return finish();
      // Timers are only millisecond-accurate: sleep on one until about a millisecond before the
      // send, then poll with setImmediate, which keeps I/O (responses) flowing meanwhile.
      const wait = start + next.value - now;
      if (wait > 1.5) setTimeout(tick, wait - 1);
      else setImmediate(tick);
    };
    tick();
  });
}

async function runClosed(
  invoker: Invoker,
  plan: Extract<PhasePlan, { mode: 'closed' }>,
  options: PhaseOptions,
  recorder: PhaseRecorder,
  stop: (now: number) => boolean,
): Promise<void> {
  const worker = async () => {
    for (let now = performance.now(); !stop(now); now = performance.now()) {
      recorder.sent++;
      const outcome = await invoker.invoke(options.nextPayload());
      const completedAt = performance.now();
      recorder.record(outcome, completedAt - now, now, completedAt);
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
}
