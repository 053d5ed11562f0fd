import { z } from 'zod';

import { errorKinds } from '../../format/format';
import type { PhaseResult } from '../../load/phase';
import type { CandidateRecord, ColdStart } from '../../store/results-store';
import { realSleep } from '../../targets/cloud/retry';
import { deployedEvent } from '../events';
import { INTERRUPTED_WHILE_MEASURING } from './budget';
import { probeColdStart } from './cold-start';
import { candidateRecord, measurementCostOf, type StepContext, withInvoker } from './context';
import { qualityOutput } from './quality';

export const recordInput = deployedEvent.extend({
  warm: z.object({ coldStarts: z.array(z.looseObject({ after: z.string() })) }),
  quality: qualityOutput.default({}),
});

export const recordOutput = z.object({ status: z.enum(['measured', 'failed', 'unavailable', 'over-budget', 'skipped']) });

/**
 * Times the idle cold start where the kind asks for one, adds the platform's metrics to each
 * phase, and records the measured candidate once.
 */
export async function recordResult(e: z.output<typeof recordInput>, ctx: StepContext): Promise<{ status: CandidateRecord['status'] }> {
  const { env, now } = ctx;
  const run = await ctx.runOf(e.sweepId);
  const adapter = ctx.adapterOf(e.candidate);
  const deployment = ctx.deploymentOf(e, run);
  const coldStarts = [...(e.warm.coldStarts as unknown as ColdStart[])];
  let phases = await env.store.listPhases(e.sweepId, e.candidate.id);
  const idleMs = adapter.coldStartProbes(e.candidate).afterIdleMs;
  if (!env.signal?.aborted && idleMs) {
    await (env.sleep ?? realSleep)(idleMs);
    coldStarts.push(await withInvoker(adapter, deployment, run, (invoker) => probeColdStart(invoker, run.payloads[0]!, 'idle', adapter)));
  }
  if (!env.signal?.aborted && adapter.serverMetrics) {
    const metrics = await adapter.serverMetrics(deployment, phases, run.context).catch(() => []);
    phases = phases.map((phase, i) => (metrics[i] ? { ...phase, serverMetrics: metrics[i] } : phase));
  }
  const measurementCostUsd = measurementCostOf(adapter, e.candidate, run).usd;
  const extra = { coldStarts, measurementCostUsd, deployment: e.deployment.handle, ...(e.quality.result ? { quality: e.quality.result } : {}) };
  const failedAll = everyRequestFailed(phases);
  const record = env.signal?.aborted
    ? candidateRecord(e, 'failed', phases, INTERRUPTED_WHILE_MEASURING, now, extra)
    : failedAll
      ? candidateRecord(e, 'failed', phases, failedAll, now, extra)
      : candidateRecord(e, 'measured', phases, undefined, now, extra);
  await ctx.putRecord(record);
  return { status: record.status };
}

/**
 * Why a candidate none of whose requests succeeded is `failed`, not measured (a target that
 * answers 500 to everything has no latency to judge), naming its errors; undefined otherwise.
 */
function everyRequestFailed(phases: readonly PhaseResult[]): string | undefined {
  const requests = phases.reduce((n, p) => n + p.requests, 0);
  if (requests === 0 || phases.some((p) => p.successes > 0)) return undefined;
  const errors: Record<string, number> = {};
  for (const phase of phases) for (const [kind, n] of Object.entries(phase.errors)) errors[kind] = (errors[kind] ?? 0) + n;
  return `every one of its ${requests} requests failed: ${errorKinds(errors)}`;
}
