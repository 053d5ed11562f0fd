import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename } from 'node:path';

import { allowedCores } from '../util/core-list';

/** A process that used CPU beside a measurement: who to name when the machine was too busy. */
export interface BusyProcess {
  readonly pid: number;
  /** Its command line (the program by its name, not its path), shortened to {@link COMMAND_CHARS} characters. */
  readonly command: string;
  /** CPU it used while watched, in cores (1 = one core busy all the time). */
  readonly cores: number;
  /** The cores it may run on, where fewer than the machine's. */
  readonly allowedCores?: readonly number[];
}

/** Processes using less than this share of a core are not worth naming. */
const MIN_CORES = 0.05;
/** At most this many are named. */
const MAX_NAMED = 3;
const COMMAND_CHARS = 80;

/**
 * Every process's CPU time at one moment (Linux's /proc; empty elsewhere), to tell later which of
 * them were busy meanwhile. About a millisecond per hundred processes.
 */
export class ProcessCpu {
  private constructor(
    private readonly cpuMs: ReadonlyMap<number, number>,
    private readonly at: number,
  ) {}

  static now(): ProcessCpu {
    const cpuMs = new Map<number, number>();
    if (process.platform === 'linux') {
      let pids: string[] = [];
      try {
        pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
      } catch {
        // No /proc: nobody is named.
      }
      for (const pid of pids) {
        const ms = processCpuMs(Number(pid));
        if (ms !== undefined) cpuMs.set(Number(pid), ms);
      }
    }
    return new ProcessCpu(cpuMs, performance.now());
  }

  /**
   * The processes busy since `earlier` (from {@link MIN_CORES} of a core), leaving out `exclude`
   * (the generator, the target) and those that may not run on `cores` (when given), busiest first.
   */
  busySince(earlier: ProcessCpu, exclude: readonly number[], cores?: readonly number[]): BusyProcess[] {
    const wallMs = Math.max(1, this.at - earlier.at);
    const busy: BusyProcess[] = [];
    for (const [pid, ms] of this.cpuMs) {
      if (exclude.includes(pid)) continue;
      // A process started meanwhile counts from zero.
      const used = (ms - (earlier.cpuMs.get(pid) ?? 0)) / wallMs;
      if (used < MIN_CORES) continue;
      const allowed = allowedCores(pid);
      if (cores && allowed && !allowed.some((core) => cores.includes(core))) continue;
      const narrowed = allowed && allowed.length < cpus().length ? { allowedCores: allowed } : {};
      busy.push({ pid, command: commandLine(pid), cores: Math.round(used * 100) / 100, ...narrowed });
    }
    return busy.sort((a, b) => b.cores - a.cores);
  }
}

/** Each process once, with the most it was seen using: the few busiest, busiest first; undefined for none. */
export function busiestOf(processes: readonly BusyProcess[]): BusyProcess[] | undefined {
  const byPid = new Map<number, BusyProcess>();
  for (const p of processes) if ((byPid.get(p.pid)?.cores ?? -1) < p.cores) byPid.set(p.pid, p);
  return byPid.size > 0 ? [...byPid.values()].sort((a, b) => b.cores - a.cores).slice(0, MAX_NAMED) : undefined;
}

/** How reasons and progress name processes: `pid 4242 (node -e for(;;){}) 0.86 cores`. */
export function describeBusy(processes: readonly BusyProcess[]): string {
  return processes
    .map(
      (p) =>
        `pid ${p.pid} (${p.command}) ${p.cores.toFixed(2)} core${p.cores === 1 ? '' : 's'}${p.allowedCores ? ` on core ${p.allowedCores.join(',')}` : ''}`,
    )
    .join(', ');
}

/** A process's CPU time so far (user and system, its threads' together), in ms; undefined when it is gone. */
export function processCpuMs(pid: number): number | undefined {
  try {
    // Fields after the command (which may hold spaces, so split after its closing parenthesis): utime is the 12th, stime the 13th, in clock ticks.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * How long the target's threads have waited, runnable, for a core (Linux's schedstat): the only
 * way other processes delay a target's requests. Read at every tick of a phase (see LoopTicks), so
 * each thread's file stays open and is read again from its start; the thread list is read again
 * now and then, for threads started meanwhile.
 */
export class RunQueueWait {
  private readonly threads = new Map<string, { fd: number; lastNs: number }>();
  private totalNs = 0;
  private reads = 0;
  private readonly buffer = Buffer.alloc(128);

  private constructor(
    private readonly pids: readonly number[],
    private readonly mainThreads: boolean,
  ) {
    this.refresh();
  }

  /**
   * A reader for these processes (with `mainThreads`, their main threads only: the load
   * generator's event loop); undefined where schedstat cannot be read (not Linux, or none given).
   */
  static of(pids: readonly number[], { mainThreads = false } = {}): RunQueueWait | undefined {
    if (pids.length === 0 || process.platform !== 'linux') return undefined;
    const wait = new RunQueueWait(pids, mainThreads);
    if (wait.threads.size > 0) return wait;
    wait.close();
    return undefined;
  }

  /** The wait so far since this reader started, in ms: it only grows (a thread that ends keeps what it added). */
  waitedMs(): number {
    if (++this.reads % REFRESH_EVERY === 0) this.refresh();
    for (const thread of this.threads.values()) {
      const ns = this.readNs(thread.fd);
      if (ns === undefined) continue;
      this.totalNs += Math.max(0, ns - thread.lastNs);
      thread.lastNs = ns;
    }
    return this.totalNs / 1e6;
  }

  close(): void {
    for (const { fd } of this.threads.values()) closeQuietly(fd);
    this.threads.clear();
  }

  private refresh(): void {
    for (const pid of this.pids) {
      let tids: string[];
      try {
        tids = this.mainThreads ? [String(pid)] : readdirSync(`/proc/${pid}/task`);
      } catch {
        continue;
      }
      for (const tid of tids) {
        const key = `${pid}/${tid}`;
        if (this.threads.has(key)) continue;
        try {
          const fd = openSync(`/proc/${pid}/task/${tid}/schedstat`, 'r');
          // A thread found now counts from now: what it waited before was before the reader.
          this.threads.set(key, { fd, lastNs: this.readNs(fd) ?? 0 });
        } catch {
          // Gone already.
        }
      }
    }
  }

  /** "time on a core, time waiting for one (ns), timeslices" */
  private readNs(fd: number): number | undefined {
    try {
      const n = readSync(fd, this.buffer, 0, this.buffer.length, 0);
      const ns = Number(this.buffer.toString('latin1', 0, n).split(' ')[1]);
      return Number.isFinite(ns) ? ns : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Every this many reads, look for threads started meanwhile (about every 100 ms at a read a millisecond). */
const REFRESH_EVERY = 100;

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Closed already.
  }
}

function commandLine(pid: number): string {
  let command: string;
  try {
    // The program by its name, not its path (a Node fetched into a cache has a long one): the arguments say more.
    const [program, ...args] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    command = program === undefined ? '' : [basename(program), ...args].join(' ');
    if (!command) command = `[${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    command = '?';
  }
  // Control characters would garble a terminal; the name is only for a person to recognise.
  const printable = command.replace(/[\p{Cc}]/gu, ' ');
  return printable.length > COMMAND_CHARS ? `${printable.slice(0, COMMAND_CHARS - 1)}…` : printable;
}

/** Linux's USER_HZ: 100 on every architecture Node runs on. */
const CLOCK_TICKS = 100;
