/**
 * Decision quality: does a sweep recommend the configuration that is really cheapest? Landscapes
 * of loopback servers whose capacity is known exactly (slots × a fixed hold, timers, no CPU; see
 * servers/known-capacity.js) and prices, where the true cheapest is computed from an M/D/c queue
 * simulation, each swept repeatedly on an idle machine and beside a CPU hog on the generator's
 * core. Prints, per landscape and condition: correct, too close to call (or "too busy to
 * measure"), wrong. Goal: 0 wrong.
 *
 *   npm run bench:decision-quality -- [--repeats N]     (results in bench/results/decision-quality.json)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { stringify } from 'yaml';

import { PriceBook } from '../lib/cost/price-book';
import { runSweep } from '../lib/local/run-sweep';
import { parseSpec } from '../lib/spec/load-spec';
import { startLocalDynamo } from '../lib/store/local-dynamo';
import { ResultsStore } from '../lib/store/results-store';
import { httpTarget } from '../lib/targets/http-target';
import { seededRandom } from '../lib/util/seeded-random';
import { writeResult } from './write-result.cjs';

const HOLD_MS = 20;
const SLO_MS = 60;
const HOURS = PriceBook.snapshot().hoursPerMonth;

interface Server {
  readonly name: string;
  readonly slots: number;
  readonly usdPerHour: number;
}
interface Landscape {
  readonly name: string;
  readonly peakRps: number;
  readonly servers: readonly Server[];
}

const LANDSCAPES: Landscape[] = [
  {
    name: 'cheap by the hour, dear at the peak',
    peakRps: 300,
    servers: [
      { name: 'small', slots: 2, usdPerHour: 0.1 },
      { name: 'large', slots: 12, usdPerHour: 0.3 },
    ],
  },
  {
    name: 'three sizes',
    peakRps: 400,
    servers: [
      { name: 'one', slots: 1, usdPerHour: 0.05 },
      { name: 'four', slots: 4, usdPerHour: 0.12 },
      { name: 'sixteen', slots: 16, usdPerHour: 0.5 },
    ],
  },
  {
    name: 'double the slots, 1.8 times the price',
    peakRps: 160,
    servers: [
      { name: 'three', slots: 3, usdPerHour: 0.1 },
      { name: 'six', slots: 6, usdPerHour: 0.18 },
    ],
  },
];

/** p99 of the time in system of an M/D/c queue (Poisson arrivals at `rate`, `slots` servers, fixed hold), by simulation. */
function simulatedP99(rate: number, slots: number, n = 200_000): number {
  const random = seededRandom(rate * 1000 + slots);
  const free = new Array<number>(slots).fill(0);
  const times: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += (-Math.log(1 - random()) / rate) * 1000;
    let k = 0;
    for (let j = 1; j < slots; j++) if (free[j]! < free[k]!) k = j;
    const start = Math.max(t, free[k]!);
    free[k] = start + HOLD_MS;
    times.push(free[k]! - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(0.99 * n)]!;
}

/** The highest rate whose p99 meets the SLO (bisection on the simulation). */
function trueCapacity(slots: number): number {
  let low = 1;
  let high = (slots * 1000) / HOLD_MS;
  while ((high - low) / low > 0.005) {
    const mid = (low + high) / 2;
    if (simulatedP99(mid, slots) <= SLO_MS) low = mid;
    else high = mid;
  }
  return low;
}

const monthly = (server: Server, capacity: number, peak: number) => Math.ceil(peak / capacity - 1e-9) * server.usdPerHour * HOURS;

async function startServer(server: Server, port: number, cores: string | undefined): Promise<ChildProcess> {
  const args = [join(__dirname, 'servers', 'known-capacity.js'), String(port), String(server.slots), String(HOLD_MS)];
  const child = cores ? spawn('taskset', ['-c', cores, process.execPath, ...args]) : spawn(process.execPath, args);
  await once(child.stdout!, 'data'); // `listening <port>`
  return child;
}

function startHog(cores: string | undefined): ChildProcess {
  const busy = 'for (;;) {}';
  return cores ? spawn('taskset', ['-c', cores, process.execPath, '-e', busy]) : spawn(process.execPath, ['-e', busy]);
}

