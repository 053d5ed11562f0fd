import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

import { allowedCores } from '../util/core-list';

/**
 * Where local model servers and the load generator run. A server on the generator's cores
 * measures the generator as much as itself (each steals the other's CPU), so with two cores or
 * more the generator keeps the first core and servers get the rest, pinned with `taskset` (Linux).
 */
export interface CorePlacement {
  /** Cores the generator (this process) runs on. */
  readonly generator: readonly number[];
  /** Cores a local model server runs on. */
  readonly servers: readonly number[];
  /** Whether processes are pinned to these cores; when not, why. */
  readonly pinned: boolean;
  readonly why?: string;
}

/**
 * `shared`: no pinning, every core for everyone (tests, where a pinned worker would slow the rest);
 * `pinned`: disjoint cores where the machine has them. Read from MODELSWEEP_LOCAL_CORES.
 * @default 'pinned'
 */
export type CorePolicy = 'pinned' | 'shared';

export function corePolicyFromEnv(env: NodeJS.ProcessEnv = process.env): CorePolicy {
  return env.MODELSWEEP_LOCAL_CORES === 'shared' ? 'shared' : 'pinned';
}

/**
 * The placement on these cores, or on a machine of that many (default: the cores this process
 * could use when it first asked, so that a generator already pinned to its own core still sees
 * the machine).
 */
export function corePlacement(policy: CorePolicy, cores: number | readonly number[] = usableCores(), canPin: boolean = hasTaskset()): CorePlacement {
  const all = typeof cores === 'number' ? Array.from({ length: cores }, (_, i) => i) : [...cores];
  if (policy === 'shared') return { generator: all, servers: all, pinned: false, why: 'MODELSWEEP_LOCAL_CORES=shared' };
  if (all.length < 2)
    return { generator: all, servers: all, pinned: false, why: 'this machine has one core: the model server and the load generator share it' };
  const placement = { generator: all.slice(0, 1), servers: all.slice(1) };
  if (!canPin) return { ...placement, pinned: false, why: 'taskset (util-linux) is not available, so the cores are not pinned' };
  return { ...placement, pinned: true };
}

/** Why a local candidate cannot be measured apart from the generator with these cores, if it cannot. */
export function threadsProblem(threads: number, placement: CorePlacement): string | undefined {
  if (!placement.pinned || threads <= placement.servers.length) return undefined;
  const cores = placement.servers.length + placement.generator.length;
  return (
    `it asks for ${threads} inference threads, but this machine has ${cores} cores and the load generator keeps ` +
    `${placement.generator.length} to itself: at most ${placement.servers.length} can be measured apart from the generator ` +
    '(run it on a larger machine, or set MODELSWEEP_LOCAL_CORES=shared to measure it sharing cores with the generator)'
  );
}

/** Threads for a server that asked for `threads` (0: one per core it is given). */
export const serverThreads = (threads: number, placement: CorePlacement): number => (threads === 0 ? placement.servers.length : threads);

/** The command that starts `command` on the placement's server cores (unchanged when not pinned). */
export function onServerCores(placement: CorePlacement, command: string, args: readonly string[]): { command: string; args: string[] } {
  if (!placement.pinned) return { command, args: [...args] };
  return { command: 'taskset', args: ['-c', placement.servers.join(','), command, ...args] };
}

/**
 * Pins this process (the generator) and the processes it started (tsx's compiler service, for
 * one: it compiles on first use, which would otherwise land on a server's core) to the generator's
 * cores while local servers run, except the servers themselves; returns what undoes it for this
 * process. Best effort: a failure leaves a process where it was.
 */
export function pinGenerator(placement: CorePlacement, exceptPids: readonly number[] = []): () => void {
  if (!placement.pinned) return () => {};
  const cores = placement.generator.join(',');
  try {
    const before = execFileSync('taskset', ['-a', '-p', '-c', String(process.pid)], { encoding: 'utf8' })
      .split(':')
      .pop()!
      .trim();
    execFileSync('taskset', ['-a', '-p', '-c', cores, String(process.pid)], { stdio: 'ignore' });
    for (const pid of descendantPids(process.pid, new Set(exceptPids))) {
      try {
        execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
      } catch {
        // it exited meanwhile
      }
    }
    return () => {
      try {
        execFileSync('taskset', ['-a', '-p', '-c', before, String(process.pid)], { stdio: 'ignore' });
      } catch {
        // the process keeps the generator's cores: harmless, only slower
      }
    };
  } catch {
    return () => {};
  }
}

/** Every process below `pid` (Linux's /proc), skipping `except` and what is below them. */
export function descendantPids(pid: number, except: ReadonlySet<number> = new Set()): number[] {
  const found: number[] = [];
  const visit = (parent: number) => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      return;
    }
    for (const task of tasks) {
      let children: string;
      try {
        children = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.split(' ').filter(Boolean).map(Number)) {
        if (except.has(child) || found.includes(child)) continue;
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

let firstUsableCores: readonly number[] | undefined;
/** The cores this process could run on the first time it asked (Linux: its affinity; elsewhere 0 to n-1). */
function usableCores(): readonly number[] {
  firstUsableCores ??=
    (process.platform === 'linux' ? allowedCores('self') : undefined) ?? Array.from({ length: availableParallelism() }, (_, i) => i);
  return firstUsableCores;
}

function hasTaskset(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
