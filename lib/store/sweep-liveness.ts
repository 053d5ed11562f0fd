import { hostname } from 'node:os';

/** The process that runs a local sweep. */
export interface SweepOwner {
  readonly pid: number;
  readonly host: string;
}

/** What of a sweep's record tells whether its process is still there. */
interface Watched {
  readonly status: string;
  readonly updatedAt: string;
  readonly owner?: SweepOwner;
  readonly heartbeatAt?: string;
  readonly reason?: string;
}

/** How often a local sweep's process says it is still there. */
export const HEARTBEAT_MS = 10_000;
/** A running sweep silent for this long is gone, wherever its process ran (six heartbeats missed). */
export const SILENT_MS = 60_000;

/** The process running a sweep on this machine. */
export const thisProcess = (): SweepOwner => ({ pid: process.pid, host: hostname() });

/**
 * A sweep as it is now: one still marked running whose process is gone (killed, crashed, out of
 * memory: nothing was left to mark it) is `abandoned`, with what it measured kept. Only sweeps run
 * by a local process have an owner; a cloud sweep's status is its state machine's.
 */
export function asSeenNow<T extends Watched>(record: T, now: number = Date.now(), isAlive: (pid: number) => boolean = processIsAlive): T {
  if (record.status !== 'running' || !record.owner) return record;
  const { pid, host } = record.owner;
  // On this machine its pid tells at once; anywhere, a silence does (a pid reused here, or another host).
  const gone = ownerIsGone(record.owner, isAlive);
  const silentMs = now - Date.parse(record.heartbeatAt ?? record.updatedAt);
  if (!gone && silentMs <= SILENT_MS) return record;
  const why = gone ? `its process (pid ${pid}) is gone` : `its process (pid ${pid} on ${host}) has been silent for ${Math.round(silentMs / 1000)} s`;
  return { ...record, status: 'abandoned', reason: `${why}: it was killed or crashed before it finished; what it measured is kept` };
}

/** Whether the owner's process is known to be gone: on this machine its pid tells; on another it cannot be told. */
export function ownerIsGone(owner: SweepOwner, isAlive: (pid: number) => boolean = processIsAlive): boolean {
  return owner.host === hostname() && !isAlive(owner.pid);
}

/** Whether a process with this pid exists (one this user may not signal exists too). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
