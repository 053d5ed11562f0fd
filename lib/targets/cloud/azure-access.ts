import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { HttpClient } from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/identity';

import { SetupError } from '../../errors';
import { isAzureConflict, isThrottling, type RetryOptions } from './retry';

/** The scope of Azure Resource Manager tokens. */
export const ARM_SCOPE = 'https://management.azure.com/.default';

/**
 * Gets a management token without touching any resource, so a run with no Azure login stops
 * before it creates anything, saying what to do.
 */
export async function checkAzureAccess(credential: TokenCredential, what: string): Promise<void> {
  try {
    await credential.getToken(ARM_SCOPE);
  } catch (error) {
    // DefaultAzureCredential fails with one error per way it tried: say each in a few words.
    const tried = (error as { errors?: Error[] }).errors ?? [error as Error];
    const reasons = tried.map((e) => e.message.split('\n')[0].split(/\.(\s|$)/)[0]).join('; ');
    throw new SetupError(
      `${what}: no Azure credentials (${reasons}); run az login, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or run where a managed identity is available`,
    );
  }
}

/** A management client for a subscription; `httpClient` replaces the network (tests). */
export const azureMlClient = (credential: TokenCredential, subscriptionId: string, httpClient?: HttpClient) =>
  new AzureMachineLearningWorkspaces(credential, subscriptionId, httpClient ? { httpClient } : {});

/**
 * Retries for Azure management calls: throttling (429, after the SDK's own Retry-After retries)
 * and 409 Conflict, which clears once the operation holding the resource finishes — so the
 * waits are longer than for AWS.
 */
export const azureRetryOptions = (retry?: RetryOptions): RetryOptions => ({
  attempts: 12,
  maxDelayMs: 60_000,
  ...retry,
  retryOn: (e) => isThrottling(e) || isAzureConflict(e),
});
