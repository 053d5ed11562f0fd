import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { startLocalDynamo } from '../../lib/store/local-dynamo';
import { ResultsStore } from '../../lib/store/results-store';
import { CliError } from './cli-error';

export const LOCAL_TABLE = 'modelsweep-results';
export const STORE_DIR_OPTION = ['--store-dir <dir>', 'where the embedded results store of local sweeps lives', '.modelsweep'] as const;

/** Where a local sweep's report files go. */
export const reportDir = (storeDir: string, sweepId: string) => join(resolve(storeDir), 'reports', sweepId);

/**
 * Runs `use` with the embedded results store under `storeDir` (dynalite, persisted), closing it
 * after. `create: false` refuses a directory with no store, instead of making an empty one.
 */
export async function withLocalStore<T>(storeDir: string, use: (store: ResultsStore) => Promise<T>, { create = true } = {}): Promise<T> {
  const dir = resolve(storeDir);
  if (!create && !existsSync(join(dir, 'dynamo')))
    throw new CliError(`no local results in ${dir}: run a sweep with --local first, or pass --store-dir`);
  mkdirSync(dir, { recursive: true });
  const dynamo = await startLocalDynamo({ path: join(dir, 'dynamo'), tableName: LOCAL_TABLE });
  try {
    return await use(new ResultsStore(dynamo.client, LOCAL_TABLE));
  } finally {
    await dynamo.close();
  }
}
