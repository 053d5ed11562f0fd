import { z } from 'zod';

import { type KeptAnswers, measureQuality, type QualityResult } from '../../quality/measure-quality';
import { compareWithReference, type ReferenceAnswers } from '../../quality/reference-quality';
import type { QualityExample } from '../../spec/quality-dataset';
import type { SweepSpec } from '../../spec/schema';
import type { CandidateRecord } from '../../store/results-store';
import { BlobNotFound, type BlobStore } from '../blob-store';
import type { DeployedEvent } from '../events';
import { type StepContext, withInvoker } from './context';

export const qualityOutput = z.object({
  /** Its answers scored against the spec's quality dataset; absent when the spec has no `quality`. */
  result: z.custom<QualityResult>((q) => typeof q === 'object' && q !== null).optional(),
});

/**
 * Where a candidate's answers are kept, for a comparison with the reference variant's: one key per
 * measurement, so a candidate measured again (a resumed sweep) cannot be judged by an old comparison.
 */
const answersKey = (sweepId: string, candidateId: string, at: Date): string => `sweeps/${sweepId}/answers/${candidateId}-${at.getTime()}.json`;

/** Where the comparison of one measurement's answers with one of the reference's is kept, once computed. */
const comparisonKey = (answers: string, reference: string): string =>
  `${answers.replace(/\.json$/, '')}.vs.${reference.slice(reference.lastIndexOf('/') + 1)}`;

/**
 * Sends the quality dataset through the deployed candidate and scores its answers, apart from the
 * load phases (these requests are not timed), so what the serving stack does to inputs and outputs
 * shows in the score. Where answers are compared with a reference variant's, they are kept in the
 * blob store (up to 10,000 of them: too many for the candidate's record).
 */
export async function measureCandidateQuality(e: DeployedEvent, ctx: StepContext): Promise<z.output<typeof qualityOutput>> {
  const run = await ctx.runOf(e.sweepId);
  const { quality } = run.spec;
  const staged = run.record.qualityDataset;
  if (!quality || !staged || ctx.env.signal?.aborted) return {};
  // Read here only, not with the run: no other step needs the dataset (up to 64 MiB).
  const examples = (await ctx.env.blobs.get(staged.key))
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as QualityExample);
  const adapter = ctx.adapterOf(e.candidate);
  const { result, kept } = await withInvoker(adapter, ctx.deploymentOf(e, run), run, (invoker) =>
    measureQuality(invoker, { ...quality, examples }, { signal: ctx.env.signal, seed: run.spec.seed }),
  );
  if (quality.reference === undefined) return { result };
  const key = answersKey(e.sweepId, e.candidate.id, ctx.now());
  await ctx.env.blobs.put(key, JSON.stringify(kept), 'application/json');
  return { result: { ...result, answersKey: key } };
}

/**
 * The records with each candidate's quality compared with the reference variant's (`quality.reference`):
 * the reference is the first candidate of that variant, in the spec's order, whose answers were
 * read. Until one is, every candidate's quality is unknown, saying so. Without a reference, the
 * records as they are.
 */
export async function withReferenceQuality(
  spec: SweepSpec,
  records: readonly CandidateRecord[],
  blobs: BlobStore,
): Promise<readonly CandidateRecord[]> {
  const variant = spec.quality?.reference;
  if (variant === undefined) return records;
  const ofVariant = records.filter((r) => r.candidate.variant === variant);
  const chosen = ofVariant.find((r) => r.status === 'measured' && r.quality?.answersKey && r.quality.problem === undefined);
  const keptOf = async (r: CandidateRecord): Promise<KeptAnswers> =>
    JSON.parse((await blobs.get(r.quality!.answersKey!)).toString('utf8')) as KeptAnswers;
  if (!chosen) {
    const why =
      ofVariant.length === 0
        ? `no candidate of the reference variant ${variant} has been measured yet`
        : `no candidate of the reference variant ${variant} has answers to compare with: ${ofVariant
            .map((r) => `${r.candidate.id} ${r.quality?.problem ?? r.reason ?? r.status}`)
            .join('; ')}`;
    return records.map((r) => (r.quality && r.quality.problem === undefined ? { ...r, quality: { ...r.quality, problem: why } } : r));
  }
  // Each comparison is kept beside the answers, so later waves read one small result, not thousands of answers twice.
  let reference: ReferenceAnswers | undefined;
  const compared: CandidateRecord[] = [];
  // One candidate's answers at a time: each may be thousands of them.
  for (const r of records) {
    if (!r.quality?.answersKey || r.quality.problem !== undefined) {
      compared.push(r);
      continue;
    }
    const key = comparisonKey(r.quality.answersKey, chosen.quality!.answersKey!);
    let quality = await blobs.get(key).then(
      (body) => JSON.parse(body.toString('utf8')) as QualityResult,
      (error: unknown) => {
        if (error instanceof BlobNotFound) return undefined;
        throw error;
      },
    );
    if (!quality) {
      reference ??= { id: chosen.candidate.id, result: chosen.quality!, kept: await keptOf(chosen) };
      quality = compareWithReference({ result: r.quality, kept: r === chosen ? reference.kept : await keptOf(r) }, reference, spec.seed);
      await blobs.put(key, JSON.stringify(quality), 'application/json');
    }
    compared.push({ ...r, quality });
  }
  return compared;
}
