import { z } from 'zod';

import { measureQuality, type QualityResult } from '../../quality/measure-quality';
import type { QualityExample } from '../../spec/quality-dataset';
import type { DeployedEvent } from '../events';
import { type StepContext, withInvoker } from './context';

export const qualityOutput = z.object({
  /** Its answers scored against the spec's quality dataset; absent when the spec has no `quality`. */
  result: z.custom<QualityResult>((q) => typeof q === 'object' && q !== null).optional(),
});

/**
 * Sends the quality dataset through the deployed candidate and scores its answers, apart from the
 * load phases (these requests are not timed), so what the serving stack does to inputs and outputs
 * shows in the score.
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
  const result = await withInvoker(adapter, ctx.deploymentOf(e, run), run, (invoker) =>
    measureQuality(invoker, { ...quality, examples }, { signal: ctx.env.signal, seed: run.spec.seed }),
  );
  return { result };
}
