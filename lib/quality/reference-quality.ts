import type { KeptAnswers, QualityResult } from './measure-quality';
import { bootstrapInterval, sameValue, wilsonInterval } from './metrics';

/** The reference candidate: the one of the reference variant whose answers the others are compared with. */
export interface ReferenceAnswers {
  readonly id: string;
  readonly result: QualityResult;
  readonly kept: KeptAnswers;
}

/**
 * A candidate's quality compared with the reference's, on the same examples:
 * - `agreement`: the share of examples whose answer equals the reference's (an example the
 *   reference failed is left out; one the candidate failed counts as disagreeing), with its
 *   Wilson interval;
 * - any other share metric (for `slo.maxDropFromReference`): its score as a share of the
 *   reference's over the examples both scored, with a paired bootstrap interval: an example
 *   both got right or both got wrong moves neither, so the interval is as narrow as their
 *   differences allow, much narrower than two separate intervals.
 * A reference whose answers could not be scored leaves the candidate's quality unknown, saying why.
 */
export function compareWithReference(own: { result: QualityResult; kept: KeptAnswers }, reference: ReferenceAnswers, seed = 1): QualityResult {
  const base: QualityResult = { ...own.result, reference: reference.id };
  if (own.result.problem !== undefined) return base;
  if (reference.result.problem !== undefined)
    return { ...base, problem: `the reference, ${reference.id}, has no answers to compare with: ${reference.result.problem}` };
  if (own.result.metric === 'agreement') {
    const n = Math.min(own.kept.answers.length, reference.kept.answers.length);
    let compared = 0;
    let agreed = 0;
    for (let i = 0; i < n; i++) {
      const theirs = reference.kept.answers[i];
      if (theirs === null || theirs === undefined) continue;
      compared++;
      const mine = own.kept.answers[i];
      if (mine !== null && mine !== undefined && sameValue(mine, theirs)) agreed++;
    }
    if (compared === 0) return { ...base, problem: `the reference, ${reference.id}, answered none of the examples` };
    return { ...base, scored: compared, value: agreed / compared, interval: wilsonInterval(agreed, compared) };
  }
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < Math.min(own.kept.scores.length, reference.kept.scores.length); i++) {
    const mine = own.kept.scores[i];
    const theirs = reference.kept.scores[i];
    if (typeof mine === 'number' && typeof theirs === 'number' && Number.isFinite(mine) && Number.isFinite(theirs)) pairs.push([mine, theirs]);
  }
  const sumOwn = pairs.reduce((a, [m]) => a + m, 0);
  const sumReference = pairs.reduce((a, [, t]) => a + t, 0);
  if (sumReference === 0)
    return { ...base, problem: `the reference, ${reference.id}, scored 0 on the examples both answered, so no share of it can be taken` };
  const interval = bootstrapInterval(
    pairs.length,
    (pick) => {
      let m = 0;
      let t = 0;
      for (let r = 0; r < pairs.length; r++) {
        const [a, b] = pairs[pick()]!;
        m += a;
        t += b;
      }
      return m / t;
    },
    seed,
  );
  return { ...base, relative: { referenceValue: sumReference / pairs.length, ratio: sumOwn / sumReference, interval } };
}
