import { formatQuality } from '../format/format';
import type { QualityResult } from './measure-quality';
import { examplesToSettle, isProportion } from './metrics';

/** The quality SLO: `min` for a share of right answers, `max` for an error, `maxDropFromReference` for a share of the reference's score. */
export interface QualitySlo {
  readonly min?: number;
  readonly max?: number;
  readonly maxDropFromReference?: number;
}

export type QualityCall = 'meets' | 'misses' | 'too-close' | 'unknown';

/** What is judged against a bound: an estimate, its 95% interval, how many examples it rests on, and how to say it. */
interface Judged {
  readonly value: number;
  readonly interval: readonly [number, number];
  readonly examples: number;
  readonly bound: number;
  /** Higher is better (a share), or lower (an error). */
  readonly higherIsBetter: boolean;
  readonly figure: string;
  readonly say: (value: number) => string;
}

/**
 * How a candidate's measured quality stands against the SLO: `meets` when the whole 95% interval
 * clears the bound, `misses` when the whole of it is on the wrong side, `too-close` when the bound
 * is inside it (never a silent pass), `unknown` when the answers could not be scored. `text` says
 * it with the figures: "accuracy 0.912 (95% interval 0.897–0.925) < 0.950". With
 * `maxDropFromReference`, what is judged is its score as a share of the reference's.
 */
export function judgeQuality(result: QualityResult, slo: QualitySlo): { status: QualityCall; text: string } {
  const { metric } = result;
  if (result.problem !== undefined || result.value === undefined || result.interval === undefined)
    return { status: 'unknown', text: `${metric} could not be measured: ${result.problem ?? 'no answer was scored'}` };
  const failed = Object.values(result.failedRequests).reduce((a, b) => a + b, 0);
  const failures = failed > 0 ? `; ${failed} of ${result.examples} requests failed and count as wrong` : '';
  const own = `${metric} ${formatQuality(result.value)}${interval(result.interval, formatQuality)}`;
  let judged: Judged;
  if (slo.maxDropFromReference !== undefined) {
    const { relative } = result;
    if (!relative) return { status: 'unknown', text: `${metric} ${formatQuality(result.value)} was not compared with the reference variant's` };
    judged = {
      value: relative.ratio,
      interval: relative.interval,
      examples: result.scored,
      bound: 1 - slo.maxDropFromReference,
      higherIsBetter: true,
      figure: `${own}, ${percent(relative.ratio)} of the reference ${result.reference}'s ${formatQuality(relative.referenceValue)}${interval(relative.interval, percent)}`,
      say: percent,
    };
  } else {
    const proportion = isProportion(metric);
    const versus = result.reference !== undefined && metric === 'agreement' ? ` with ${result.reference}` : '';
    judged = {
      value: result.value,
      interval: result.interval,
      examples: result.scored,
      bound: (proportion ? slo.min : slo.max) ?? (proportion ? 0 : Number.POSITIVE_INFINITY),
      higherIsBetter: proportion,
      figure: `${metric}${versus} ${formatQuality(result.value)}${interval(result.interval, formatQuality)}`,
      say: formatQuality,
    };
  }
  return call(judged, failures);
}

function call(j: Judged, failures: string): { status: QualityCall; text: string } {
  const [low, high] = j.interval;
  const bound = j.say(j.bound);
  const clears = j.higherIsBetter ? low >= j.bound : high <= j.bound;
  const fails = j.higherIsBetter ? high < j.bound : low > j.bound;
  if (clears) return { status: 'meets', text: `${j.figure} ${j.higherIsBetter ? '≥' : '≤'} ${bound}${failures}` };
  if (fails) return { status: 'misses', text: `${j.figure} ${j.higherIsBetter ? '<' : '>'} ${bound}${failures}` };
  const settle = examplesToSettle({ value: j.value, interval: j.interval, examples: j.examples }, j.bound);
  return {
    status: 'too-close',
    text: `${j.figure} too close to ${bound} to call${failures}; ${
      settle === undefined ? 'its estimate sits on the bound' : `about ${settle.toLocaleString('en-US')} examples would settle it`
    }`,
  };
}

/** " (95% interval low–high)", or nothing for an interval that is a point (a maximum seen). */
function interval([low, high]: readonly [number, number], say: (value: number) => string): string {
  return low === high ? '' : ` (95% interval ${say(low)}–${say(high)})`;
}

const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;

/**
 * The quality SLO in words, for what a sweep measures against: "accuracy at least 0.950",
 * "agreement with the reference fp32's answers at least 0.990", "accuracy at least 99.0% of the reference fp32's".
 */
export function qualitySloText(q: { readonly metric: string; readonly reference?: string } & QualitySlo): string {
  if (q.maxDropFromReference !== undefined) return `${q.metric} at least ${percent(1 - q.maxDropFromReference)} of the reference ${q.reference}'s`;
  const versus = q.metric === 'agreement' ? ` with the reference ${q.reference}'s answers` : '';
  return `${q.metric}${versus} ${q.min !== undefined ? `at least ${formatQuality(q.min)}` : `at most ${formatQuality(q.max ?? Number.POSITIVE_INFINITY)}`}`;
}
