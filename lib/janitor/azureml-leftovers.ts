import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';

import { ModelsweepError } from '../errors';
import { azureRetryOptions } from '../targets/cloud/azure-access';
import { ownerFromTags } from '../targets/cloud/resource-tags';
import { removeIdempotently, type RetryOptions } from '../targets/cloud/retry';
import type { Leftover, LeftoverFinder } from './janitor';

export interface AzureWorkspaceRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly workspace: string;
}

/** Parses "subscription/resource-group/workspace", as `--azure-workspace` takes it. */
export function parseWorkspaceRef(text: string): AzureWorkspaceRef {
  const parts = text.split('/');
  if (parts.length !== 3 || parts.some((p) => p.length === 0))
    throw new ModelsweepError('invalid-input', `"${text}" is not subscription-id/resource-group/workspace`);
  const [subscriptionId, resourceGroup, workspace] = parts as [string, string, string];
  return { subscriptionId, resourceGroup, workspace };
}

/**
 * Azure ML endpoints a sweep created (deleted with all their deployments) and deployments a
 * sweep added to other endpoints, in one workspace, claimed by their tags.
 */
export function azureMlLeftovers(
  ml: AzureMachineLearningWorkspaces,
  ref: AzureWorkspaceRef,
  options: { pollIntervalMs?: number; retry?: RetryOptions } = {},
): LeftoverFinder {
  const { resourceGroup: rg, workspace: ws } = ref;
  const retry = azureRetryOptions(options.retry);
  const lro = { updateIntervalInMs: options.pollIntervalMs ?? 15_000 };
  return {
    where: `Azure ML workspace ${ws} (resource group ${rg})`,
    async find() {
      const found: Leftover[] = [];
      for await (const endpoint of ml.onlineEndpoints.list(rg, ws)) {
        const name = endpoint.name!;
        const owner = ownerFromTags(endpoint.tags ?? {});
        // An endpoint a sweep created has no candidate: it is the sweep's, deployments and all.
        if (owner && !owner.candidateId) {
          found.push({
            kind: 'Azure ML endpoint',
            name: `${ws}/${name}`,
            owner,
            action: 'delete',
            remove: () => removeIdempotently(() => ml.onlineEndpoints.beginDeleteAndWait(rg, ws, name, lro), retry),
          });
          continue;
        }
        for await (const deployment of ml.onlineDeployments.list(rg, ws, name)) {
          const deploymentOwner = ownerFromTags(deployment.tags ?? {});
          if (!deploymentOwner) continue;
          const deploymentName = deployment.name!;
          found.push({
            kind: 'Azure ML deployment',
            name: `${ws}/${name}/${deploymentName}`,
            owner: deploymentOwner,
            action: 'delete',
            remove: () => removeIdempotently(() => ml.onlineDeployments.beginDeleteAndWait(rg, ws, name, deploymentName, lro), retry),
          });
        }
      }
      return found;
    },
  };
}
