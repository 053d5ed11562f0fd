import { existsSync, readFileSync } from 'node:fs';

import { ModelsweepError } from '../errors';
import type { SweepResults } from '../report/sweep-results';
import { writeFileWhole } from '../util/write-whole';
import { DEPLOYABLE_KINDS, type Recommendation, recommendationContextKey, recommendationSchema } from './recommendation';

// What `modelsweep apply` does with a recommendation. The reading side (recommendation.ts) is
// apart because the constructs import it at synth, without the results and report modules.

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
    ...(results.offline && winner.job?.estimate?.fits
      ? {
          job: {
            rows: results.offline.rows,
            deadlineSeconds: results.offline.deadlineMs / 1000,
            usd: winner.job.estimate.usd,
            seconds: winner.job.estimate.seconds,
            ...(winner.job.batch !== undefined ? { rowsPerRequest: winner.job.batch } : {}),
            ...(winner.job.estimate.unit === 'invocations' ? { concurrentInvocations: winner.job.estimate.instances } : {}),
          },
        }
      : {}),
    appliedAt: now.toISOString(),
  });
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
