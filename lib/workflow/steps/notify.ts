import type { StepContext } from './context';
import type { SweepSummary } from './select-and-report';

/** Publishes the sweep's summary (SNS in the cloud) and passes it on as the execution's output. */
export async function notifySweep(summary: SweepSummary, ctx: StepContext): Promise<SweepSummary> {
  await ctx.env.notify?.(summary);
  return summary;
}
