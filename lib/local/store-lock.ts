import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { ModelsweepError } from '../errors';
import { processIsAlive } from '../store/sweep-liveness';

/** Who holds a local results store. */
interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly since: string;
}

/**
 * Takes the local results store under `dir` for this process, or refuses with who holds it: the
 * embedded DynamoDB keeps its data in one LevelDB folder that only one process may open, and a
 * second one would otherwise fail on its first request with "Database is closed". A lock left by
 * a process that is gone (killed) is taken over. Returns what releases it.
 * @param command what this process is, as the refusal names it (`modelsweep sweep`)
 */
export function lockStore(dir: string, command: string): () => void {
  const path = join(dir, 'lock');
  const me: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw storeError(dir, error);
      const holder = readHolder(path);
      if (holder && holderIsAlive(holder))
        throw new ModelsweepError(
          'invalid-input',
          `the results store ${dir} is in use by \`${holder.command}\` (pid ${holder.pid}${holder.host !== me.host ? ` on ${holder.host}` : ''}, since ${holder.since}): wait for it to finish, or pass another --store-dir`,
        );
      // Its process is gone: the lock is stale.
      rmSync(path, { force: true });
      continue;
    }
    writeSync(fd, JSON.stringify(me));
    closeSync(fd);
    const release = () => {
      if (readHolder(path)?.pid === me.pid) rmSync(path, { force: true });
    };
    process.once('exit', release);
    return () => {
      process.off('exit', release);
      release();
    };
  }
  throw new ModelsweepError(
    'invalid-input',
    `the results store ${dir} is locked (${path}) and the lock could not be taken over; remove it if no modelsweep runs`,
  );
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    return typeof holder.pid === 'number' && typeof holder.host === 'string' ? (holder as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/** On another host it cannot be told: assume it runs (the message names the host). */
const holderIsAlive = (holder: LockHolder): boolean => holder.host !== hostname() || processIsAlive(holder.pid);

function storeError(dir: string, error: unknown): ModelsweepError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
      ? 'it cannot be written (permissions, or a read-only file system)'
      : `${code ?? (error as Error).message}`;
  return new ModelsweepError('invalid-input', `cannot use the results store ${dir}: ${why}; pass another --store-dir`, { cause: error });
}
