import { z } from 'zod';

import { ModelsweepError } from '../errors';

/** Candidate kinds a CDK stack can deploy from a recommendation (the endpoint constructs and BatchInferenceJob). */
export const DEPLOYABLE_KINDS = ['lambda', 'sagemaker-realtime', 'sagemaker-serverless', 'sagemaker-async', 'sagemaker-batch-transform'] as const;
export type DeployableKind = (typeof DEPLOYABLE_KINDS)[number];

export const recommendationSchema = z.object({
  model: z.string().min(1),
  sweepId: z.string().min(1),
  candidate: z.string().min(1),
  kind: z.enum(DEPLOYABLE_KINDS),
  /** The candidate's configuration as the spec expanded it (memorySizeMb, architecture, instanceType…). */
  configuration: z.record(z.string(), z.unknown()),
  /** Instances the traffic forecast needs (instance-based kinds), or that end an offline job by its deadline. */
  instances: z.number().int().positive().optional(),
  /**
   * An offline job's estimate: its cost and time on `instances` (or `concurrentInvocations` at once,
   * for Lambda), the job it was sized for, and the rows a request it was measured at, where the
   * sweep searched batch sizes.
   */
  job: z
    .object({
      rows: z.number().positive(),
      deadlineSeconds: z.number().positive(),
      usd: z.number().nonnegative(),
      seconds: z.number().nonnegative(),
      rowsPerRequest: z.number().int().positive().optional(),
      concurrentInvocations: z.number().int().positive().optional(),
    })
    .optional(),
  monthlyCostUsd: z.number().optional(),
  sloLatencyMs: z.number().optional(),
  appliedAt: z.string(),
});

/** What `modelsweep apply` writes, and the endpoint constructs read. */
export type Recommendation = z.output<typeof recommendationSchema>;

/** The cdk.context.json key of a model's recommendation. */
export const recommendationContextKey = (model: string) => `modelsweep:recommendation:${model}`;
/** The SSM parameter of a model's recommendation (cloud sweeps). */
export const recommendationParameterName = (model: string) => `/modelsweep/${model}/recommendation`;

/** Reads a recommendation from a context value or parameter; throws naming what is wrong. */
export function parseRecommendation(value: unknown, where: string): Recommendation {
  const parsed = recommendationSchema.safeParse(typeof value === 'string' ? safeJson(value) : value);
  if (parsed.success) return parsed.data;
  throw new ModelsweepError(
    'invalid-input',
    `${where} is not a modelsweep recommendation: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ')}`,
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
