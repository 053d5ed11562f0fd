import { describe, expect, it } from 'vitest';

import { measureQuality } from '../../../lib/quality/measure-quality';
import { bootstrapMeanInterval, examplesToSettle, scoreExample, summarize, wilsonInterval } from '../../../lib/quality/metrics';
import { judgeQuality } from '../../../lib/quality/quality-verdict';
import { compareWithReference } from '../../../lib/quality/reference-quality';
import { readAnswer } from '../../../lib/quality/response-path';
import { LIMITS } from '../../../lib/spec/limits';
import { parseQualityDataset } from '../../../lib/spec/quality-dataset';
import { parseJsonPointer } from '../../../lib/util/json-pointer';
import { accuracyResult } from '../../helpers/quality-results';

describe('quality metrics', () => {
  it('scores each metric as computed by hand', () => {
    expect(scoreExample('accuracy', 3, 3)).toEqual({ ok: true, score: 1 });
    expect(scoreExample('accuracy', 'cat', 'dog')).toEqual({ ok: true, score: 0 });
    expect(scoreExample('accuracy', ' cat\n', 'cat')).toEqual({ ok: true, score: 1 });
    expect(scoreExample('exact-match', 'Paris ', 'Paris')).toEqual({ ok: true, score: 1 });
    // Class 2 scores 0.3: one class (0.5) is higher, so it is in the top 2 and not the top 1.
    expect(scoreExample('top-k', [0.1, 0.5, 0.3, 0.05], 2, 1)).toEqual({ ok: true, score: 0 });
    expect(scoreExample('top-k', [0.1, 0.5, 0.3, 0.05], 2, 2)).toEqual({ ok: true, score: 1 });
    expect(scoreExample('top-k', [0.1, 0.5], 7, 2)).toEqual({ ok: true, score: 0 });
    // |1 − 1.5| and |2 − 1| over two values: 0.75; the largest of them: 1.
    expect(scoreExample('mean-absolute-error', [1, 2], [1.5, 1])).toEqual({ ok: true, score: 0.75 });
    expect(scoreExample('max-absolute-difference', [[1, 2]], [1.5, 1])).toEqual({ ok: true, score: 1 });
    expect(scoreExample('mean-absolute-error', [1, 2], [1])).toEqual({ ok: false, problem: 'the answer has 2 values, the expected 1' });
    expect(scoreExample('top-k', 'a', 1)).toEqual({ ok: false, problem: 'top-k needs a list of scores, got a string ("a")' });
    expect(scoreExample('exact-match', 4, '4')).toEqual({ ok: false, problem: 'exact-match needs a text answer, got a number (4)' });
  });

  it('gives a proportion its Wilson interval and a mean error a bootstrap interval', () => {
    // Wilson, 8 of 10 at 95%: 0.4902–0.9433 (worked by hand from its formula).
    const [low, high] = wilsonInterval(8, 10);
    expect(low).toBeCloseTo(0.4902, 4);
    expect(high).toBeCloseTo(0.9433, 4);
    expect(wilsonInterval(10, 10)[1]).toBe(1);
    expect(summarize('accuracy', [1, 1, 1, 1, 1, 1, 1, 1, 0, 0])).toMatchObject({ value: 0.8, examples: 10 });
    const errors = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    const mae = summarize('mean-absolute-error', errors);
    expect(mae.value).toBeCloseTo(0.55, 10);
    // The mean of resamples stays within the data; a 95% bootstrap of 10 values spans about ±2 standard errors (0.09 each).
    expect(mae.interval[0]).toBeGreaterThan(0.3);
    expect(mae.interval[0]).toBeLessThan(0.5);
    expect(mae.interval[1]).toBeGreaterThan(0.6);
    expect(mae.interval[1]).toBeLessThan(0.8);
    expect(bootstrapMeanInterval([2, 2, 2])).toEqual([2, 2]);
    // Seeded: the same figures every time.
    expect(summarize('mean-absolute-error', errors).interval).toEqual(mae.interval);
    expect(summarize('max-absolute-difference', [0.1, 0.4, 0.2])).toEqual({ value: 0.4, interval: [0.4, 0.4], examples: 3 });
  });

  it('judges the interval, not the estimate, and says how many examples would settle a close call', () => {
    const result = accuracyResult;
    expect(judgeQuality(result(0.9, [0.88, 0.917]), { min: 0.95 })).toEqual({
      status: 'misses',
      text: 'accuracy 0.900 (95% interval 0.880–0.917) < 0.950',
    });
    expect(judgeQuality(result(0.97, [0.958, 0.979]), { min: 0.95 }).status).toBe('meets');
    // 0.96 with its interval 0.02 below, 0.01 from the bound: four times the examples halve the interval.
    expect(examplesToSettle({ value: 0.96, interval: [0.94, 0.975], examples: 1000 }, 0.95)).toBe(4000);
    expect(judgeQuality(result(0.96, [0.94, 0.975]), { min: 0.95 })).toEqual({
      status: 'too-close',
      text: 'accuracy 0.960 (95% interval 0.940–0.975) too close to 0.950 to call; about 4,000 examples would settle it',
    });
    const mae = {
      metric: 'mean-absolute-error' as const,
      examples: 10,
      scored: 10,
      failedRequests: {},
      value: 0.02,
      interval: [0.01, 0.03] as [number, number],
    };
    expect(judgeQuality(mae, { max: 0.05 }).text).toBe('mean-absolute-error 0.020 (95% interval 0.010–0.030) ≤ 0.050');
    expect(judgeQuality({ ...mae, value: undefined, interval: undefined, problem: 'example 1: boom' }, { max: 0.05 })).toEqual({
      status: 'unknown',
      text: 'mean-absolute-error could not be measured: example 1: boom',
    });
  });
});

