import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { KeptAnswers, QualityResult } from '../../../lib/quality/measure-quality';
import type { SweepSpec } from '../../../lib/spec/schema';
import type { CandidateRecord } from '../../../lib/store/results-store';
import { type BlobStore, folderBlobStore } from '../../../lib/workflow/blob-store';
import { withReferenceQuality } from '../../../lib/workflow/steps/quality';

const spec = { quality: { reference: 'fp32' }, seed: 1 } as unknown as SweepSpec;

/** A blob store that counts the reads of each key. */
function countingStore(): { blobs: BlobStore; reads: Map<string, number> } {
  const inner = folderBlobStore(mkdtempSync(join(tmpdir(), 'reference-quality-')));
  const reads = new Map<string, number>();
  return {
    reads,
    blobs: { ...inner, get: (key) => (reads.set(key, (reads.get(key) ?? 0) + 1), inner.get(key)) },
  };
}

async function recordOf(blobs: BlobStore, id: string, variant: string, answers: string[], at: number): Promise<CandidateRecord> {
  const answersKey = `sweeps/s/answers/${id}-${at}.json`;
  const kept: KeptAnswers = { answers, scores: answers.map(() => null) };
  await blobs.put(answersKey, JSON.stringify(kept));
  const quality: QualityResult = { metric: 'agreement', examples: answers.length, scored: 0, failedRequests: {}, answersKey };
  return { candidate: { id, variant }, status: 'measured', quality } as unknown as CandidateRecord;
}

describe('the comparison with the reference variant', () => {
  it('reads the answers once: later waves read the kept comparison, and a candidate measured again is compared again', async () => {
    const { blobs, reads } = countingStore();
    const reference = await recordOf(blobs, 'fp32-a', 'fp32', ['a', 'b', 'c', 'd'], 1);
    const int8 = await recordOf(blobs, 'int8-a', 'int8', ['a', 'b', 'x', 'd'], 1);
    const first = await withReferenceQuality(spec, [reference, int8], blobs);
    expect(first.map((r) => r.quality?.value)).toEqual([1, 0.75]);
    expect(reads.get(reference.quality!.answersKey!)).toBe(1);
    expect(reads.get(int8.quality!.answersKey!)).toBe(1);

    reads.clear();
    const again = await withReferenceQuality(spec, [reference, int8], blobs);
    expect(again.map((r) => r.quality)).toEqual(first.map((r) => r.quality));
    expect([...reads.keys()].some((key) => key === reference.quality!.answersKey || key === int8.quality!.answersKey)).toBe(false);

    // Measured again (a resumed sweep): its new answers are compared, not the old comparison reused.
    const int8Again = await recordOf(blobs, 'int8-a', 'int8', ['a', 'y', 'x', 'd'], 2);
    const resumed = await withReferenceQuality(spec, [reference, int8Again], blobs);
    expect(resumed[1]!.quality?.value).toBe(0.5);
  });
});
