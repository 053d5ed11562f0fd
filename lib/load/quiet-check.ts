import { SetupError } from '../errors';
import { busiestOf, type BusyProcess, ProcessCpu } from './busy-processes';
import { coresToWatch, crowded, pinnedCores } from './generator-health';

export interface QuietCheckOptions {
  /** The target's processes on this machine: theirs is not other processes' load. */
  readonly targetPids: readonly number[];
  /** Processes not waited for (they outlasted an earlier wait): measured beside, and named by the phase. */
  readonly ignorePids?: readonly number[];
  /** How long to wait, at most, for the others to quiet down. */
  readonly maxWaitMs: number;
  /** Told, before each wait, who is waited for and for how long at most. */
  readonly onWait?: (busy: readonly BusyProcess[], leftMs: number) => void;
  readonly signal?: AbortSignal;
}

/**
 * Before a local phase: waits, a bounded time, until no other process keeps the target's or the
 * generator's cores busy (the phase's own validity limits say what busy is), so that a transient
 * job does not decide a measurement. Resolves to the processes still busy: none when it is quiet,
 * or when the machine cannot tell (not Linux); the ones to name when the wait ran out.
 */
export async function waitForQuiet(options: QuietCheckOptions): Promise<readonly BusyProcess[]> {
  if (process.platform !== 'linux') return [];
  const targetCores = pinnedCores(options.targetPids);
  const watched = coresToWatch(targetCores);
  const started = performance.now();
  for (let first = true; ; first = false) {
    const before = ProcessCpu.now();
    await new Promise((resolve) => setTimeout(resolve, LOOK_MS));
    const busy = ProcessCpu.now().busySince(before, [process.pid, ...options.targetPids, ...(options.ignorePids ?? [])], watched);
    const cores = busy.reduce((sum, p) => sum + p.cores, 0);
    if (!crowded(cores, targetCores)) return [];
    const named = busiestOf(busy)!;
    const leftMs = options.maxWaitMs - (performance.now() - started);
    if (leftMs <= 0 || options.signal?.aborted) return named;
    if (first) options.onWait?.(named, leftMs);
  }
}

/** Each look at the machine lasts this long: long enough for a busy process's CPU time to show. */
const LOOK_MS = 500;

/** Before a local phase, wait at most this long for quiet, unless MODELSWEEP_QUIET_WAIT says otherwise. */
export const DEFAULT_QUIET_WAIT_MS = 30_000;

/**
 * The longest one wait for quiet, in ms: MODELSWEEP_QUIET_WAIT in seconds (0: never wait, as on a
 * machine known to be shared), else {@link DEFAULT_QUIET_WAIT_MS}. A value that is not a
 * non-negative number is refused, naming the variable.
 */
export function quietWaitFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MODELSWEEP_QUIET_WAIT;
  if (raw === undefined || raw === '') return DEFAULT_QUIET_WAIT_MS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600)
    throw new SetupError(`MODELSWEEP_QUIET_WAIT must be a number of seconds from 0 to 3600, not "${raw}"`);
  return seconds * 1000;
}
