import { ModelsweepError } from '../errors';
import { exponential, seededRandom } from '../util/seeded-random';

export type Arrivals = 'poisson' | 'constant';

/**
 * The intended send times of an open-loop phase, in ms from its start: Poisson arrivals
 * (exponential gaps, as real independent users produce) or constant gaps. Seeded, so a
 * schedule can be replayed exactly.
 */
export function* arrivalOffsetsMs(rate: number, durationMs: number, arrivals: Arrivals, seed: number): Generator<number> {
  if (!(rate > 0)) throw new ModelsweepError('invalid-input', `rate must be above 0 requests/s, got ${rate}`);
  const random = seededRandom(seed);
  const meanGapMs = 1000 / rate;
  let t = arrivals === 'constant' ? 0 : exponential(random, rate) * 1000;
  while (t < durationMs) {
    yield t;
    t += arrivals === 'constant' ? meanGapMs : exponential(random, rate) * 1000;
  }
}
