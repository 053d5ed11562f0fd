import { existsSync, readFileSync } from 'node:fs';

import { z } from 'zod';

import { ModelsweepError } from '../errors';
import type { SweepResults } from '../report/sweep-results';
import { writeFileWhole } from '../util/write-whole';

/** Candidate kinds a CDK stack can deploy from a recommendation (the endpoint constructs). */
export const DEPLOYABLE_KINDS = ['lambda', 'sagemaker-realtime', 'sagemaker-serverless'] as const;
export type DeployableKind = (typeof DEPLOYABLE_KINDS)[number];

const recommendationSchema = z.object({
  model: z.string().min(1),
  sweepId: z.string().min(1),
  candidate: z.string().min(1),
  kind: z.enum(DEPLOYABLE_KINDS),
  /** The candidate's configuration as the spec expanded it (memorySizeMb, architecture, instanceType…). */
  configuration: z.record(z.string(), z.unknown()),
  /** Instances the traffic forecast needs (instance-based kinds). */
  instances: z.number().int().positive().optional(),
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

export class NotDeployable extends ModelsweepError {
  constructor(message: string) {
    super('not-deployable', message);
    this.name = 'NotDeployable';
  }
}

/** The recommendation of a finished sweep, in the form the constructs read. */
export function recommendationOf(results: SweepResults, now: Date = new Date()): Recommendation {
  if (!results.recommended) throw new NotDeployable(`sweep ${results.sweepId} recommends nothing: no candidate met the SLO`);
  const winner = results.candidates.find((c) => c.id === results.recommended)!;
  if (!(DEPLOYABLE_KINDS as readonly string[]).includes(winner.kind)) {
    throw new NotDeployable(
      `sweep ${results.sweepId} recommends ${winner.id}, a ${winner.kind} candidate, which no CDK stack deploys; apply ships ${DEPLOYABLE_KINDS.join(', ')} recommendations`,
    );
  }
  return recommendationSchema.parse({
    model: results.model,
    sweepId: results.sweepId,
    candidate: winner.id,
    kind: winner.kind,
    configuration: winner.configuration,
    ...(winner.instances !== undefined ? { instances: winner.instances } : {}),
    ...(winner.monthlyCostUsd !== undefined ? { monthlyCostUsd: winner.monthlyCostUsd } : {}),
    ...(winner.sloLatencyMs !== undefined ? { sloLatencyMs: winner.sloLatencyMs } : {}),
    appliedAt: now.toISOString(),
  });
}

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

/**
 * Changes a cdk.context.json (created if missing) with `change`, keeping every other entry; written
 * whole through a temporary file, so a crash leaves the old file intact. Nothing is written when
 * `change` returns false.
 */
export function updateContextFile(file: string, change: (context: Record<string, unknown>) => boolean | void): void {
  let context: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      context = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new ModelsweepError('invalid-input', `${file} is not valid JSON (${(error as Error).message}); fix or remove it first`, { cause: error });
    }
  }
  if (change(context) === false) return;
  writeFileWhole(file, `${JSON.stringify(context, null, 2)}\n`);
}

/** Writes the recommendation into a cdk.context.json (see {@link updateContextFile}). */
export function writeRecommendationToContext(file: string, recommendation: Recommendation): void {
  updateContextFile(file, (context) => {
    context[recommendationContextKey(recommendation.model)] = recommendation;
  });
}