type Outcome = 'correct' | 'too close to call' | 'wrong';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { repeats: { type: 'string', default: '2' } } });
  const repeats = Number(values.repeats);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const pin = availableParallelism() >= 2;
  // Servers on core 0; the generator (this process) and, in the busy runs, the hog on the others.
  if (pin) execFileSync('taskset', ['-a', '-p', '-c', `1-${availableParallelism() - 1}`, String(process.pid)], { stdio: 'ignore' });
  const dynamo = await startLocalDynamo({ tableName: 'bench' });
  const store = new ResultsStore(dynamo.client, 'bench');
  const rows: Array<Record<string, unknown>> = [];
  try {
    for (const landscape of LANDSCAPES) {
      const truth = landscape.servers.map((s) => ({ name: s.name, capacity: trueCapacity(s.slots) }));
      const costs = landscape.servers.map((s, i) => monthly(s, truth[i]!.capacity, landscape.peakRps));
      const cheapest = Math.min(...costs);
      const right = landscape.servers.filter((_, i) => costs[i]! <= cheapest + 0.005).map((s) => s.name);
      const servers = await Promise.all(landscape.servers.map((s, i) => startServer(s, 18400 + i, pin ? '0' : undefined)));
      try {
        for (const busy of [false, true]) {
          const tally: Record<Outcome, number> = { correct: 0, 'too close to call': 0, wrong: 0 };
          for (let run = 0; run < repeats; run++) {
            const hog = busy ? startHog(pin ? `1-${availableParallelism() - 1}` : undefined) : undefined;
            try {
              const loaded = parseSpec(
                stringify({
                  name: 'decision-quality',
                  model: { name: 'known' },
                  payloads: [{ body: '{}' }],
                  candidates: landscape.servers.map((s, i) => ({
                    kind: 'http',
                    name: s.name,
                    url: `http://127.0.0.1:${18400 + i}/`,
                    costPerHour: s.usdPerHour,
                  })),
                  load: {
                    phases: [{ mode: 'open', rate: 10, duration: '1s' }],
                    search: { from: 10, to: 1000, stepDuration: '1500ms', precision: 0.1 },
                  },
                  slo: { percentile: 99, latencyMs: SLO_MS, maxErrorRate: 0.01 },
                  traffic: { averageRps: landscape.peakRps / 3, peakRps: landscape.peakRps },
                  seed: run + 1,
                }),
                'spec.yaml',
                '/',
              );
              const { selection } = await runSweep(loaded, { store, prices: PriceBook.snapshot(), adapters: { http: httpTarget } });
              const uncertain = selection.measurementNote !== undefined || selection.confidenceNote?.startsWith('too close to call');
              const outcome: Outcome = uncertain
                ? 'too close to call'
                : selection.recommended && right.includes(selection.recommended)
                  ? 'correct'
                  : 'wrong';
              tally[outcome]++;
              rows.push({
                landscape: landscape.name,
                busy,
                run,
                outcome,
                recommended: selection.recommended ?? null,
                right,
                note: selection.measurementNote ?? selection.confidenceNote ?? null,
                measured: Object.fromEntries(
                  selection.candidates.map((c) => [
                    c.id,
                    { rps: c.maxRpsWithinSloRange ?? c.maxRpsWithinSlo ?? null, usd: c.monthlyCostRangeUsd ?? null },
                  ]),
                ),
              });
            } finally {
              hog?.kill('SIGKILL');
            }
          }
          console.log(
            `${landscape.name} (${busy ? 'CPU hog beside the generator' : 'idle'}): ${tally.correct} correct, ${tally['too close to call']} too close to call, ${tally.wrong} wrong` +
              ` (right: ${right.join(' or ')}; true capacity ${truth.map((t) => `${t.name} ${t.capacity.toFixed(0)} rps`).join(', ')})`,
          );
        }
      } finally {
        servers.forEach((s) => s.kill());
      }
    }
  } finally {
    await dynamo.close();
  }
  writeResult('decision-quality', process.argv.slice(2), rows);
  const wrong = rows.filter((r) => r.outcome === 'wrong').length;
  const close = rows.filter((r) => r.outcome === 'too close to call').length;
  console.log(`decision quality: ${rows.length - wrong - close} correct, ${close} too close to call, ${wrong} wrong of ${rows.length} sweeps`);
}

main().catch((error: unknown) => {
  console.error(`decision-quality: ${(error as Error).message}`);
  process.exitCode = 1;
});
