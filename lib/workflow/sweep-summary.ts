import { z } from 'zod';

import type { ReportFiles } from '../report/write-report';

/** What a finished sweep says: stored, notified, and returned by the workflow. */
export const sweepSummary = z.object({
  sweepId: z.string(),
  model: z.string(),
  /** `interrupted`: stopped on purpose (Ctrl-C, SIGTERM, SIGHUP); what was measured is judged, what was not is named. */
  status: z.enum(['succeeded', 'failed', 'interrupted']),
  recommended: z.string().optional(),
  /** The model's previous finished sweep and what it recommended. */
  previous: z.object({ sweepId: z.string(), recommended: z.string().optional() }).optional(),
  /** Whether the recommendation differs from the previous sweep's (false when there was none). */
  changed: z.boolean(),
  measured: z.number().int(),
  /** Candidates that could not be measured, and why. */
  notMeasured: z.array(z.object({ id: z.string(), status: z.string(), reason: z.string() })),
  /** Why the sweep failed (every candidate failed), or what an interruption left unmeasured. */
  reason: z.string().optional(),
  /** Where the report files are (paths, or s3:// addresses). */
  report: z.object({ html: z.string(), json: z.string(), csv: z.string() }),
});

export type SweepSummary = z.output<typeof sweepSummary>;

/** Where a sweep's report files go in the blob store. */
export const reportKeys = (sweepId: string): ReportFiles => ({
  html: `reports/${sweepId}/report.html`,
  json: `reports/${sweepId}/results.json`,
  csv: `reports/${sweepId}/results.csv`,
});
