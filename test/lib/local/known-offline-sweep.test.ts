import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { PriceBook } from '../../../lib/cost/price-book';
import { runSweep } from '../../../lib/local/run-sweep';
import { costText, sweepHistory } from '../../../lib/report/sweep-history';
import { parseSpec } from '../../../lib/spec/load-spec';
import { type LocalDynamo, startLocalDynamo } from '../../../lib/store/local-dynamo';
import { ResultsStore } from '../../../lib/store/results-store';
import { httpTarget } from '../../../lib/targets/http-target';
import { selectFromRecords } from '../../../lib/workflow/steps/select-and-report';
import { knownCapacityServer, type TestServer } from '../../helpers/test-servers';

/**
 * An offline job on servers of exactly known capacity (bench/servers/known-capacity.js: slots ×
 * 1000 / hold ms requests a second, the rest queued), each priced so that the one cheapest per
 * row is too slow alone: 100,000 rows within 10 minutes.
 *
 * | server | slots × hold | capacity | $/hour | 100,000 rows take | job cost |
 * |---|---|---|---|---|---|
 * | wide   | 8 × 20 ms | 400 rows/s | 0.40 | 250 s on 1 | $0.028 |
 * | medium | 4 × 20 ms | 200 rows/s | 0.10 | 500 s on 1 | $0.014 |
 * | narrow | 2 × 40 ms |  50 rows/s | 0.01 | 2,000 s on 1: 500 s on 4 | $0.0056 |
 *
 * Holds of 20 ms and more keep a timer's lateness (a millisecond on a busy machine) a small share
 * of the truth.
 */
