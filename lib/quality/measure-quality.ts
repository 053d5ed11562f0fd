import { failureKey, type Invoker } from '../load/invoker';
import { Semaphore } from '../util/semaphore';
import { isProportion, type QualityMetric, scoreExample, summarize } from './metrics';
import { readAnswer } from './response-path';

/** What a quality measurement is told: the metric, where answers are, and the examples to send. */
export interface QualityPlan {
  readonly metric: QualityMetric;
  readonly responsePath: string;
  readonly argmax: boolean;
  readonly k: number;
  readonly contentType: string;
  readonly examples: ReadonlyArray<{ readonly body: string; readonly expected?: unknown }>;
}

/** A candidate's answers, scored: what is recorded with it, and what selection judges by its quality SLO. */
export interface QualityResult {
  readonly metric: QualityMetric;
  /** Examples sent. */
  readonly examples: number;
  /** Of those, answers scored; a failed request is scored wrong for a share metric, and not scored for an error. */
  readonly scored: number;
  /** Requests that failed, by error (`http_500`, `timeout`). */
  readonly failedRequests: Readonly<Record<string, number>>;
  /** The metric over the scored answers, and its 95% interval (absent when nothing could be scored). */
  readonly value?: number;
  readonly interval?: readonly [number, number];
  /** Why the answers could not be scored, naming the example and showing its response: the candidate's quality is then unknown. */
  readonly problem?: string;
  /** Where its answers are kept (a blob key), for a comparison with the reference variant's. */
  readonly answersKey?: string;
  /** The reference candidate its answers were compared with (`metric: agreement`, `slo.maxDropFromReference`). */
  readonly reference?: string;
  /** Its score as a share of the reference candidate's on the same examples (`slo.maxDropFromReference`). */
  readonly relative?: RelativeQuality;
}

/** A score as a share of the reference's, on the examples both scored: 0.995 is a drop of 0.5%. */
export interface RelativeQuality {
  readonly referenceValue: number;
  readonly ratio: number;
  /** The ratio's 95% interval: a paired bootstrap over the examples, so what both got right or wrong does not widen it. */
  readonly interval: readonly [number, number];
}

/**
 * Each example's answer as read (null where its request failed) and its score (null where not
 * scored): what a comparison with the reference needs.
 */
export interface KeptAnswers {
  readonly answers: readonly unknown[];
  readonly scores: ReadonlyArray<number | null>;
}

/** A quality measurement: the figures recorded with the candidate, and the answers they came from. */
export interface MeasuredQuality {
  readonly result: QualityResult;
  readonly kept: KeptAnswers;
}

/** Examples in flight at once: answers are read, not timed, so a few at a time keeps a slow target from taking long. */
const IN_FLIGHT = 4;

/**
 * Sends each example through the deployed candidate and scores its answer. Stops at the first
 * answer it cannot read (a response that is not JSON, a path into nothing, a metric given the
 * wrong type): that is a serving or configuration fault, said once with the response that showed it.
 * `agreement` is not scored here: its right answers are the reference's (see reference-quality).
 */
export async function measureQuality(
  invoker: Invoker,
  plan: QualityPlan,
  options: { signal?: AbortSignal; seed?: number } = {},
): Promise<MeasuredQuality> {
  const { metric } = plan;
  const answer = invoker.answer?.bind(invoker);
  const scores: number[] = new Array<number>(plan.examples.length);
  const answers: unknown[] = new Array<unknown>(plan.examples.length).fill(null);
  const kept = (): KeptAnswers => ({ answers, scores: Array.from(scores, (s) => s ?? null) });
  if (!answer)
    return {
      result: { metric, examples: 0, scored: 0, failedRequests: {}, problem: 'this kind of candidate returns no response body to read answers from' },
      kept: kept(),
    };
  const failedRequests: Record<string, number> = {};
  let problem: string | undefined;
  let sent = 0;
  const slots = new Semaphore(IN_FLIGHT);
  await Promise.all(
    plan.examples.map((example, i) =>
      slots.run(async () => {
        if (problem !== undefined || options.signal?.aborted) return;
        sent++;
        const outcome = await answer({ body: example.body, contentType: plan.contentType });
        if (!outcome.ok) {
          const key = failureKey(outcome.failure);
          failedRequests[key] = (failedRequests[key] ?? 0) + 1;
          if (isProportion(metric)) scores[i] = 0;
          return;
        }
        const read = readAnswer(outcome.body, plan.responsePath, plan.argmax);
        if (read.ok) answers[i] = read.value;
        const scored = !read.ok
          ? read
          : metric === 'agreement'
            ? { ok: true as const, score: Number.NaN }
            : scoreExample(metric, read.value, example.expected, plan.k);
        if (!scored.ok) problem ??= `example ${i + 1}: ${scored.problem}`;
        else scores[i] = scored.score;
      }),
    ),
  );
  return {
    result: scoreAnswers(metric, { sent, scores, failedRequests, problem, aborted: options.signal?.aborted === true }, options.seed),
    kept: kept(),
  };
}

/** The result over the scores of the examples sent: the metric's summary, or why there is none. */
function scoreAnswers(
  metric: QualityMetric,
  measured: { sent: number; scores: readonly (number | undefined)[]; failedRequests: Record<string, number>; problem?: string; aborted: boolean },
  seed: number | undefined,
): QualityResult {
  const { sent, failedRequests, problem } = measured;
  // An agreement's answers are read (NaN marks one) and scored later, against the reference's.
  const scored = measured.scores.filter((s): s is number => s !== undefined);
  const failed = Object.values(failedRequests).reduce((a, b) => a + b, 0);
  const base = { metric, examples: sent, scored: scored.length, failedRequests };
  if (problem !== undefined) return { ...base, problem };
  if (measured.aborted) return { ...base, problem: 'interrupted before every example was sent' };
  if (!isProportion(metric) && failed > 0)
    return {
      ...base,
      problem: `${failed} of ${sent} quality requests failed (${Object.entries(failedRequests)
        .map(([k, n]) => `${k} ×${n}`)
        .join(', ')}), so their errors are unknown`,
    };
  if (scored.length === 0) return { ...base, problem: 'no example was scored' };
  if (metric === 'agreement') return base;
  const summary = summarize(metric, scored, seed);
  return { ...base, value: summary.value, interval: summary.interval };
}
