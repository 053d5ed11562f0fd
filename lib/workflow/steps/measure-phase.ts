import { weightedPayloadPicker } from '../../load/invoker';
import { type PhasePlan, type PhaseResult, runPhase } from '../../load/phase';
import { phaseVerdict } from '../../load/phase-verdict';
import { realSleep } from '../../targets/cloud/retry';
import type { DeployedEvent } from '../events';
import { type StepContext, type SweepRun, withInvoker } from './context';

/** Measurements of a phase the generator could not measure reliably, at most: the first and this many again. */
export const MAX_REMEASUREMENTS = 2;
/** Between two measurements of an inconclusive phase: time for whatever kept the machine busy to pass. */
const REMEASURE_PAUSE_MS = 2_000;
/** A phase whose SLO percentile is too close to call at its planned end runs on up to this many times its plan. */
export const MAX_PHASE_EXTENSION = 3;

/**
 * Runs one phase (or one generator's share of it) against the deployment, with the SLO and the
 * target's processes for the generator to watch. A phase that misses the SLO while the generator
 * struggled says nothing about the target: it is measured again, up to {@link MAX_REMEASUREMENTS}
 * times, within the time one step may run; the last measurement stands, with its validity. One
 * whose SLO percentile is too close to call runs on (see `maxDurationMs` of `runPhase`), up to
 * {@link MAX_PHASE_EXTENSION} times its plan, and never past what one step may run.
 */
export async function measurePhase(e: DeployedEvent, ctx: StepContext, run: SweepRun, plan: PhasePlan, seed: number): Promise<PhaseResult> {
  const { env } = ctx;
  const adapter = ctx.adapterOf(e.candidate);
  const deployment = ctx.deploymentOf(e, run);
  // In a Lambda function, only as many measurements as fit in the time one step may run.
  const fit = env.maxPhaseMs === undefined ? Infinity : Math.floor(env.maxPhaseMs / plan.durationMs) - 1;
  const attempts = 1 + Math.max(0, Math.min(MAX_REMEASUREMENTS, fit));
  const maxDurationMs = Math.min(MAX_PHASE_EXTENSION * plan.durationMs, (env.maxPhaseMs ?? Infinity) / attempts);
  let result: PhaseResult | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await (env.sleep ?? realSleep)(REMEASURE_PAUSE_MS);
    result = await withInvoker(adapter, deployment, run, (invoker) =>
      runPhase(invoker, plan, {
        seed,
        nextPayload: weightedPayloadPicker(run.payloads, seed),
        slo: run.spec.slo,
        maxDurationMs,
        signal: env.signal,
        targetPids: adapter.processIds?.(deployment),
        onProgress: (p) => env.events?.onProgress?.(e.candidate, p),
      }),
    );
    if (phaseVerdict(result, run.spec.slo) !== 'inconclusive' || env.signal?.aborted) break;
  }
  return result!;
}
