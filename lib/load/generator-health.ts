import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { allowedCores } from '../util/core-list';
import { LatencyHistogram } from './histogram';

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
}

/** Whether a phase's failure can be charged to the target, and if not, why. */
export interface PhaseValidity {
  readonly valid: boolean;
  /** Why it is inconclusive: what the generator or the machine did. */
  readonly reason?: string;
}

export interface ValidityLimits {
  /** Generator delay below this is timer resolution, never a reason to doubt a phase. @default 1 */
  readonly minDelayMs?: number;
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

  constructor(private readonly targetPids: readonly number[] = []) {
    this.startTargets = processesCpuMs(targetPids);
    this.targetCores = pinnedCores(targetPids);
    this.startBusy = busyMs(this.targetCores);
    this.loop.enable();
  }

  /** A send that left `ms` after it was due. */
  late(ms: number): void {
    this.lateness.recordMs(Math.max(ms, 0.001));
  }

  stop(): GeneratorHealth {
    this.loop.disable();
    const wallMs = Math.max(1, performance.now() - this.startWall);
    const cpu = process.cpuUsage(this.startCpu);
    const generatorMs = (cpu.user + cpu.system) / 1000;
    const busy = busyMs(this.targetCores) - this.startBusy;
    const endTargets = processesCpuMs(this.targetPids);
    const targetsMs = endTargets !== undefined && this.startTargets !== undefined ? endTargets - this.startTargets : undefined;
    // On a pinned target's cores the generator never runs; on all of them it does.
    const othersMs = targetsMs !== undefined ? busy - targetsMs - (this.targetCores ? 0 : generatorMs) : undefined;
    const others = othersMs !== undefined ? Math.max(0, othersMs / wallMs) : undefined;
    return {
      latenessP99Ms: round(this.lateness.count > 0 ? this.lateness.percentileMs(99) : 0),
      eventLoopDelayP99Ms: round(this.loop.count > 0 ? Math.max(0, this.loop.percentile(99) / 1e6 - 10) : 0),
      generatorCores: round(generatorMs / wallMs),
      ...(others !== undefined ? { otherProcessesCores: round(others) } : {}),
      ...(others !== undefined && this.targetCores ? { targetCores: this.targetCores } : {}),
      machineCores: cpus().length,
    };
  }
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
}

/**
 * Whether a phase that missed the SLO can be charged to the target. Latency is timed from when a
 * request was due, so a late send and a held-up event loop add to it: when the generator's delay
 * (send lateness plus event-loop delay, both at p99; for gaps between tokens, the event loop's
 * alone) is enough to explain every bound missed, the phase says nothing reliable about the
 * target. A local target also shares the machine: other processes busy beside it make its miss
 * inconclusive. A phase that met the SLO is valid whatever happened, since noise only ever makes
 * a target look slower, unless the generator refused sends: their latencies, the longest, are missing.
 */
export function phaseValidity(
  health: GeneratorHealth,
  measured: { readonly bounds: readonly BoundObservation[]; readonly refusedByGenerator?: number; readonly maxInFlight?: number },
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
  const delayOf = (b: BoundObservation) => (b.fromSend === false ? 0 : health.latenessP99Ms) + health.eventLoopDelayP99Ms;
  const explained = (b: BoundObservation) => delayOf(b) > (limits.minDelayMs ?? 1) && b.observedMs - delayOf(b) <= b.sloMs;
  if (missed.every(explained)) {
    const misses = missed.map((b) => `${b.label} ${b.observedMs.toFixed(1)} ms > ${b.sloMs} ms`).join(', ');
    problems.push(
      `the load generator sent ${health.latenessP99Ms.toFixed(1)} ms late and its event loop was held up ${health.eventLoopDelayP99Ms.toFixed(1)} ms (p99), ` +
        `enough to explain missing the SLO (${misses})`,
    );
  }
  const others = health.otherProcessesCores;
  const pinned = health.targetCores;
  if (others !== undefined && pinned && others > (limits.otherProcessesShareOfTargetCores ?? 0.1) * pinned.length)
    problems.push(
      `other processes used ${Math.round((100 * others) / pinned.length)}% of the target's core${pinned.length > 1 ? 's' : ''} (${pinned.join(',')}) beside it`,
    );
  else if (others !== undefined && !pinned && others > (limits.otherProcessesCores ?? 0.5))
    problems.push(`other processes kept ${others.toFixed(1)} of ${health.machineCores} cores busy beside it`);
  if (problems.length === 0) return { valid: true };
  return { valid: false, reason: problems.join('; ') };
}

/** Busy CPU time so far of these cores (every core when undefined), in ms. */
function busyMs(cores: readonly number[] | undefined): number {
  return cpus()
    .filter((_, i) => !cores || cores.includes(i))
    .reduce((sum, cpu) => sum + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq, 0);
}

/** The cores these processes may run on, when that is fewer than the machine's (Linux's /proc); undefined otherwise. */
function pinnedCores(pids: readonly number[]): readonly number[] | undefined {
  if (pids.length === 0 || process.platform !== 'linux') return undefined;
  const cores = new Set<number>();
  for (const pid of pids) {
    const allowed = allowedCores(pid);
    if (!allowed) return undefined;
    for (const core of allowed) cores.add(core);
  }
  return cores.size < cpus().length ? [...cores].sort((a, b) => a - b) : undefined;
}

/** CPU time used by these processes so far, in ms, from /proc (Linux); undefined elsewhere or when one is gone. */
function processesCpuMs(pids: readonly number[]): number | undefined {
  if (pids.length === 0 || process.platform !== 'linux') return undefined;
  let total = 0;
  for (const pid of pids) {
    try {
      // Fields after the command (which may hold spaces, so split after its closing parenthesis): utime is the 12th, stime the 13th, in clock ticks.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    } catch {
      return undefined;
    }
  }
  return total;
}

/** Linux's USER_HZ: 100 on every architecture Node runs on. */
const CLOCK_TICKS = 100;
