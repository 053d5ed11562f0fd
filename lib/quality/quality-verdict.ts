import { formatQuality } from '../format/format';
import type { QualityResult } from './measure-quality';
import { examplesToSettle, isProportion } from './metrics';

/** The quality SLO: `min` for a share of right answers, `max` for an error. */
export interface QualitySlo {
  readonly min?: number;
  readonly max?: number;
}

/**
 * How a candidate's measured quality stands against the SLO: `meets` when the whole 95% interval
 * clears the bound, `misses` when the whole of it is on the wrong side, `too-close` when the bound
 * is inside it (never a silent pass), `unknown` when the answers could not be scored. `text` says
 * it with the figures: "accuracy 0.912 (95% interval 0.897–0.925) < 0.95".
 */
export function judgeQuality(result: QualityResult, slo: QualitySlo): { status: 'meets' | 'misses' | 'too-close' | 'unknown'; text: string } {
  const { metric } = result;
  if (result.problem !== undefined || result.value === undefined || result.interval === undefined)
    return { status: 'unknown', text: `${metric} could not be measured: ${result.problem ?? 'no answer was scored'}` };
  const proportion = isProportion(metric);
  const bound = (proportion ? slo.min : slo.max) ?? (proportion ? 0 : Number.POSITIVE_INFINITY);
  const [low, high] = result.interval;
  const figure = `${metric} ${formatQuality(result.value)}${low === high ? '' : ` (95% interval ${formatQuality(low)}–${formatQuality(high)})`}`;
  const failed = Object.values(result.failedRequests).reduce((a, b) => a + b, 0);
  const failures = failed > 0 ? `; ${failed} of ${result.examples} requests failed and count as wrong` : '';
  const clears = proportion ? low >= bound : high <= bound;
  const fails = proportion ? high < bound : low > bound;
  if (clears) return { status: 'meets', text: `${figure} ${proportion ? '≥' : '≤'} ${formatQuality(bound)}${failures}` };
  if (fails) return { status: 'misses', text: `${figure} ${proportion ? '<' : '>'} ${formatQuality(bound)}${failures}` };
  const settle = examplesToSettle({ value: result.value, interval: result.interval, examples: result.scored }, bound);
  return {
    status: 'too-close',
    text: `${figure} too close to ${formatQuality(bound)} to call${failures}; ${
      settle === undefined ? 'its estimate sits on the bound' : `about ${settle.toLocaleString('en-US')} examples would settle it`
    }`,
  };
}
