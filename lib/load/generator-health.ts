import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { allowedCores } from '../util/core-list';
import { busiestOf, type BusyProcess, describeBusy, ProcessCpu, processCpuMs, RunQueueWait } from './busy-processes';
import { LatencyHistogram } from './histogram';
import { LoopTicks } from './loop-ticks';

/**
 * How well the load generator could do its job during a phase: a late send or a stalled event
 * loop adds to every latency it times, and other processes on the machine slow a local target.
 * A phase measured by a struggling generator says nothing reliable about a target that fails it.
 */
export interface GeneratorHealth {
  /** How late sends left, at the 99th percentile (open-loop phases). */
  readonly latenessP99Ms: number;
  /** How late the generator's event loop ran its timers, at the 99th percentile. */
  readonly eventLoopDelayP99Ms: number;
  /** CPU the generator's process used, in cores (1 = one core busy all the time). */
  readonly generatorCores: number;
  /**
   * CPU that processes other than the generator and the target used on the cores the target runs
   * on (all of the machine's when it is not pinned), in cores; absent where it cannot be told (not
   * Linux, or no target process to tell apart).
   */
  readonly otherProcessesCores?: number;
  /** The cores the target was pinned to, when it was (a local server beside the generator). */
  readonly targetCores?: readonly number[];
  /** The machine's cores. */
  readonly machineCores: number;
  /**
   * How long the target's threads waited, runnable, for a core while the phase ran (Linux's
   * schedstat), in ms, all threads together: how other processes held it back. Present where it
   * was read, and then taken away from each request's time outside the generator too.
   */
  readonly targetRunQueueWaitMs?: number;
  /**
   * The share of the phase the generator's event loop spent waiting, runnable, for a core (Linux's
   * schedstat): other processes on its core, which hold up sends and reads alike.
   */
  readonly generatorWaitShare?: number;
  /**
   * The processes (other than the generator and the target) that used the most CPU on the
   * target's or the generator's cores while the phase ran, busiest first (Linux).
   */
  readonly busyProcesses?: readonly BusyProcess[];
}

/** Whether a phase's failure can be charged to the target, and if not, why. */
export interface PhaseValidity {
  readonly valid: boolean;
  /** Why it is inconclusive: what the generator or the machine did. */
  readonly reason?: string;
  /** Why a miss measured on a busy machine is still the target's: what survived taking the noise away. */
  readonly note?: string;
}

export interface ValidityLimits {
  /** Generator delay below this is timer resolution, never a reason to doubt a phase. @default 1 */
  readonly minDelayMs?: number;
  /**
   * The generator's event loop waiting for a core more than this share of a phase makes its miss
   * inconclusive, unless it survives taking each request's share of the delay away. @default 0.02
   */
  readonly generatorWaitShare?: number;
  /** Other processes using more than this many cores make a local, unpinned target's failing phase inconclusive. @default 0.5 */
  readonly otherProcessesCores?: number;
  /**
   * Other processes using more than this share of a pinned target's cores make its failing phase
   * inconclusive: one process that runs now and then on a server's only core delays every request
   * behind it, which is just the tail the SLO is about. @default 0.1
   */
  readonly otherProcessesShareOfTargetCores?: number;
}

/**
 * Watches the generator while a phase runs: its send lateness (fed by the phase), its event loop's
 * delay, its CPU, and (on Linux, given the target's process ids) the CPU of everything else.
 */
