import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { type DynamoDBClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';

import { ModelsweepError } from '../errors';
import { writeFileWhole } from '../util/write-whole';

/**
 * The embedded store's LevelDB reads past a damaged block without a word (its checksums are not
 * verified on reads, and the binding cannot ask for it): records would go missing silently. The
 * store never deletes a record, so the count of its records can only grow; each command that
 * opened the store writes the count it leaves behind here, and the next one checks it finds at
 * least as many.
 */
const TALLY_FILE = 'tally.json';

interface Tally {
  readonly records: number;
  readonly at: string;
}

/** What to do with a damaged store folder: `move it aside (mv <path> <path>.damaged) to start a new store`. */
export const moveAside = (path: string) => `move it aside (mv ${path} ${path}.damaged) to start a new store`;

/** Every record in the table, counted by a full scan. */
export async function countRecords(client: DynamoDBClient, tableName: string): Promise<number> {
  let count = 0;
  let from: ScanCommandOutput['LastEvaluatedKey'];
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, Select: 'COUNT', ExclusiveStartKey: from }));
    count += page.Count ?? 0;
    from = page.LastEvaluatedKey;
  } while (from);
  return count;
}

/** Refuses a store under `dir` holding fewer records than it was last left with: some were lost to damage. */
export function checkTally(dir: string, records: number): void {
  const tally = readTally(dir);
  if (!tally || records >= tally.records) return;
  throw new ModelsweepError(
    'invalid-input',
    `the results store in ${dir} is damaged: it holds ${records} records, but held ${tally.records} when last used (${tally.at}); ` +
      `${tally.records - records} were lost, most likely to a damaged .ldb file; nothing was changed. Restore the folder from a backup, ` +
      `or ${moveAside(dir)}`,
  );
}

/** Records how many records the store holds now, for the next {@link checkTally}. */
export function writeTally(dir: string, records: number): void {
  writeFileWhole(join(dir, TALLY_FILE), JSON.stringify({ records, at: new Date().toISOString() } satisfies Tally));
}

function readTally(dir: string): Tally | undefined {
  const path = join(dir, TALLY_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const tally = JSON.parse(readFileSync(path, 'utf8')) as Partial<Tally>;
    return typeof tally.records === 'number' && typeof tally.at === 'string' ? (tally as Tally) : undefined;
  } catch {
    return undefined;
  }
}
