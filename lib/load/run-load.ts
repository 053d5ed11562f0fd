import { type Invoker, type Payload, weightedPayloadPicker } from './invoker';
import { type PhaseOptions, type PhasePlan, type PhaseResult, runPhase } from './phase';

export interface LoadPlan {
  /** Run first and left out of the results: warms caches, connections and autoscaling. */
  readonly warmup?: PhasePlan;
  readonly phases: readonly PhasePlan[];
  readonly payloads: readonly Payload[];
  /** Seeds arrivals and payload choice; phase i uses seed + i. @default 1 */
  readonly seed?: number;
}

export type LoadOptions = Omit<PhaseOptions, 'seed' | 'nextPayload'>;

export interface LoadResult {
  /** Requests and errors of the warmup, for the record; its latencies are not kept. */
  readonly warmup?: { readonly requests: number; readonly errorCount: number; readonly durationMs: number };
  readonly phases: PhaseResult[];
}

/** Runs the warmup, then each phase in order, against one invoker. */
export async function runLoad(invoker: Invoker, plan: LoadPlan, options: LoadOptions = {}): Promise<LoadResult> {
  const seed = plan.seed ?? 1;
  const nextPayload = weightedPayloadPicker(plan.payloads, seed);
  let warmup: LoadResult['warmup'];
  if (plan.warmup) {
    const w = await runPhase(invoker, plan.warmup, { ...options, slo: undefined, seed: seed - 1, nextPayload });
    warmup = { requests: w.requests, errorCount: w.errorCount, durationMs: w.durationMs };
  }
  const phases: PhaseResult[] = [];
  for (const [i, phase] of plan.phases.entries()) {
    if (options.signal?.aborted) break;
    phases.push(await runPhase(invoker, phase, { ...options, seed: seed + i, nextPayload }));
  }
  return { ...(warmup ? { warmup } : {}), phases };
}
