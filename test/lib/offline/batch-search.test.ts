import { describe, expect, it } from 'vitest';

import { nextBatchSize } from '../../../lib/offline/batch-search';
import { maxBatchSearches } from '../../../lib/spec/expand';

describe('the batch sizes an offline sweep searches', () => {
  it('takes the listed sizes in order, whatever they measured', () => {
    const sizes = { sizes: [1, 16, 4] };
    expect(nextBatchSize(sizes, [], 0.1)).toBe(1);
    expect(nextBatchSize(sizes, [100], 0.1)).toBe(16);
    expect(nextBatchSize(sizes, [100, 90], 0.1)).toBe(4);
    expect(nextBatchSize(sizes, [100, 90, 80], 0.1)).toBeUndefined();
    expect(maxBatchSearches(sizes)).toBe(3);
  });

  it('doubles from 1 until two doublings in a row each add under minGain to the best before them', () => {
    const upTo = { upTo: 1024 };
    expect(nextBatchSize(upTo, [], 0.1)).toBe(1);
    // 100 → 180 → 300 → 320 (+6.7%): one flat doubling, go on.
    expect(nextBatchSize(upTo, [100, 180, 300, 320], 0.1)).toBe(16);
    // … → 330 (+3% over 320): two in a row, stop.
    expect(nextBatchSize(upTo, [100, 180, 300, 320, 330], 0.1)).toBeUndefined();
    // A doubling that fell, then one that grew 10% over the best: growing again.
    expect(nextBatchSize(upTo, [100, 180, 300, 250, 330], 0.1)).toBe(32);
    expect(maxBatchSearches(upTo)).toBe(11);
  });

  it('stops doubling past upTo, and after a size that kept no probe within the error SLO', () => {
    expect(nextBatchSize({ upTo: 8 }, [100, 200, 400, 800], 0.1)).toBeUndefined();
    expect(nextBatchSize({ upTo: 10 }, [100, 200, 400], 0.1)).toBe(8);
    // Batch 4 failed (its requests too large, say): 8 would do no better.
    expect(nextBatchSize({ upTo: 64 }, [100, 200, 0], 0.1)).toBeUndefined();
    expect(maxBatchSearches({ upTo: 10 })).toBe(4);
  });
});
