import type { SweepSummary } from '../sweep-summary';
import type { StepContext } from './context';

/** Publishes the sweep's summary (SNS in the cloud) and passes it on as the execution's output. */
export async function notifySweep(summary: SweepSummary, ctx: StepContext): Promise<SweepSummary> {
  await ctx.env.notify?.(summary);
  return summary;
}
