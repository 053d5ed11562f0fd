import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { ModelsweepError } from '../errors';
import { ownerIsGone } from '../store/sweep-liveness';
import { writeFileWhole } from '../util/write-whole';

/** Who holds a local results store. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly since: string;
  /** Where the holder serves the store (its embedded DynamoDB on 127.0.0.1), for readers to use meanwhile. */
  readonly endpoint?: string;
}

/** A held store lock: release it, or say where the store is served. */
export interface StoreLock {
  /** Records the endpoint the store is served on, so other commands can read it while this one runs. */
  advertise(endpoint: string): void;
  release(): void;
}

/**
 * Takes the local results store under `dir` for this process, or refuses with who holds it: the
 * embedded DynamoDB keeps its data in one LevelDB folder that only one process may open, and a
 * second one would otherwise fail on its first request with "Database is closed". A lock left by
 * a process that is gone (killed) is taken over. Returns what releases it.
 * @param command what this process is, as the refusal names it (`modelsweep sweep`)
 */
export function lockStore(dir: string, command: string): StoreLock {
  const path = join(dir, 'lock');
  const me: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw storeError(dir, error);
      const holder = readHolder(path);
      if (holder && holderIsAlive(holder)) throw new StoreInUse(dir, holder);
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
    return {
      advertise: (endpoint) => {
        writeFileWhole(path, JSON.stringify({ ...me, endpoint }));
      },
      release: () => {
        process.off('exit', release);
        release();
      },
    };
  }
  throw new ModelsweepError(
    'invalid-input',
    `the results store ${dir} is locked (${path}) and the lock could not be taken over; remove it if no modelsweep runs`,
  );
}

/** The store is held by another live process; `holder` says which, and where it serves the store. */
export class StoreInUse extends ModelsweepError {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
    /** What the holder is doing, when it could be asked (e.g. `sweep demo-…`). */
    doing?: string,
  ) {
    super(
      'invalid-input',
      `the results store ${dir} is in use by \`${holder.command}\`${doing ? ` (${doing})` : ''} (pid ${holder.pid}${holder.host !== hostname() ? ` on ${holder.host}` : ''}, since ${holder.since}): wait for it to finish, or pass another --store-dir`,
    );
  }
}

/** The live process holding the store under `dir`, if any. */
export function storeHolder(dir: string): LockHolder | undefined {
  const holder = readHolder(join(dir, 'lock'));
  return holder && holderIsAlive(holder) ? holder : undefined;
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
const holderIsAlive = (holder: LockHolder): boolean => !ownerIsGone(holder);

function storeError(dir: string, error: unknown): ModelsweepError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
      ? 'it cannot be written (permissions, or a read-only file system)'
      : `${code ?? (error as Error).message}`;
  return new ModelsweepError('invalid-input', `cannot use the results store ${dir}: ${why}; pass another --store-dir`, { cause: error });
}
