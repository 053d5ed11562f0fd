import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { PriceBook } from '../../../lib/cost/price-book';
import { runSweep } from '../../../lib/local/run-sweep';
import { parseSpec } from '../../../lib/spec/load-spec';
import { type LocalDynamo, startLocalDynamo } from '../../../lib/store/local-dynamo';
import { ResultsStore } from '../../../lib/store/results-store';
import { httpTarget } from '../../../lib/targets/http-target';
import { knownCapacityServer, type TestServer } from '../../helpers/test-servers';

/**
 * Two endpoints whose capacity is known without measuring: "small" serves 2 requests at a time for
 * 20 ms each (at most 100 rps; 57 rps within a 60 ms p99, from an M/D/2 queue's simulation),
 * "large" 12 at a time (549 rps within it). At a 300 rps peak, small needs 6 instances ($438/month
 * at $0.10/h) and large one ($219/month at $0.30/h): large is right, though cheaper by the hour.
 * "held" holds every request 70 ms (64 at a time): it can never meet the SLO, however quiet the
 * machine, and is the cheapest by far, so a sweep that doubted its miss would withhold the answer.
 */
describe('a sweep of servers whose capacity is known', () => {
  let dynamo: LocalDynamo;
  let small: Pick<TestServer, 'url' | 'close'>;
  let large: Pick<TestServer, 'url' | 'close'>;
  let held: Pick<TestServer, 'url' | 'close'>;
  beforeAll(async () => {
    dynamo = await startLocalDynamo({ tableName: 'known' });
    [small, large, held] = await Promise.all([knownCapacityServer(2, 20), knownCapacityServer(12, 20), knownCapacityServer(64, 70)]);
  });
  afterAll(async () => {
    await Promise.all([small.close(), large.close(), held.close(), dynamo.close()]);
  });

  /** A sweep of loopback candidates with a rate search each, p99 ≤ 60 ms, at `traffic`. */
  async function sweepOf(candidates: unknown[], traffic: { averageRps: number; peakRps: number }, onCandidateStart?: (c: { id: string }) => void) {
    const loaded = parseSpec(
      stringify({
        name: 'known-capacity',
        model: { name: 'known' },
        payloads: [{ body: '{}' }],
        candidates,
        load: {
          phases: [{ mode: 'open', rate: 20, duration: '1s' }],
          search: { from: 20, to: 400, stepDuration: '1500ms', precision: 0.15 },
        },
        slo: { percentile: 99, latencyMs: 60, maxErrorRate: 0.01 },
        traffic,
      }),
      'spec.yaml',
      '/',
    );
    return runSweep(loaded, {
      store: new ResultsStore(dynamo.client, 'known'),
      prices: PriceBook.snapshot(),
      adapters: { http: httpTarget },
      ...(onCandidateStart ? { events: { onCandidateStart } } : {}),
    });
  }

  it('recommends the one that is really cheapest at the forecast, from a rate search of each', async () => {
    const outcome = await sweepOf(
      [
        { kind: 'http', name: 'small', url: small.url, costPerHour: 0.1 },
        { kind: 'http', name: 'large', url: large.url, costPerHour: 0.3 },
        { kind: 'http', name: 'held', url: held.url, costPerHour: 0.01 },
      ],
      { averageRps: 100, peakRps: 300 },
    );
    const verdicts = Object.fromEntries(outcome.selection.candidates.map((c) => [c.id, c]));
    // small's capacity within the SLO is below its 100 rps ceiling (the server sets it), and at least
    // the search's lightest probe, at a third of it; how close to 57 rps is bench/decision-quality's.
    expect(verdicts.small!.maxRpsWithinSlo).toBeLessThan(100);
    expect(verdicts.small!.maxRpsWithinSlo).toBeGreaterThanOrEqual(20);
    expect(verdicts.large!.instances).toBe(1);
    expect(outcome.selection.recommended).toBe('large');
    // Failed, not "could not be measured": no request is faster than 70 ms, whatever the machine did (npm test's other lane runs beside).
    expect(verdicts.held!.reason).toMatch(/^fails the SLO \(p99 \d/);
    // Phases run on while too close to call, longer on a busy machine: a minute alone, more beside `npm test`'s other lane.
  }, 180_000);

  it('deploys only what can win: of eight candidates, four cost more on one instance than the best measured, and are skipped', async () => {
    // Capacities within a 60 ms p99 at 20 ms a request (bench/decision-quality's simulation): 1 slot
    // 16 rps, 2: 57, 3: 103, 4: 152, 8: over 300, 12: 549, 16: 741. At a 100 rps peak "four" needs one
    // instance ($109.50/month); "two" needs two ($116.80), "one" seven, "held" never meets the SLO.
    const servers = await Promise.all([1, 2, 3, 4, 8, 12, 16].map((slots) => knownCapacityServer(slots, 20)));
    const [one, two, three, four, eight, twelve, sixteen] = servers;
    try {
      const http = (name: string, server: Pick<TestServer, 'url'>, costPerHour: number) => ({ kind: 'http', name, url: server.url, costPerHour });
      const deployed: string[] = [];
      const outcome = await sweepOf(
        [
          http('sixteen', sixteen!, 0.4),
          http('twelve', twelve!, 0.3),
          http('eight', eight!, 0.25),
          http('three', three!, 0.16),
          http('four', four!, 0.15),
          http('two', two!, 0.08),
          http('one', one!, 0.05),
          http('held', held, 0.01),
        ],
        { averageRps: 50, peakRps: 100 },
        (c) => deployed.push(c.id),
      );
      expect(outcome.selection.recommended).toBe('four');
      // Cheapest possible first: each measured before anything dearer on one instance.
      expect(deployed).toEqual(['held', 'one', 'two', 'four']);
      const reason = (id: string) => outcome.selection.candidates.find((c) => c.id === id)!.reason;
      // Each is skipped as soon as a measured candidate's upper bound is below its floor: the dearer
      // ones while "two" ($175.20 at most, its capacity range allowing three instances) was the best.
      for (const [id, floor] of [
        ['three', 116.8],
        ['eight', 182.5],
        ['twelve', 219],
        ['sixteen', 292],
      ] as const) {
        const [, shown, best, bound] =
          /^skipped: \$([\d.]+)\/month even on one instance, more than the best measured, (two|four) at \$([\d.]+)\/month at most$/.exec(reason(id))!;
        expect(Number(shown), id).toBe(floor);
        expect(Number(bound), `${id} skipped for ${best}`).toBeLessThan(floor);
      }
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  }, 300_000);
});