export class GeneratorWatch {
  private readonly lateness = new LatencyHistogram();
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });
  private readonly startCpu = process.cpuUsage();
  private readonly startWall = performance.now();
  private readonly startTargets: number | undefined;
  /** The target's cores when it is pinned to some of the machine's; undefined when it may run on any. */
  private readonly targetCores: readonly number[] | undefined;
  private readonly startBusy: number;
  private readonly startProcesses = ProcessCpu.now();
  private readonly wait: RunQueueWait | undefined;
  private readonly generatorWait = RunQueueWait.of([process.pid], { mainThreads: true });
  /**
   * When the event loop was free, for each request's time outside the generator (see {@link LoopTicks});
   * only where the phase is judged against an SLO, which is all they serve.
   */
  readonly ticks: LoopTicks | undefined;

  constructor(
    private readonly targetPids: readonly number[] = [],
    { judged = true }: { readonly judged?: boolean } = {},
  ) {
    this.startTargets = sumOf(targetPids, processCpuMs);
    this.targetCores = pinnedCores(targetPids);
    this.startBusy = busyMs(this.targetCores);
    const wait = (this.wait = RunQueueWait.of(targetPids));
    this.ticks = judged ? new LoopTicks(wait ? () => wait.waitedMs() : undefined).start() : undefined;
    this.loop.enable();
  }

  /** A send that left `ms` after it was due. */
  late(ms: number): void {
    this.lateness.recordMs(Math.max(ms, 0.001));
  }

  stop(): GeneratorHealth {
    this.loop.disable();
    this.ticks?.stop();
    const wallMs = Math.max(1, performance.now() - this.startWall);
    const cpu = process.cpuUsage(this.startCpu);
    const generatorMs = (cpu.user + cpu.system) / 1000;
    const coresBusyMs = busyMs(this.targetCores) - this.startBusy;
    const endTargets = sumOf(this.targetPids, processCpuMs);
    const targetsMs = endTargets !== undefined && this.startTargets !== undefined ? endTargets - this.startTargets : undefined;
    // On a pinned target's cores the generator never runs; on all of them it does.
    const othersMs = targetsMs !== undefined ? coresBusyMs - targetsMs - (this.targetCores ? 0 : generatorMs) : undefined;
    const others = othersMs !== undefined ? Math.max(0, othersMs / wallMs) : undefined;
    const waitMs = this.wait?.waitedMs();
    this.wait?.close();
    const generatorWaitMs = this.generatorWait?.waitedMs();
    this.generatorWait?.close();
    const named = busiestOf(ProcessCpu.now().busySince(this.startProcesses, [process.pid, ...this.targetPids], coresToWatch(this.targetCores)));
    return {
      latenessP99Ms: round(this.lateness.count > 0 ? this.lateness.percentileMs(99) : 0),
      eventLoopDelayP99Ms: round(this.loop.count > 0 ? Math.max(0, this.loop.percentile(99) / 1e6 - 10) : 0),
      generatorCores: round(generatorMs / wallMs),
      ...(others !== undefined ? { otherProcessesCores: round(others) } : {}),
      ...(others !== undefined && this.targetCores ? { targetCores: this.targetCores } : {}),
      machineCores: cpus().length,
      ...(waitMs !== undefined ? { targetRunQueueWaitMs: round(waitMs) } : {}),
      ...(generatorWaitMs !== undefined ? { generatorWaitShare: round(generatorWaitMs / wallMs) } : {}),
      ...(named ? { busyProcesses: named } : {}),
    };
  }
}

