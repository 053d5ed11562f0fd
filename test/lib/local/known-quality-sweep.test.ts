import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { PriceBook } from '../../../lib/cost/price-book';
import { runSweep } from '../../../lib/local/run-sweep';
import { parseSpec } from '../../../lib/spec/load-spec';
import { type LocalDynamo, startLocalDynamo } from '../../../lib/store/local-dynamo';
import { ResultsStore } from '../../../lib/store/results-store';
import { httpTarget } from '../../../lib/targets/http-target';
import { localTarget } from '../../../lib/targets/local-target';
import { seededRandom } from '../../../lib/util/seeded-random';
import { DEMO_MODEL_PATH } from '../../helpers/demo-model';
import { knownCapacityServer, type TestServer } from '../../helpers/test-servers';

/**
 * Classifiers whose accuracy and capacity are known exactly (bench/servers/known-capacity.js): on
 * the 1,000 examples {"x": 0..999}, labelled x mod 10, each answers exactly wrongPerThousand of
 * them wrongly; each serves 8 requests at a time for 10 ms (at most 800 rps), far above the 50 rps
 * peak. So every one meets the latency SLO on one instance, and only quality can decide.
 */
describe('a sweep of classifiers whose accuracy is known', () => {
  let dynamo: LocalDynamo;
  const servers: Record<string, Pick<TestServer, 'url' | 'close'>> = {};
  let dir: string;
  beforeAll(async () => {
    dynamo = await startLocalDynamo({ tableName: 'quality' });
    const accuracies = { a99: 10, a90: 100, a97: 30, a95: 50 };
    await Promise.all(
      Object.entries(accuracies).map(async ([name, wrong]) => {
        servers[name] = await knownCapacityServer(8, 10, wrong);
      }),
    );
    dir = mkdtempSync(join(tmpdir(), 'quality-'));
    writeFileSync(join(dir, 'labelled.jsonl'), Array.from({ length: 1000 }, (_, x) => JSON.stringify({ input: { x }, expected: x % 10 })).join('\n'));
  });
  afterAll(async () => {
    await Promise.all([...Object.values(servers).map((s) => s.close()), dynamo.close()]);
  });

  async function sweepOf(candidates: Array<{ name: string; costPerHour: number }>, min: number) {
    const loaded = parseSpec(
      stringify({
        name: 'known-quality',
        model: { name: 'classifier' },
        payloads: [{ body: '{"x": 1}' }],
        candidates: candidates.map((c) => ({ kind: 'http', name: c.name, url: servers[c.name]!.url, costPerHour: c.costPerHour })),
        load: { phases: [{ mode: 'open', rate: 60, duration: '2s' }] },
        slo: { percentile: 99, latencyMs: 200, maxErrorRate: 0.01 },
        quality: { dataset: 'labelled.jsonl', responsePath: '/label', metric: 'accuracy', slo: { min } },
        traffic: { averageRps: 20, peakRps: 50 },
        candidateSearch: { mode: 'exhaustive' },
      }),
      join(dir, 'spec.yaml'),
      dir,
    );
    return runSweep(loaded, { store: new ResultsStore(dynamo.client, 'quality'), prices: PriceBook.snapshot(), adapters: { http: httpTarget } });
  }

  it('recommends the cheapest that meets the quality SLO, and says why the cheaper, less accurate one lost', async () => {
    const outcome = await sweepOf(
      [
        { name: 'a99', costPerHour: 0.2 },
        { name: 'a90', costPerHour: 0.05 },
        { name: 'a97', costPerHour: 0.1 },
      ],
      0.95,
    );
    const verdicts = Object.fromEntries(outcome.selection.candidates.map((c) => [c.id, c]));
    // Measured through each endpoint, exactly what its server answers.
    expect(verdicts.a99!.quality).toMatchObject({ metric: 'accuracy', value: 0.99, examples: 1000, call: 'meets' });
    expect(verdicts.a97!.quality).toMatchObject({ value: 0.97, call: 'meets' });
    expect(verdicts.a90!.quality).toMatchObject({ value: 0.9, call: 'misses' });
    // The Wilson interval of 900 of 1,000, computed by hand: 0.9 ± 0.0186, pulled towards ½.
    expect(verdicts.a90!.quality!.interval![0]).toBeCloseTo(0.8797, 3);
    expect(verdicts.a90!.quality!.interval![1]).toBeCloseTo(0.917, 3);
    expect(outcome.selection.recommended).toBe('a97');
    expect(verdicts.a90!.feasible).toBe(false);
    expect(verdicts.a90!.reason).toBe('fails the quality SLO (accuracy 0.900 (95% interval 0.880–0.917) < 0.950); it would cost $36.50/month');
    // The frontier is cost × latency × quality: the dearer, more accurate one is on it.
    expect(verdicts.a99!.reason).toMatch(/^on the frontier, not chosen: better accuracy than a97 \(0\.990 against 0\.970\) but \$73\.00\/month more/);
  }, 180_000);

  it('calls one whose interval straddles the bound too close to call, with the examples that would settle it', async () => {
    const outcome = await sweepOf(
      [
        { name: 'a95', costPerHour: 0.05 },
        { name: 'a99', costPerHour: 0.2 },
      ],
      0.95,
    );
    const verdicts = Object.fromEntries(outcome.selection.candidates.map((c) => [c.id, c]));
    expect(verdicts.a95!.quality).toMatchObject({ value: 0.95, call: 'too-close' });
    expect(verdicts.a95!.reason).toMatch(
      /^too close to call whether it meets the quality SLO: accuracy 0\.950 \(95% interval 0\.935–0\.962\) too close to 0\.950 to call; its estimate sits on the bound/,
    );
    // The dearer one that surely meets it is recommended, with the doubt said.
    expect(outcome.selection.recommended).toBe('a99');
    expect(outcome.selection.confidenceNote).toMatch(/a95 might meet the quality SLO too and costs less than a99/);
  }, 180_000);

  it('measures through the endpoint what the same model scores in process with onnxruntime', async () => {
    // 200 seeded inputs of the demo model, labelled at random: its accuracy is whatever it is (about a tenth), and must be the same both ways.
    const random = seededRandom(27);
    const examples = Array.from({ length: 200 }, () => ({
      data: Array.from({ length: 256 }, () => Math.round((random() * 2 - 1) * 1000) / 1000),
      label: Math.floor(random() * 10),
    }));
    writeFileSync(
      join(dir, 'demo-labelled.jsonl'),
      examples.map((e) => JSON.stringify({ input: { inputs: { input: { dims: [1, 256], data: e.data } } }, expected: e.label })).join('\n'),
    );
    const session = await ort.InferenceSession.create(DEMO_MODEL_PATH, { intraOpNumThreads: 1 });
    let right = 0;
    for (const e of examples) {
      const { probabilities } = await session.run({ input: new ort.Tensor('float32', Float32Array.from(e.data), [1, 256]) });
      const scores = Array.from(probabilities!.data as Float32Array);
      if (scores.indexOf(Math.max(...scores)) === e.label) right++;
    }
    await session.release();
    const loaded = parseSpec(
      stringify({
        name: 'quality-in-process',
        model: { name: 'demo', path: DEMO_MODEL_PATH },
        payloads: [{ body: JSON.stringify({ inputs: { input: { dims: [1, 256], data: examples[0]!.data } } }) }],
        candidates: [{ kind: 'local', threads: 1, costPerHour: 0.05 }],
        load: { phases: [{ mode: 'open', rate: 20, duration: '1s' }] },
        slo: { percentile: 99, latencyMs: 500 },
        quality: {
          dataset: 'demo-labelled.jsonl',
          responsePath: '/outputs/probabilities/data',
          argmax: true,
          metric: 'accuracy',
          slo: { min: 0.05 },
        },
        traffic: { averageRps: 5, peakRps: 10 },
      }),
      join(dir, 'spec.yaml'),
      dir,
    );
    const outcome = await runSweep(loaded, {
      store: new ResultsStore(dynamo.client, 'quality'),
      prices: PriceBook.snapshot(),
      adapters: { local: localTarget },
    });
    const quality = outcome.selection.candidates[0]!.quality!;
    expect(quality.examples).toBe(200);
    expect(quality.value).toBe(right / 200);
  }, 180_000);
});
