import { z } from 'zod';

import { firstProbe } from '../../load/capacity-search';
import { weightedPayloadPicker } from '../../load/invoker';
import { runPhase } from '../../load/phase';
import { firstSaturationState } from '../../offline/saturation';
import type { ColdStart } from '../../store/results-store';
import { type DeployedEvent, searchState } from '../events';
import { warmupOf } from '../load-plans';
import { probeColdStart } from './cold-start';
import { type StepContext, withInvoker } from './context';
import { phaseShardsOf } from './phases';

const coldStart = z.custom<ColdStart>((c) => typeof c === 'object' && c !== null);

export const warmUpOutput = z.object({
  /** The first request after deploy, timed alone, on platforms that scale per request. */
  coldStarts: z.array(coldStart),
  /** The spec's phases, each with the generators that run it. */
  phases: z.array(z.object({ phase: z.number().int(), shards: z.array(z.object({ shard: z.number().int(), of: z.number().int() })) })),
  /** The rate search's state before its first probe. */
  search: searchState,
});

/** Times the cold start where the kind has one, runs the spec's warm-up, and plans the phases and the rate search. */
export async function warmUp(e: DeployedEvent, ctx: StepContext): Promise<z.output<typeof warmUpOutput>> {
  const { env } = ctx;
  const run = await ctx.runOf(e.sweepId);
  const adapter = ctx.adapterOf(e.candidate);
  const coldStarts: ColdStart[] = [];
  // A job that measures itself (a transform job) takes no requests: nothing to warm.
  if (!adapter.measureJob)
    await withInvoker(adapter, ctx.deploymentOf(e, run), run, async (invoker) => {
      if (adapter.coldStartProbes(e.candidate).afterDeploy) coldStarts.push(await probeColdStart(invoker, run.payloads[0]!, 'deploy', adapter));
      const warmup = warmupOf(run.spec);
      if (warmup && !env.signal?.aborted) {
        await runPhase(invoker, warmup, {
          seed: run.spec.seed - 1,
          nextPayload: weightedPayloadPicker(run.payloads, run.spec.seed - 1),
          signal: env.signal,
          onProgress: (p) => env.events?.onProgress?.(e.candidate, p),
        });
      }
    });
  return {
    coldStarts,
    phases: phaseShardsOf(run.spec, env.maxRatePerGenerator),
    search: run.spec.offline ? { ...firstProbe(undefined), done: false, saturation: firstSaturationState() } : firstProbe(run.spec.load.search),
  };
}
