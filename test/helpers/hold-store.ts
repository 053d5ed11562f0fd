/**
 * Stands for a sweep that runs, in a process of its own: opens the local store under argv[2],
 * records a running sweep owned by this process, takes the store's lock with the endpoint it
 * serves the store on, prints "ready", and holds it all until its stdin closes.
 */
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { LOCAL_TABLE } from '../../bin/commands/local-store';
import { startLocalDynamo } from '../../lib/store/local-dynamo';
import { ResultsStore } from '../../lib/store/results-store';

async function hold(store: string, sweepId: string): Promise<void> {
  const dynamo = await startLocalDynamo({ path: join(store, 'dynamo'), tableName: LOCAL_TABLE });
  const results = new ResultsStore(dynamo.client, LOCAL_TABLE);
  const [finished] = await results.recentSweeps(1);
  const now = new Date().toISOString();
  await results.createSweep({ ...finished!, sweepId, createdAt: now, owner: { pid: process.pid, host: hostname() }, heartbeatAt: now });
  writeFileSync(
    join(store, 'lock'),
    JSON.stringify({ pid: process.pid, host: hostname(), command: 'modelsweep sweep', since: now, endpoint: dynamo.endpoint }),
  );
  console.log(`ready ${now}`);
  process.stdin.resume();
  process.stdin.on('end', () => void dynamo.close().then(() => process.exit(0)));
}

void hold(process.argv[2]!, process.argv[3]!);
