import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { PriceBook } from '../../../lib/cost/price-book';
import { runSweep } from '../../../lib/local/run-sweep';
import { costText, driftText, sweepHistory } from '../../../lib/report/sweep-history';
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
    const accuracies = { a100: 0, a99: 10, a988: 12, a90: 100, a97: 30, a95: 50 };
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

  /** A sweep of the servers named, each its own candidate: as it is, or (`variant`) as a model variant of group `cls`. */
  async function sweepOf(
    candidates: Array<{ name: string; costPerHour: number; variant?: string }>,
    quality: object,
    candidateSearch: object = { mode: 'exhaustive' },
    model = 'classifier',
  ) {
    const loaded = parseSpec(
      stringify({
        name: 'known-quality',
        model: { name: model },
        payloads: [{ body: '{"x": 1}' }],
        candidates: candidates.map(({ name, costPerHour, variant }) =>
          variant
            ? { kind: 'http', name: 'cls', url: servers[name]!.url, models: [{ name: variant, url: servers[name]!.url }], costPerHour }
            : { kind: 'http', name, url: servers[name]!.url, costPerHour },
        ),
        load: { phases: [{ mode: 'open', rate: 60, duration: '2s' }] },
        slo: { percentile: 99, latencyMs: 200, maxErrorRate: 0.01 },
        quality: { dataset: 'labelled.jsonl', responsePath: '/label', ...quality },
        traffic: { averageRps: 20, peakRps: 50 },
        candidateSearch,
      }),
      join(dir, 'spec.yaml'),
      dir,
    );
    return runSweep(loaded, { store: new ResultsStore(dynamo.client, 'quality'), prices: PriceBook.snapshot(), adapters: { http: httpTarget } });
  }
  const accuracyOf = (min: number) => ({ metric: 'accuracy', slo: { min } });

  it('recommends the cheapest that meets the quality SLO, and says why the cheaper, less accurate one lost', async () => {
    const outcome = await sweepOf(
      [
        { name: 'a99', costPerHour: 0.2 },
        { name: 'a90', costPerHour: 0.05 },
        { name: 'a97', costPerHour: 0.1 },
      ],
      accuracyOf(0.95),
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
      accuracyOf(0.95),
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

  it("scores agreement with a reference variant's answers, with no labels needed", async () => {
    // The servers' wrong answers nest (n × 7919 mod 1000 below 10 is below 30): against the all-right
    // reference, a99 disagrees on exactly 10 examples and a97 on 30.
    writeFileSync(join(dir, 'unlabelled.jsonl'), Array.from({ length: 1000 }, (_, x) => JSON.stringify({ input: { x } })).join('\n'));
    const outcome = await sweepOf(
      [
        { name: 'a100', costPerHour: 0.2, variant: 'fp32' },
        { name: 'a97', costPerHour: 0.05, variant: 'int4' },
        { name: 'a99', costPerHour: 0.1, variant: 'int8' },
      ],
      { dataset: 'unlabelled.jsonl', metric: 'agreement', reference: 'fp32', slo: { min: 0.98 } },
      // The search's default: the reference, dearest, is deployed first all the same, for every verdict waits on it.
      { mode: 'prune' },
    );
    const verdicts = Object.fromEntries(outcome.selection.candidates.map((c) => [c.id, c]));
    expect(verdicts['cls-int4']!.quality).toMatchObject({ metric: 'agreement', value: 0.97, reference: 'cls-fp32', call: 'misses' });
    expect(verdicts['cls-int8']!.quality).toMatchObject({ value: 0.99, reference: 'cls-fp32', call: 'meets' });
    expect(verdicts['cls-fp32']!.quality).toMatchObject({ value: 1, call: 'meets' });
    expect(verdicts['cls-int4']!.reason).toBe(
      'fails the quality SLO (agreement with cls-fp32 0.970 (95% interval 0.957–0.979) < 0.980); it would cost $36.50/month',
    );
    expect(outcome.selection.recommended).toBe('cls-int8');
  }, 180_000);

  it("keeps a variant within maxDropFromReference of the reference's accuracy (MLPerf's 99% rule)", async () => {
    const outcome = await sweepOf(
      [
        { name: 'a99', costPerHour: 0.2, variant: 'fp32' },
        { name: 'a97', costPerHour: 0.05, variant: 'int4' },
        { name: 'a988', costPerHour: 0.1, variant: 'int8' },
      ],
      { dataset: 'labelled.jsonl', metric: 'accuracy', reference: 'fp32', slo: { maxDropFromReference: 0.01 } },
    );
    const verdicts = Object.fromEntries(outcome.selection.candidates.map((c) => [c.id, c]));
    // 0.970 is 97.98% of 0.990; 0.988 is 99.80% of it, the two differing on 2 examples only, so its paired interval clears 99%.
    expect(verdicts['cls-int4']!.quality).toMatchObject({ value: 0.97, call: 'misses', relative: { referenceValue: 0.99 } });
    expect(verdicts['cls-int4']!.quality!.relative!.ratio).toBeCloseTo(0.97 / 0.99, 12);
    expect(verdicts['cls-int4']!.reason).toMatch(
      /^fails the quality SLO \(accuracy 0\.970 \(95% interval 0\.957–0\.979\), 98\.0% of the reference cls-fp32's 0\.990 \(95% interval 9\d\.\d%–9\d\.\d%\) < 99\.0%\)/,
    );
    expect(verdicts['cls-int8']!.quality).toMatchObject({ value: 0.988, call: 'meets' });
    expect(verdicts['cls-int8']!.quality!.relative!.interval[0]).toBeGreaterThanOrEqual(0.99);
    expect(outcome.selection.recommended).toBe('cls-int8');
  }, 180_000);

  it("shows in the model's history a quality that moved between two sweeps", async () => {
    // The same candidate, cls-v1, served first by the 0.99 classifier, then by the 0.90 one (a bad artifact shipped).
    const first = await sweepOf([{ name: 'a99', costPerHour: 0.1, variant: 'v1' }], accuracyOf(0.5), undefined, 'drifting');
    const second = await sweepOf([{ name: 'a90', costPerHour: 0.1, variant: 'v1' }], accuracyOf(0.5), undefined, 'drifting');
    const history = await sweepHistory(new ResultsStore(dynamo.client, 'quality'), 'drifting');
    expect(history.map((h) => h.sweepId)).toEqual([second.sweepId, first.sweepId]);
    expect(history[0]).toMatchObject({
      recommended: 'cls-v1',
      quality: { metric: 'accuracy', value: 0.9 },
      cost: { monthlyUsd: expect.any(Number) },
    });
    expect(costText(history[0]!.cost!)).toMatch(/^\$\d+\.\d\d\/month on \d+$/);
    expect(history[0]!.qualityDrift).toEqual([{ id: 'cls-v1', metric: 'accuracy', from: 0.99, to: 0.9, since: first.sweepId, worse: true }]);
    expect(driftText(history[0]!.qualityDrift[0]!)).toBe('cls-v1 accuracy 0.990 → 0.900 (worse)');
    expect(history[1]!.qualityDrift).toEqual([]);
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