describe('reading an answer from a response', () => {
  it('follows a JSON pointer, and takes the argmax of a score list (of the first row of a batch)', () => {
    const body = JSON.stringify({ outputs: { probabilities: { dims: [1, 3], data: [0.1, 0.7, 0.2] } }, 'a/b': { '~x': 5 } });
    expect(readAnswer(body, '/outputs/probabilities/data', true)).toEqual({ ok: true, value: 1 });
    expect(readAnswer(body, '/outputs/probabilities/dims/1', false)).toEqual({ ok: true, value: 3 });
    expect(readAnswer(body, '/a~1b/~0x', false)).toEqual({ ok: true, value: 5 });
    expect(readAnswer('[[0.2, 0.9], [0.9, 0.1]]', '', true)).toEqual({ ok: true, value: 1 });
  });

  it('names the path and shows the response when the answer is not there', () => {
    const body = '{"outputs":{"scores":[0.1,0.9]}}';
    expect(readAnswer(body, '/outputs/probabilities', false)).toEqual({
      ok: false,
      problem: 'responsePath /outputs/probabilities: /outputs has no member "probabilities"; the response was {"outputs":{"scores":[0.1,0.9]}}',
    });
    expect(readAnswer(body, '/outputs/scores/2', false)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^responsePath \/outputs\/scores\/2: \/outputs\/scores is a list of 2, with no element "2"/),
    });
    expect(readAnswer(body, '/outputs/scores/0/x', false)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/\/outputs\/scores\/0 is a number \(0\.1\), not a list or an object/),
    });
    expect(readAnswer(body, '/outputs', true)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^responsePath \/outputs with argmax: needs a list of scores, got an object/),
    });
    expect(readAnswer('Internal error', '/x', false)).toEqual({ ok: false, problem: 'the response is not JSON: "Internal error"' });
    expect(parseJsonPointer('outputs')).toBe('must be a JSON pointer: empty, or starting with / (e.g. /outputs/0)');
    expect(parseJsonPointer('/a~2')).toBe('a ~ in a JSON pointer must be ~0 (for ~) or ~1 (for /)');
  });

  it('fails the measurement at the first unreadable answer, naming the example', async () => {
    const invoker = {
      invoke: () => Promise.resolve({ ok: true } as const),
      answer: (p: { body: string | Uint8Array }) =>
        Promise.resolve({ ok: true as const, body: Buffer.from(String(p.body).includes('"x":2') ? '{"oops":1}' : '{"label":1}') }),
    };
    const examples = [0, 1, 2, 3].map((x) => ({ body: JSON.stringify({ x }), expected: 1 }));
    const plan = { metric: 'accuracy' as const, responsePath: '/label', argmax: false, k: 5, contentType: 'application/json', examples };
    const { result } = await measureQuality(invoker, plan);
    expect(result.problem).toBe('example 3: responsePath /label: / has no member "label"; the response was {"oops":1}');
    expect(result.value).toBeUndefined();
    // Failed requests are wrong answers for a share metric, counted by error.
    const failing = {
      invoke: invoker.invoke,
      answer: () => Promise.resolve({ ok: false as const, failure: { kind: 'http' as const, status: 500 } }),
    };
    const { result: failed, kept } = await measureQuality(failing, { ...plan, examples: examples.slice(0, 2) });
    expect(kept).toEqual({ answers: [null, null], scores: [0, 0] });
    expect(failed).toMatchObject({ value: 0, scored: 2, failedRequests: { http_500: 2 } });
  });
});

