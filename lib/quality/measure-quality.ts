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
  readonly examples: ReadonlyArray<{ readonly body: string; readonly expected: unknown }>;
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
}

/** Examples in flight at once: answers are read, not timed, so a few at a time keeps a slow target from taking long. */
const IN_FLIGHT = 4;

/**
 * Sends each example through the deployed candidate and scores its answer. Stops at the first
 * answer it cannot read (a response that is not JSON, a path into nothing, a metric given the
 * wrong type): that is a serving or configuration fault, said once with the response that showed it.
 */
export async function measureQuality(
  invoker: Invoker,
  plan: QualityPlan,
  options: { signal?: AbortSignal; seed?: number } = {},
): Promise<QualityResult> {
  const { metric } = plan;
  const answer = invoker.answer?.bind(invoker);
  if (!answer)
    return { metric, examples: 0, scored: 0, failedRequests: {}, problem: 'this kind of candidate returns no response body to read answers from' };
  const scores: number[] = new Array<number>(plan.examples.length);
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
        const scored = read.ok ? scoreExample(metric, read.value, example.expected, plan.k) : read;
        if (!scored.ok) problem ??= `example ${i + 1}: ${scored.problem}`;
        else scores[i] = scored.score;
      }),
    ),
  );
  const kept = scores.filter((s) => s !== undefined);
  const failed = Object.values(failedRequests).reduce((a, b) => a + b, 0);
  const base = { metric, examples: sent, scored: kept.length, failedRequests };
  if (problem !== undefined) return { ...base, problem };
  if (options.signal?.aborted) return { ...base, problem: 'interrupted before every example was sent' };
  if (!isProportion(metric) && failed > 0)
    return {
      ...base,
      problem: `${failed} of ${sent} quality requests failed (${Object.entries(failedRequests)
        .map(([k, n]) => `${k} ×${n}`)
        .join(', ')}), so their errors are unknown`,
    };
  if (kept.length === 0) return { ...base, problem: 'no example was scored' };
  const summary = summarize(metric, kept, options.seed);
  return { ...base, value: summary.value, interval: summary.interval };
}