describe('an offline sweep of servers whose capacity is known', () => {
  let dynamo: LocalDynamo;
  const servers: Record<string, Pick<TestServer, 'url' | 'close'>> = {};
  const truth = { wide: 400, medium: 200, narrow: 50 };
  const dir = mkdtempSync(join(tmpdir(), 'offline-'));
  beforeAll(async () => {
    dynamo = await startLocalDynamo({ tableName: 'offline' });
    servers.wide = await knownCapacityServer(8, 20);
    servers.medium = await knownCapacityServer(4, 20);
    servers.narrow = await knownCapacityServer(2, 40);
  });
  afterAll(async () => {
    await Promise.all([...Object.values(servers).map((s) => s.close()), dynamo.close()]);
  });

  const specOf = (maxInstances: number) =>
    parseSpec(
      stringify({
        name: 'known-offline',
        model: { name: 'scorer' },
        payloads: [{ body: '{"x": 1}' }],
        candidates: Object.entries({ wide: 0.4, medium: 0.1, narrow: 0.01 }).map(([name, costPerHour]) => ({
          kind: 'http',
          name,
          url: servers[name]!.url,
          costPerHour,
        })),
        slo: { maxErrorRate: 0.01 },
        offline: { rows: 100_000, deadline: '10m', maxInstances, saturation: { from: 1, to: 32, stepDuration: '1s' } },
      }),
      join(dir, 'spec.yaml'),
      dir,
    );
  /** The first test's sweep: the second judges its measurements again, under another cap, rather than measure them twice. */
  let measured: Awaited<ReturnType<typeof runSweep>> | undefined;
  const sweep = async (maxInstances: number) =>
    (measured = await runSweep(specOf(maxInstances), {
      store: new ResultsStore(dynamo.client, 'offline'),
      prices: PriceBook.snapshot(),
      adapters: { http: httpTarget },
    }));

  it('measures each at saturation within 10% of its capacity, and recommends the cheapest per row that ends in time, on 4 instances', async () => {
    const outcome = await sweep(100);
    const verdicts = Object.fromEntries(outcome.selection.candidates.map((c) => [c.id, c]));
    for (const [id, capacity] of Object.entries(truth)) {
      const { saturation } = verdicts[id]!.job!;
      expect(saturation.rowsPerSecond).toBeGreaterThan(0.9 * capacity);
      expect(saturation.rowsPerSecond).toBeLessThan(1.1 * capacity);
      // Doubling past its slots adds nothing: the search stops two probes past the knee.
      expect(saturation.stoppedBecause).toMatch(/^throughput stopped growing: 2 doublings past concurrency \d+ each added under 10%$/);
    }
    // The knee is at the slots; at exactly that many in flight, each request's round trip leaves a slot idle a moment,
    // so on a busy machine that probe may fall under 90% of capacity and the knee read one doubling later.
    for (const [id, slots] of Object.entries({ wide: 8, medium: 4, narrow: 2 }))
      expect([slots, 2 * slots]).toContain(verdicts[id]!.job!.saturation.knee);
    expect(outcome.selection.recommended).toBe('narrow');
    expect(verdicts.narrow!.instances).toBe(4);
    const job = verdicts.narrow!.job!.estimate!;
    // About 500 s of rows on 4 instances; $0.01 × 4 × that.
    expect(job.seconds).toBeGreaterThan(450);
    expect(job.seconds).toBeLessThan(600);
    expect(job.usd).toBeCloseTo((4 * 0.01 * (100_000 / (4 * verdicts.narrow!.job!.saturation.rowsPerSecond))) / 3600, 10);
    expect(verdicts.narrow!.reason).toMatch(/^recommended: the cheapest that ends 100,000 rows within 10m: \$0\.00\d+ on 4 instances, /);
    // The wide one ends in half the time, for more: on the job's cost/time frontier.
    expect(verdicts.wide!.reason).toMatch(/^on the frontier, not chosen: ends sooner than narrow but costs \$0\.0\d+ more/);
    // The model's history says what the job costs, not a month.
    const [latest] = await sweepHistory(new ResultsStore(dynamo.client, 'offline'), 'scorer');
    expect(latest).toMatchObject({
      sweepId: outcome.sweepId,
      recommended: 'narrow',
      cost: { jobUsd: job.usd, jobSeconds: job.seconds, instances: 4 },
    });
    expect(costText(latest!.cost!)).toMatch(/^job \$0\.00\d+ in \dm \d+s on 4$/);
  }, 180_000);

  it('passes over the cheapest per row when no instance count within maxInstances ends in time', async () => {
    const records = measured?.records ?? (await sweep(100)).records;
    const selection = selectFromRecords(specOf(1).spec, records, { http: httpTarget }, PriceBook.snapshot());
    const verdicts = Object.fromEntries(selection.candidates.map((c) => [c.id, c]));
    expect(verdicts.narrow!.feasible).toBe(false);
    expect(verdicts.narrow!.reason).toMatch(
      /^cannot end 100,000 rows within 10m: it would take 4 instances to end by the deadline \(at [\d.]+ rows\/s, the low end of its interval\), more than offline\.maxInstances \(1\)$/,
    );
    expect(selection.recommended).toBe('medium');
    expect(verdicts.medium!.instances).toBe(1);
  }, 180_000);

  it('searches each batch size on its own, and keeps the one cheapest per row, with its throughput within 10% of the truth', async () => {
    // 4 slots, each request held 20 ms + 2 ms a row: 1 row a request, 4 × 1 / 22 ms = 182 rows/s; 10 rows, 4 × 10 / 40 ms = 1,000 rows/s.
    const batched = await knownCapacityServer(4, 20, undefined, 2);
    try {
      const outcome = await runSweep(
        parseSpec(
          stringify({
            name: 'known-offline-batches',
            model: { name: 'batched-scorer' },
            payloads: [{ body: '{"rows": [[1, 2, 3], [4, 5, 6]]}' }],
            candidates: [{ kind: 'http', name: 'batched', url: batched.url, costPerHour: 0.1 }],
            slo: { maxErrorRate: 0.01 },
            offline: {
              rows: 100_000,
              deadline: '10m',
              batch: { path: '/rows', sizes: [1, 10] },
              saturation: { from: 1, to: 16, stepDuration: '1s', precision: 0.1 },
            },
          }),
          join(dir, 'batched.yaml'),
          dir,
        ),
        { store: new ResultsStore(dynamo.client, 'offline'), prices: PriceBook.snapshot(), adapters: { http: httpTarget } },
      );
      const [verdict] = outcome.selection.candidates;
      expect(verdict!.job!.batch).toBe(10);
      expect(verdict!.job!.saturation.rowsPerSecond).toBeGreaterThan(900);
      expect(verdict!.job!.saturation.rowsPerSecond).toBeLessThan(1100);
      // The other size's search is said, with its throughput: about 182 rows/s.
      const other = /at batch 10 \(batch 1: ([\d.]+) rows\/s, \$[\d.]+\)/.exec(verdict!.reason)!;
      expect(Number(other[1])).toBeGreaterThan(0.9 * 182);
      expect(Number(other[1])).toBeLessThan(1.1 * 182);
      // Each size was a search of its own: its probes named by their batch.
      const names = outcome.records[0]!.phases.map((p) => p.name);
      expect(names).toEqual(expect.arrayContaining(['saturation-b1-c1', 'saturation-b10-c1', 'saturation-b10-c4']));
    } finally {
      await batched.close();
    }
  }, 180_000);
});
