import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { ModelsweepError } from '../../lib/errors';
import { type LockHolder, lockStore, storeHolder, StoreInUse, type StoreLock } from '../../lib/local/store-lock';
import { type LocalDynamo, localDynamoClient, startLocalDynamo } from '../../lib/store/local-dynamo';
import { ResultsStore } from '../../lib/store/results-store';
import { checkTally, countRecords, moveAside, writeTally } from '../../lib/store/store-integrity';
import { CliError, EXIT } from './cli-error';

export const LOCAL_TABLE = 'modelsweep-results';
export const STORE_DIR_OPTION = ['--store-dir <dir>', 'where the embedded results store of local sweeps lives', '.modelsweep'] as const;

/** Where a local sweep's report files go. */
export const reportDir = (storeDir: string, sweepId: string) => join(resolve(storeDir), 'reports', sweepId);

/**
 * Runs `use` with the embedded results store under `storeDir` (dynalite, persisted), closing it
 * after. `create: false` is a reader: it refuses a directory with no store instead of making an
 * empty one, and while another command holds the store (a sweep running) it reads through that
 * command's server instead of being refused. A writer is refused while another holds it, naming
 * the sweep. Opening checks the store lost no record to damage (see checkTally).
 */
export async function withLocalStore<T>(storeDir: string, use: (store: ResultsStore) => Promise<T>, { create = true } = {}): Promise<T> {
  if (storeDir.trim() === '') throw new CliError('--store-dir is empty: give the folder the local results store lives in');
  const dir = resolve(storeDir);
  const data = join(dir, 'dynamo');
  if (!create && !existsSync(data)) throw new CliError(`no local results in ${dir}: run a sweep with --local first, or pass --store-dir`);
  const holder = existsSync(dir) ? storeHolder(dir) : undefined;
  if (holder?.endpoint && !create) return readThrough(holder.endpoint, use);
  if (holder) throw new CliError((await inUse(dir, holder)).message);
  refuseDamaged(data);
  let lock: StoreLock;
  try {
    mkdirSync(dir, { recursive: true });
    lock = lockStore(dir, `modelsweep${/^[a-z]+$/.test(process.argv[2] ?? '') ? ` ${process.argv[2]}` : ''}`);
  } catch (error) {
    if (error instanceof StoreInUse) throw new CliError((await inUse(dir, error.holder)).message, EXIT.badInput, { cause: error });
    throw new CliError(
      error instanceof ModelsweepError ? error.message : `cannot use the results store ${dir}: ${(error as Error).message}`,
      EXIT.badInput,
      { cause: error },
    );
  }
  try {
    const dynamo = await openStore(data, dir);
    try {
      lock.advertise(dynamo.endpoint);
      return await use(new ResultsStore(dynamo.client, LOCAL_TABLE));
    } finally {
      // Whatever `use` did, what it left is the count the next command must find; a count that fails leaves the last one.
      await countRecords(dynamo.client, LOCAL_TABLE)
        .then((records) => writeTally(dir, records))
        .catch(() => undefined);
      await dynamo.close();
      openData = undefined;
    }
  } finally {
    lock.release();
  }
}

/** The LevelDB folder this process has open, for {@link storeCrash}. */
let openData: string | undefined;

/**
 * The embedded store reports a damaged file by throwing from a callback, out of reach of any
 * await: the CLI's last-resort handler asks here whether such an error is the store's, to say so
 * with the folder and what to do (exit 2) instead of calling it a bug.
 */
export function storeCrash(error: unknown): CliError | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (openData === undefined || (code !== 'LEVEL_CORRUPTION' && code !== 'LEVEL_IO_ERROR')) return undefined;
  return new CliError(
    `the results store in ${openData} is damaged (${(error as Error).message}); the command stopped there. Restore the folder from a backup, or ${moveAside(openData)}`,
    EXIT.badInput,
    { cause: error },
  );
}

/** Opens the store's LevelDB, refusing one that lost records or cannot be read, with what to do. */
async function openStore(data: string, dir: string): Promise<LocalDynamo> {
  let dynamo: LocalDynamo | undefined;
  openData = data;
  try {
    dynamo = await startLocalDynamo({ path: data, tableName: LOCAL_TABLE });
    checkTally(dir, await countRecords(dynamo.client, LOCAL_TABLE));
    return dynamo;
  } catch (error) {
    await dynamo?.close();
    if (error instanceof ModelsweepError) throw new CliError(error.message, EXIT.badInput, { cause: error });
    throw new CliError(
      `the results store in ${data} cannot be opened (${(error as Error).message.split('\n')[0]}); nothing was changed. If it is damaged, ${moveAside(data)}`,
      EXIT.badInput,
      { cause: error },
    );
  }
}

/** A reader while another command holds the store: through that command's own server. */
async function readThrough<T>(endpoint: string, use: (store: ResultsStore) => Promise<T>): Promise<T> {
  const client = localDynamoClient(endpoint);
  try {
    return await use(new ResultsStore(client, LOCAL_TABLE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED' || /ECONNREFUSED|socket hang up/.test(String(error)))
      throw new CliError('the command that held the results store finished while this one read it; run this one again', EXIT.failed, {
        cause: error,
      });
    throw error;
  } finally {
    client.destroy();
  }
}

/** The refusal of a writer, naming the sweep the holder runs when its server can say. */
async function inUse(dir: string, holder: LockHolder): Promise<StoreInUse> {
  if (!holder.endpoint) return new StoreInUse(dir, holder);
  const client = localDynamoClient(holder.endpoint);
  try {
    const running = (await new ResultsStore(client, LOCAL_TABLE).recentSweeps(5)).find((s) => s.owner?.pid === holder.pid && s.status === 'running');
    return new StoreInUse(dir, holder, running ? `sweep ${running.sweepId}` : undefined);
  } catch {
    return new StoreInUse(dir, holder);
  } finally {
    client.destroy();
  }
}

/**
 * LevelDB starts an empty database where its CURRENT file is missing: opening such a folder would
 * silently lose every sweep in it. Refuse, and say what to do, changing nothing.
 */
function refuseDamaged(data: string): void {
  if (!existsSync(data)) return;
  const files = readdirSync(data);
  if (files.length > 0 && !files.includes('CURRENT'))
    throw new CliError(
      `the results store in ${data} is damaged: its CURRENT file is missing (${files.length} other files are there), and opening it would start an empty one; nothing was changed. Restore it from a backup, or ${moveAside(data)}`,
    );
}
