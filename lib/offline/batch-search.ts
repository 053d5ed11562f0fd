/**
 * The batch sizes an offline sweep searches (`offline.batch`): the spec's list, or doubling from 1
 * until throughput stops growing, by the rule the saturation search uses for concurrency. Each size
 * is one saturation search; this says which size comes next, from the best throughput of each
 * search so far.
 */
import { FLAT_PROBES_TO_STOP } from './saturation';

export interface BatchSettings {
  /** The sizes to search, in order. */
  readonly sizes?: readonly number[];
  /** Otherwise: double from 1 up to this. */
  readonly upTo?: number;
}

/**
 * The next size to search after searches whose best throughputs were `bests` (in order; 0 where no
 * probe kept its errors within the SLO), or undefined when the search is over. Doubling stops past
 * `upTo`, after a size that failed (a bigger one will not do better), or when two doublings in a row
 * each added less than `minGain` to the best before them.
 */
export function nextBatchSize(batch: BatchSettings, bests: readonly number[], minGain: number): number | undefined {
  if (batch.sizes) return batch.sizes[bests.length];
  const next = 2 ** bests.length;
  if (next > (batch.upTo ?? 1)) return undefined;
  if (bests.length > 0 && !(bests.at(-1)! > 0)) return undefined;
  let flat = 0;
  for (let i = bests.length - 1; i >= 1 && flat < FLAT_PROBES_TO_STOP; i--) {
    const before = Math.max(...bests.slice(0, i));
    if (bests[i]! >= (1 + minGain) * before) break;
    flat += 1;
  }
  return flat >= FLAT_PROBES_TO_STOP ? undefined : next;
}
