import { failureKey, type Invoker, type Payload } from '../../load/invoker';
import type { ColdStart } from '../../store/results-store';
import type { TargetAdapter } from '../../targets/adapter';

/**
 * Times one request on its own. A failure that the adapter recognises as the candidate being unable
 * to run (code built for another architecture) ends the candidate as unavailable.
 */
export async function probeColdStart(invoker: Invoker, payload: Payload, after: ColdStart['after'], adapter: TargetAdapter<any>): Promise<ColdStart> {
  const start = performance.now();
  const outcome = await invoker.invoke(payload);
  const latencyMs = performance.now() - start;
  if (!outcome.ok) {
    const verdict = adapter.unrunnable?.(outcome.failure);
    if (verdict) throw verdict;
    return { after, latencyMs, ok: false, error: failureKey(outcome.failure) };
  }
  return {
    after,
    latencyMs,
    ok: true,
    ...(outcome.initMs !== undefined ? { initMs: outcome.initMs } : {}),
    ...(outcome.billedMs !== undefined ? { billedMs: outcome.billedMs } : {}),
  };
}
