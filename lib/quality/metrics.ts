import { seededRandom } from '../util/seeded-random';

/**
 * How an answer is scored against what was expected:
 * - `accuracy`: the prediction equals the expected value (after `argmax`, a class index);
 * - `top-k`: the expected class index is among the prediction's k highest scores;
 * - `exact-match`: the predicted text equals the expected text, outer whitespace aside;
 * - `mean-absolute-error`: the mean |prediction − expected| over the values of an answer, then over answers;
 * - `max-absolute-difference`: the largest |prediction − expected| of any value of any answer;
 * - `agreement`: the answer equals the reference variant's answer to the same input (no labels needed).
 */
export const QUALITY_METRICS = ['accuracy', 'top-k', 'exact-match', 'mean-absolute-error', 'max-absolute-difference', 'agreement'] as const;
export type QualityMetric = (typeof QUALITY_METRICS)[number];

/** Metrics that are a share of answers (higher is better, bounded by `min`); the others are errors (lower is better, bounded by `max`). */
export const PROPORTION_METRICS: ReadonlySet<QualityMetric> = new Set(['accuracy', 'top-k', 'exact-match', 'agreement']);

export const isProportion = (metric: QualityMetric): boolean => PROPORTION_METRICS.has(metric);

/** The confidence of every quality interval. */
export const QUALITY_CONFIDENCE = 0.95;

/** The standard normal's 97.5th percentile, for 95% intervals (simple-statistics' probit gives 1.9572, 0.14% short). */
export const Z_95 = 1.959963984540054;

/** One answer's score: 1 or 0 for a proportion, an absolute error otherwise; or why it cannot be scored. */
export type ExampleScore = { readonly ok: true; readonly score: number } | { readonly ok: false; readonly problem: string };

/**
 * Scores one prediction (already read from the response, and argmax'd where asked) against the
 * expected value.
 */
export function scoreExample(metric: QualityMetric, prediction: unknown, expected: unknown, k = 1): ExampleScore {
  switch (metric) {
    case 'accuracy':
    case 'agreement':
      return { ok: true, score: sameValue(prediction, expected) ? 1 : 0 };
    case 'exact-match':
      if (typeof prediction !== 'string') return { ok: false, problem: `exact-match needs a text answer, got ${describe(prediction)}` };
      return { ok: true, score: typeof expected === 'string' && prediction.trim() === expected.trim() ? 1 : 0 };
    case 'top-k': {
      const scores = numbers(prediction);
      if (!scores) return { ok: false, problem: `top-k needs a list of scores, got ${describe(prediction)}` };
      if (typeof expected !== 'number' || !Number.isInteger(expected))
        return { ok: false, problem: `top-k needs a class index as expected, got ${describe(expected)}` };
      const own = scores[expected];
      if (own === undefined) return { ok: true, score: 0 };
      // Its rank: how many classes score strictly higher (a tie does not push it out).
      const higher = scores.filter((s) => s > own).length;
      return { ok: true, score: higher < k ? 1 : 0 };
    }
    case 'mean-absolute-error':
    case 'max-absolute-difference': {
      const got = numbers(prediction);
      const want = numbers(expected);
      if (!got) return { ok: false, problem: `${metric} needs a number or a list of numbers, got ${describe(prediction)}` };
      if (!want) return { ok: false, problem: `${metric} needs a number or a list of numbers as expected, got ${describe(expected)}` };
      if (got.length !== want.length) return { ok: false, problem: `the answer has ${got.length} values, the expected ${want.length}` };
      const differences = got.map((g, i) => Math.abs(g - want[i]!));
      return {
        ok: true,
        score: metric === 'mean-absolute-error' ? differences.reduce((a, b) => a + b, 0) / differences.length : Math.max(...differences),
      };
    }
  }
}

/** A quality figure over the examples scored: the metric's value and its 95% interval. */
export interface QualitySummary {
  readonly value: number;
  /** [low, high]; for `max-absolute-difference`, the value itself: it is the largest seen, not an estimate. */
  readonly interval: readonly [number, number];
  readonly examples: number;
}