describe('the quality dataset', () => {
  it('reads one example a line and names every bad line', () => {
    expect(parseQualityDataset('{"input": {"x": 1}, "expected": 1}\n\n{"input": "raw text", "expected": "a"}\n')).toEqual({
      examples: [
        { body: '{"x":1}', expected: 1 },
        { body: 'raw text', expected: 'a' },
      ],
      problems: [],
    });
    // Answers compared with a reference variant's need no labels.
    expect(parseQualityDataset('{"input": {"x": 1}}\n{"input": 2, "expected": 0}', false)).toEqual({
      examples: [{ body: '{"x":1}' }, { body: '2', expected: 0 }],
      problems: [],
    });
    const { examples, problems } = parseQualityDataset('{"input": 1}\nnot json\n[1]\n{"input": {}, "expected": 0}');
    expect(examples).toEqual([]);
    expect(problems).toEqual([
      'line 1: has no "expected": the right answer to score the response against',
      'line 2: is not JSON: not json',
      'line 3: must be an object with "input" (the request body) and "expected" (the right answer)',
    ]);
    expect(parseQualityDataset('\n\n').problems).toEqual(['has no examples: give one JSON object per line']);
    const many = Array.from({ length: LIMITS.qualityExamples + 1 }, () => '{"input":1,"expected":1}').join('\n');
    expect(parseQualityDataset(many).problems).toEqual(['has more than 10,000 examples; use a sample of them']);
  });
});

describe('quality compared with a reference variant', () => {
  const kept = (answers: unknown[], scores: Array<number | null> = answers.map(() => null)) => ({ answers, scores });
  const measured = (metric: 'agreement' | 'accuracy', n: number) => ({ metric, examples: n, scored: n, failedRequests: {} });

  it('scores agreement as the share of answers equal to the reference, leaving out what the reference failed', () => {
    const reference = { id: 'local-fp32', result: measured('agreement', 5), kept: kept([0, 1, 2, null, 4]) };
    // Compared on 4 examples (the reference failed the 4th): the 1st and 2nd agree, the 3rd differs, the candidate failed the 5th.
    const own = compareWithReference({ result: measured('agreement', 5), kept: kept([0, 1, 3, 3, null]) }, reference);
    expect(own).toMatchObject({ reference: 'local-fp32', scored: 4, value: 0.5, interval: wilsonInterval(2, 4) });
    expect(judgeQuality(own, { min: 0.99 }).text).toBe('agreement with local-fp32 0.500 (95% interval 0.150–0.850) < 0.990');
    // The reference agrees with itself on everything it answered.
    expect(compareWithReference(reference, reference)).toMatchObject({ value: 1, scored: 4 });
    expect(compareWithReference(reference, { ...reference, result: { ...reference.result, problem: 'example 1: boom' } }).problem).toBe(
      'the reference, local-fp32, has no answers to compare with: example 1: boom',
    );
  });

  it("takes a score as a share of the reference's with a paired interval, and judges it against maxDropFromReference", () => {
    // The reference is right on examples 0–979 of 1000; the candidate on 0–969 and 985–989: 975 against 980.
    const referenceScores = Array.from({ length: 1000 }, (_, i) => (i < 980 ? 1 : 0));
    const ownScores = Array.from({ length: 1000 }, (_, i) => (i < 970 || (i >= 985 && i < 990) ? 1 : 0));
    const reference = { id: 'local-fp32', result: { ...measured('accuracy', 1000), value: 0.98 }, kept: kept([], referenceScores) };
    const own = compareWithReference(
      { result: { ...measured('accuracy', 1000), value: 0.975, interval: [0.964, 0.983] }, kept: kept([], ownScores) },
      reference,
    );
    const { relative } = own;
    expect(relative?.referenceValue).toBe(0.98);
    expect(relative?.ratio).toBeCloseTo(975 / 980, 12);
    const [low, high] = relative!.interval;
    expect(low).toBeLessThan(975 / 980);
    expect(high).toBeGreaterThan(975 / 980);
    // Paired: only the 15 examples they differ on move it, so it is far narrower than two separate Wilson intervals (each about ±0.009).
    expect(high - low).toBeLessThan(0.02);
    expect(judgeQuality(own, { maxDropFromReference: 0.05 }).status).toBe('meets');
    expect(judgeQuality(own, { maxDropFromReference: 0.001 }).status).toBe('too-close');
    const worse = compareWithReference(
      {
        result: { ...measured('accuracy', 1000), value: 0.88, interval: [0.859, 0.898] },
        kept: kept(
          [],
          referenceScores.map((s, i) => (i < 880 ? s : 0)),
        ),
      },
      reference,
    );
    expect(judgeQuality(worse, { maxDropFromReference: 0.01 })).toEqual({
      status: 'misses',
      text: expect.stringMatching(
        /^accuracy 0\.880 \(95% interval 0\.859–0\.898\), 89\.8% of the reference local-fp32's 0\.980 \(95% interval 8\d\.\d%–9\d\.\d%\) < 99\.0%$/,
      ),
    });
    expect(judgeQuality({ ...measured('accuracy', 10), value: 0.9, interval: [0.6, 0.98] }, { maxDropFromReference: 0.01 }).status).toBe('unknown');
  });
});
