import { describeBusy } from '../../load/busy-processes';
import { type Payload, weightedPayloadPicker } from '../../load/invoker';
import { type PhasePlan, type PhaseResult, runPhase } from '../../load/phase';
import { phaseVerdict } from '../../load/phase-verdict';
import { quietWaitFromEnv, waitForQuiet } from '../../load/quiet-check';
import { realSleep } from '../../targets/cloud/retry';
import type { DeployedEvent } from '../events';
import { type StepContext, type SweepRun, withInvoker } from './context';

/** Measurements of a phase the generator could not measure reliably, at most: the first and this many again. */
export const MAX_REMEASUREMENTS = 2;
/** Between two measurements of an inconclusive phase: time for whatever kept the machine busy to pass. */
const REMEASURE_PAUSE_MS = 2_000;
/** All of a sweep's waits for quiet, at most, in longest waits (see quietWaitFromEnv): one that stays busy is measured beside, and named. */
const QUIET_WAITS_PER_SWEEP = 3;
/** A phase whose SLO percentile is too close to call at its planned end runs on up to this many times its plan. */
export const MAX_PHASE_EXTENSION = 3;

/**
 * Runs one phase (or one generator's share of it) against the deployment (with the sweep's payloads,
 * or `payloads` where given: an offline sweep's batches), with the SLO and the
 * target's processes for the generator to watch. A phase that misses the SLO while the generator
 * struggled says nothing about the target: it is measured again, up to {@link MAX_REMEASUREMENTS}
 * times, within the time one step may run; the last measurement stands, with its validity. One
 * whose SLO percentile is too close to call runs on (see `maxDurationMs` of `runPhase`), up to
 * {@link MAX_PHASE_EXTENSION} times its plan, and never past what one step may run.
 */
export async function measurePhase(
  e: DeployedEvent,
  ctx: StepContext,
  run: SweepRun,
  plan: PhasePlan,
  seed: number,
  payloads: readonly Payload[] = run.payloads,
): Promise<PhaseResult> {
  const { env } = ctx;
  const adapter = ctx.adapterOf(e.candidate);
  const deployment = ctx.deploymentOf(e, run);
  // In a Lambda function, only as many measurements as fit in the time one step may run.
  const fit = env.maxPhaseMs === undefined ? Infinity : Math.floor(env.maxPhaseMs / plan.durationMs) - 1;
  const attempts = 1 + Math.max(0, Math.min(MAX_REMEASUREMENTS, fit));
  const maxDurationMs = Math.min(MAX_PHASE_EXTENSION * plan.durationMs, (env.maxPhaseMs ?? Infinity) / attempts);
  const targetPids = adapter.processIds?.(deployment) ?? [];
  let result: PhaseResult | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    // A local target shares this machine: let whatever else keeps it busy pass first, a while.
    if (attempt > 0) await (env.sleep ?? realSleep)(REMEASURE_PAUSE_MS);
    if (targetPids.length > 0) await quietFirst(e, ctx, run, targetPids);
    result = await withInvoker(adapter, deployment, run, (invoker) =>
      runPhase(invoker, plan, {
        seed,
        nextPayload: weightedPayloadPicker(payloads, seed),
        slo: run.spec.slo,
        maxDurationMs,
        signal: env.signal,
        targetPids,
        onProgress: (p) => env.events?.onProgress?.(e.candidate, p),
      }),
    );
    if (phaseVerdict(result, run.spec.slo) !== 'inconclusive' || env.signal?.aborted) break;
  }
  return result!;
}

/** Each sweep's waiting for quiet (per process: only local targets wait): the time left, and who outlasted a wait. */
const quietWaits = new WeakMap<SweepRun, { leftMs: number; readonly outlasted: Set<number> }>();

/**
 * Waits (within the sweep's budget) for other processes on the target's or the generator's cores
 * to quiet down, saying who it waits for. One that stays busy through a whole wait is not waited
 * for again: it is measured beside, and the phase names it if it spoiled the measurement.
 */
async function quietFirst(e: DeployedEvent, ctx: StepContext, run: SweepRun, targetPids: readonly number[]): Promise<void> {
  const longest = quietWaitFromEnv();
  const waits = quietWaits.get(run) ?? { leftMs: QUIET_WAITS_PER_SWEEP * longest, outlasted: new Set<number>() };
  quietWaits.set(run, waits);
  if (waits.leftMs <= 0) return;
  const started = performance.now();
  const busy = await waitForQuiet({
    targetPids,
    ignorePids: [...waits.outlasted],
    maxWaitMs: Math.min(longest, waits.leftMs),
    signal: ctx.env.signal,
    onWait: (processes, leftMs) =>
      ctx.env.events?.onWait?.(
        e.candidate,
        `waiting up to ${Math.ceil(leftMs / 1000)} s for other processes to quiet down: ${describeBusy(processes)}`,
      ),
  });
  waits.leftMs -= performance.now() - started;
  for (const p of busy) waits.outlasted.add(p.pid);
  if (busy.length > 0)
    ctx.env.events?.onWait?.(e.candidate, `measuring beside busy processes (the phase will say if they spoiled it): ${describeBusy(busy)}`);
}
