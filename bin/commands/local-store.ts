import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { ModelsweepError } from '../../lib/errors';
import { lockStore } from '../../lib/local/store-lock';
import { startLocalDynamo } from '../../lib/store/local-dynamo';
import { ResultsStore } from '../../lib/store/results-store';
import { CliError, EXIT } from './cli-error';

export const LOCAL_TABLE = 'modelsweep-results';
export const STORE_DIR_OPTION = ['--store-dir <dir>', 'where the embedded results store of local sweeps lives', '.modelsweep'] as const;

/** Where a local sweep's report files go. */
export const reportDir = (storeDir: string, sweepId: string) => join(resolve(storeDir), 'reports', sweepId);

/**
 * Runs `use` with the embedded results store under `storeDir` (dynalite, persisted), closing it
 * after. `create: false` refuses a directory with no store, instead of making an empty one.
 */
export async function withLocalStore<T>(storeDir: string, use: (store: ResultsStore) => Promise<T>, { create = true } = {}): Promise<T> {
  if (storeDir.trim() === '') throw new CliError('--store-dir is empty: give the folder the local results store lives in');
  const dir = resolve(storeDir);
  const data = join(dir, 'dynamo');
  if (!create && !existsSync(data)) throw new CliError(`no local results in ${dir}: run a sweep with --local first, or pass --store-dir`);
  refuseDamaged(data);
  let unlock: () => void;
  try {
    mkdirSync(dir, { recursive: true });
    unlock = lockStore(dir, `modelsweep${/^[a-z]+$/.test(process.argv[2] ?? '') ? ` ${process.argv[2]}` : ''}`);
  } catch (error) {
    throw new CliError(
      error instanceof ModelsweepError ? error.message : `cannot use the results store ${dir}: ${(error as Error).message}`,
      EXIT.badInput,
      {
        cause: error,
      },
    );
  }
  try {
    const dynamo = await startLocalDynamo({ path: data, tableName: LOCAL_TABLE });
    try {
      return await use(new ResultsStore(dynamo.client, LOCAL_TABLE));
    } finally {
      await dynamo.close();
    }
  } finally {
    unlock();
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
      `the results store in ${data} is damaged: its CURRENT file is missing (${files.length} other files are there), and opening it would start an empty one; nothing was changed. Restore it from a backup, or move it aside (mv ${data} ${data}.damaged) to start a new store`,
    );
}