/** The sum of `f` over the pids; undefined when there are none or one cannot be read. */
function sumOf(pids: readonly number[], f: (pid: number) => number | undefined): number | undefined {
  if (pids.length === 0 || process.platform !== 'linux') return undefined;
  let total = 0;
  for (const pid of pids) {
    const value = f(pid);
    if (value === undefined) return undefined;
    total += value;
  }
  return total;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** One latency bound of the SLO with what a phase measured for it. */
export interface BoundObservation {
  /** How reasons name it: `p99`, `p95 time to first token`. */
  readonly label: string;
  readonly observedMs: number;
  readonly sloMs: number;
  /**
   * Timed from when the request was due, so a late send adds to it (end-to-end latency, time to
   * first token); gaps between tokens are not, and only a held-up event loop moves them.
   * @default true
   */
  readonly fromSend?: boolean;
  /** The bound's percentile (0–100), for {@link outside}. */
  readonly percentile?: number;
  /**
   * The same metric less each request's own share of the generator's delay: a lower bound of the
   * time the target had it (see {@link LoopTicks}), its value at any percentile.
   */
  readonly outside?: { readonly count: number; readonly atPercentile: (percentile: number) => number };
}

/**
 * Whether a phase that missed the SLO can be charged to the target. Latency is timed from when a
 * request was due, so a late send and a held-up event loop add to it: when the generator's delay
 * (send lateness plus event-loop delay, both at p99; for gaps between tokens, the event loop's
 * alone) is enough to explain every bound missed, the phase says nothing reliable about the
 * target. A local target also shares the machine: other processes busy beside it make its miss
 * inconclusive. Yet a miss that survives taking that noise away, request by request, is the
 * target's all the same (see {@link targetsOwnMiss}): it fails, however busy the machine was. A phase that met the SLO is valid whatever
 * happened, since noise only ever makes a target look slower, unless the generator refused sends:
 * their latencies, the longest, are missing.
 */
export function phaseValidity(
  health: GeneratorHealth,
  measured: {
    readonly bounds: readonly BoundObservation[];
    readonly refusedByGenerator?: number;
    readonly maxInFlight?: number;
  },
  limits: ValidityLimits = {},
): PhaseValidity {
  const missed = measured.bounds.filter((b) => b.observedMs > b.sloMs);
  if (missed.length === 0) {
    // The sends the generator refused would have been the slowest: what it could time is no pass.
    if (!measured.refusedByGenerator) return { valid: true };
    return {
      valid: false,
      reason: `the load generator refused ${measured.refusedByGenerator} sends because ${measured.maxInFlight ?? 'its limit of'} requests were already in flight; the latencies it could time leave out the slowest`,
    };
  }
  const problems: string[] = [];
  // The phase's p99 delays, not each request's: the requests in the tail are the ones a stall hit,
  // on their send or their read alike (each request's own share is what rescues a miss, below).
  const delayOf = (b: BoundObservation) => (b.fromSend === false ? 0 : health.latenessP99Ms) + health.eventLoopDelayP99Ms;
  const explained = (b: BoundObservation) => delayOf(b) > (limits.minDelayMs ?? 1) && b.observedMs - delayOf(b) <= b.sloMs;
  if (missed.every(explained)) {
    const misses = missed.map((b) => `${b.label} ${b.observedMs.toFixed(1)} ms > ${b.sloMs} ms`).join(', ');
    problems.push(
      `the load generator sent ${health.latenessP99Ms.toFixed(1)} ms late and its event loop was held up ${health.eventLoopDelayP99Ms.toFixed(1)} ms (p99), ` +
        `enough to explain missing the SLO (${misses})`,
    );
  }
  const waited = health.generatorWaitShare;
  if (waited !== undefined && waited > (limits.generatorWaitShare ?? 0.02))
    problems.push(`the load generator's event loop waited for a core ${Math.round(waited * 100)}% of the time`);
  const others = health.otherProcessesCores;
  const pinned = health.targetCores;
  const crowdedTarget = others !== undefined && crowded(others, pinned, limits);
  if (crowdedTarget && pinned)
    problems.push(
      `other processes used ${Math.round((100 * others) / pinned.length)}% of the target's core${pinned.length > 1 ? 's' : ''} (${pinned.join(',')}) beside it`,
    );
  else if (crowdedTarget) problems.push(`other processes kept ${others.toFixed(1)} of ${health.machineCores} cores busy beside it`);
  // Whoever it was, by name: what the user can stop.
  const busy = health.busyProcesses?.length ? describeBusy(health.busyProcesses) : undefined;
  if (busy && problems.length > 0) problems.push(`busy beside it: ${busy}`);
  if (problems.length === 0) return { valid: true };
  const note = missed.map((b) => targetsOwnMiss(b, health, crowdedTarget)).find((n) => n !== undefined);
  if (note) return { valid: true, note };
  return { valid: false, reason: problems.join('; ') };
}

/**
 * Whether a bound would be missed even with the machine's noise taken away, and what shows it:
 * each request's time outside the generator, less (for a local target) its threads' wait for a
 * core meanwhile, is a lower bound of the target's own time, as each gap between tokens less the
 * generator's delay in reading the second is of the target's gap (see LoopTicks). A crowded local
 * target whose wait could not be taken away is never charged.
 */
function targetsOwnMiss(bound: BoundObservation, health: GeneratorHealth, crowded: boolean): string | undefined {
  const { outside, percentile } = bound;
  if (!outside || outside.count === 0 || percentile === undefined) return undefined;
  // Gaps between tokens are bounded for the generator's delay only (LoopTicks.gapMs), not the target's wait.
  const waitRead = health.targetRunQueueWaitMs !== undefined && bound.fromSend !== false;
  if (crowded && !waitRead) return undefined;
  const left = outside.atPercentile(percentile);
  if (left <= bound.sloMs) return undefined;
  const less = waitRead ? "the load generator's own delay and the target's wait for a core" : "the load generator's own delay";
  return `even less ${less}, request by request, ${bound.label} was ${left.toFixed(1)} ms > ${bound.sloMs} ms: the target's own miss`;
}

/**
 * Whether other processes' CPU (in cores) crowds a target: a share of its cores when it is pinned,
 * a number of the machine's cores when it may run anywhere (see {@link ValidityLimits}).
 */
export function crowded(othersCores: number, targetCores: readonly number[] | undefined, limits: ValidityLimits = {}): boolean {
  return targetCores
    ? othersCores > (limits.otherProcessesShareOfTargetCores ?? 0.1) * targetCores.length
    : othersCores > (limits.otherProcessesCores ?? 0.5);
}

/** Busy CPU time so far of these cores (every core when undefined), in ms. */
function busyMs(cores: readonly number[] | undefined): number {
  return cpus()
    .filter((_, i) => !cores || cores.includes(i))
    .reduce((sum, cpu) => sum + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq, 0);
}

/** Whose CPU counts: the cores the target or the generator run on; every core (undefined) when either may run anywhere. */
export function coresToWatch(targetCores: readonly number[] | undefined): readonly number[] | undefined {
  const generatorCores = pinnedCores([process.pid]);
  return targetCores && generatorCores ? [...new Set([...targetCores, ...generatorCores])].sort((a, b) => a - b) : undefined;
}

/** The cores these processes may run on, when that is fewer than the machine's (Linux's /proc); undefined otherwise. */
export function pinnedCores(pids: readonly number[]): readonly number[] | undefined {
  if (pids.length === 0 || process.platform !== 'linux') return undefined;
  const cores = new Set<number>();
  for (const pid of pids) {
    const allowed = allowedCores(pid);
    if (!allowed) return undefined;
    for (const core of allowed) cores.add(core);
  }
  return cores.size < cpus().length ? [...cores].sort((a, b) => a - b) : undefined;
}
