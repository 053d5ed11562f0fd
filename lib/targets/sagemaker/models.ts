/**
 * The models a sweep's candidates run: one per distinct model definition per sweep, created by the
 * first candidate that needs it and shared by the rest, deleted when the sweep ends.
 */
import { createHash } from 'node:crypto';

import { CreateModelCommand, DeleteModelCommand } from '@aws-sdk/client-sagemaker';

import type { AdapterContext, DeploymentHandle } from '../adapter';
import { ownerTagList, resourceName, type ResourceOwner } from '../cloud/resource-tags';
import { teardownSteps } from '../cloud/retry';
import type { ModelCandidate, SageMakerApi } from './common';

export interface SweepModels {
  /** The model for a candidate's definition, created on first use. */
  modelFor(c: ModelCandidate, context: AdapterContext): Promise<{ name: string; region: string | undefined }>;
  /** Deletes a sweep's models: those made here, and those other processes made, named in `handles`. */
  release(context: AdapterContext, handles?: readonly DeploymentHandle[]): Promise<void>;
}

export function sweepModels({ clients, call, retry }: SageMakerApi): SweepModels {
  /** Models created for each sweep, by model definition: created once, shared by its candidates. */
  const models = new Map<string, Map<string, Promise<{ name: string; region: string | undefined }>>>();

  const modelFor = (c: ModelCandidate, context: AdapterContext): Promise<{ name: string; region: string | undefined }> => {
    const definition = JSON.stringify([c.region, c.image, c.modelDataUrl, c.executionRoleArn, c.environment]);
    let sweepModels = models.get(context.sweepId);
    if (!sweepModels) models.set(context.sweepId, (sweepModels = new Map()));
    let model = sweepModels.get(definition);
    if (!model) {
      const owner: ResourceOwner = { sweepId: context.sweepId, createdAt: context.createdAt, expiresAt: context.expiresAt };
      // Named by its definition, so steps in other processes (Lambda invocations) share one model.
      const modelName = resourceName(
        'ms-model',
        { sweepId: context.sweepId, candidateId: createHash('sha256').update(definition).digest('hex').slice(0, 8) },
        63,
      );
      model = call(() =>
        clients(c.region).sagemaker.send(
          new CreateModelCommand({
            ModelName: modelName,
            ExecutionRoleArn: c.executionRoleArn,
            PrimaryContainer: { Image: c.image, ...(c.modelDataUrl ? { ModelDataUrl: c.modelDataUrl } : {}), Environment: { ...c.environment } },
            Tags: ownerTagList(owner),
          }),
        ),
      )
        .catch((error: Error) => {
          // Created by another step of the same sweep: the same definition, so the same model.
          if (/already exist/i.test(error.message)) return;
          throw error;
        })
        .then(() => ({ name: modelName, region: c.region }));
      sweepModels.set(definition, model);
      // A failed creation is retried by the next candidate that needs it, not cached.
      model.catch(() => sweepModels.delete(definition));
    }
    return model;
  };

  return {
    modelFor,
    async release(context, handles = []) {
      const sweepModels = models.get(context.sweepId);
      models.delete(context.sweepId);
      const created = sweepModels ? (await Promise.allSettled(sweepModels.values())).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])) : [];
      // Models that steps in other processes created, named in the candidates' handles.
      for (const h of handles) if (h.modelName) created.push({ name: String(h.modelName), region: h.region ? String(h.region) : undefined });
      const unique = [...new Map(created.map((m) => [`${m.region ?? ''}/${m.name}`, m])).values()];
      await teardownSteps(
        unique.map(
          ({ name, region }) => [`delete model ${name}`, () => clients(region).sagemaker.send(new DeleteModelCommand({ ModelName: name }))] as const,
        ),
        retry,
      );
    },
  };
}