/**
 * The metric over the scores: a proportion with its Wilson score interval (sound for small samples
 * and near 0 or 1, where the normal approximation is not), a mean absolute error with a percentile
 * bootstrap (2000 resamples, seeded, so a sweep's figures repeat), a maximum as it is.
 */
export function summarize(metric: QualityMetric, scores: readonly number[], seed = 1): QualitySummary {
  const n = scores.length;
  if (n === 0) return { value: Number.NaN, interval: [Number.NaN, Number.NaN], examples: 0 };
  if (metric === 'max-absolute-difference') {
    const max = Math.max(...scores);
    return { value: max, interval: [max, max], examples: n };
  }
  const mean = scores.reduce((a, b) => a + b, 0) / n;
  if (isProportion(metric)) return { value: mean, interval: wilsonInterval(mean * n, n), examples: n };
  return { value: mean, interval: bootstrapMeanInterval(scores, seed), examples: n };
}

/** The Wilson score interval of `successes` out of `n`, at 95%. */
export function wilsonInterval(successes: number, n: number): [number, number] {
  const z = Z_95;
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  // All right (or all wrong) is an interval that ends at 1 (or 0) exactly, whatever rounding says.
  return [successes === 0 ? 0 : Math.max(0, centre - half), successes === n ? 1 : Math.min(1, centre + half)];
}

const RESAMPLES = 2000;

/** A percentile bootstrap interval of the mean. */
export function bootstrapMeanInterval(values: readonly number[], seed = 1, confidence = QUALITY_CONFIDENCE): [number, number] {
  return bootstrapInterval(
    values.length,
    (pick) => {
      let sum = 0;
      for (let i = 0; i < values.length; i++) sum += values[pick()]!;
      return sum / values.length;
    },
    seed,
    confidence,
  );
}

/**
 * A percentile bootstrap interval of a statistic of n items: `statistic` is given `pick`, which
 * draws an item's index with replacement, and computes the statistic over n draws. Resamples
 * whose statistic is not finite are left out.
 */
export function bootstrapInterval(n: number, statistic: (pick: () => number) => number, seed = 1, confidence = QUALITY_CONFIDENCE): [number, number] {
  const random = seededRandom(seed);
  const pick = () => Math.floor(random() * n);
  const values: number[] = [];
  for (let r = 0; r < RESAMPLES; r++) {
    const value = statistic(pick);
    if (Number.isFinite(value)) values.push(value);
  }
  if (values.length === 0) return [Number.NaN, Number.NaN];
  const sorted = Float64Array.from(values).sort();
  const tail = (1 - confidence) / 2;
  return [sorted[Math.floor(tail * (sorted.length - 1))]!, sorted[Math.ceil((1 - tail) * (sorted.length - 1))]!];
}

/**
 * About how many examples would make the interval clear `bound`, were the value to stay where it
 * is: the interval narrows as 1/√n. Undefined when the value sits on the bound (no sample settles it).
 */
export function examplesToSettle(summary: QualitySummary, bound: number): number | undefined {
  const distance = Math.abs(summary.value - bound);
  if (distance === 0 || !Number.isFinite(distance)) return undefined;
  const [low, high] = summary.interval;
  // The half-width on the bound's side.
  const half = summary.value > bound ? summary.value - low : high - summary.value;
  if (half <= distance) return summary.examples;
  return Math.ceil(summary.examples * (half / distance) ** 2);
}

/** A number, or a list of numbers (nested lists flattened), as numbers; undefined otherwise. */
function numbers(value: unknown): number[] | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? [value] : undefined;
  if (!Array.isArray(value)) return undefined;
  const flat = (value as unknown[]).flat(Infinity);
  return flat.length > 0 && flat.every((v) => typeof v === 'number' && Number.isFinite(v)) ? (flat as number[]) : undefined;
}

/** Whether two answers are the same: texts outer whitespace aside, anything else by its JSON. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.trim() === b.trim();
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A short description of a value for an error: its type and the start of its JSON. */
export function describe(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  const kind = Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  return `${kind} (${json.length > 80 ? `${json.slice(0, 80)}…` : json})`;
}
