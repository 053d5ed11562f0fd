import type { AzureMachineLearningWorkspaces, OnlineDeployment, OnlineEndpoint } from '@azure/arm-machinelearning';
import type { HttpClient } from '@azure/core-rest-pipeline';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';

import { ModelsweepError } from '../errors';
import { httpInvoker } from '../load/http-invoker';
import type { Candidate } from '../spec/expand';
import { type AdapterContext, CandidateError, type Deployment, hourlyMeasurementCost, SetupError, type TargetAdapter } from './adapter';
import { perKey } from './cloud/adapter-api';
import { azureMlClient, azureRetryOptions, checkAzureAccess } from './cloud/azure-access';
import { ownerTags, resourceName, type ResourceOwner } from './cloud/resource-tags';
import { classify, isNotFound, retrying, type RetryOptions, teardownSteps } from './cloud/retry';
import { KIND_RULES } from './kind-rules';

type AzureCandidate = Extract<Candidate, { kind: 'azureml' }>;

/** The scope of tokens for endpoints in AADToken mode. */
const ML_SCOPE = 'https://ml.azure.com/.default';
/** Azure ML refuses scoring requests that take longer than this, whatever is asked. */
const MAX_REQUEST_TIMEOUT_MS = 180_000;

export interface AzureMlAdapterOptions {
  /** @default DefaultAzureCredential (environment, workload or managed identity, Azure CLI, ...) */
  readonly credential?: TokenCredential;
  /** The HTTP client of the management API; tests inject one that replays ARM responses. @default the SDK's */
  readonly httpClient?: HttpClient;
  /** Between polls of a long-running operation (creating or deleting an endpoint or deployment). @default 15000 */
  readonly pollIntervalMs?: number;
  /** Longest wait for a deployment to be provisioned. @default 2700000 (45 min) */
  readonly readyTimeoutMs?: number;
  /** Retries of throttled (429) and conflicting (409) management calls. @default 12 attempts, up to 60 s apart */
  readonly retry?: RetryOptions;
}

interface Workspace {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly workspace: string;
}

type DeploymentPoller = Awaited<ReturnType<AzureMachineLearningWorkspaces['onlineDeployments']['beginCreateOrUpdate']>>;

interface AzureDeployment extends Deployment {
  readonly candidate: AzureCandidate;
  readonly deploymentName: string;
  /** The creation, started by `deploy`, awaited by `waitReady`. */
  readonly poller: DeploymentPoller;
  /** Known once ready. */
  scoring?: { readonly uri: string; readonly authorization: string };
}

const asAzure = (c: Candidate): AzureCandidate => {
  if (c.kind !== 'azureml') throw new ModelsweepError('invalid-input', `the Azure ML adapter cannot run a ${c.kind} candidate`);
  return c;
};

const workspaceKey = (w: Workspace) => `${w.subscriptionId}/${w.resourceGroup}/${w.workspace}`;
const describe = (w: Workspace) => `workspace ${w.workspace} (resource group ${w.resourceGroup}, subscription ${w.subscriptionId})`;
/** Where to see why a deployment failed. */
const logsHint = (c: AzureCandidate, deploymentName: string) =>
  `logs: az ml online-deployment get-logs -g ${c.resourceGroup} -w ${c.workspace} -e ${c.endpointName} -n ${deploymentName}`;
/** An ISO 8601 duration in whole seconds, as Azure ML's request settings take it. */
const isoSeconds = (ms: number) => `PT${Math.max(1, Math.round(ms / 1000))}S`;

/**
 * Azure ML managed online endpoints: one managed deployment per SKU × instance count candidate,
 * under the sweep's endpoint (created if absent, and then deleted when the sweep ends). Each
 * deployment gets no share of the endpoint's traffic: the load reaches it alone through the
 * `azureml-model-deployment` header, so an endpoint already serving users is not disturbed.
 */
export function azureMlAdapter(options: AzureMlAdapterOptions = {}): TargetAdapter<AzureDeployment> {
  let defaultCredential: TokenCredential | undefined;
  const credential = () => options.credential ?? (defaultCredential ??= new DefaultAzureCredential());
  const clientFor = perKey((subscriptionId: string) => azureMlClient(credential(), subscriptionId, options.httpClient));
  const retry = azureRetryOptions(options.retry);
  const call = retrying(retry);
  const lro = { updateIntervalInMs: options.pollIntervalMs ?? 15_000 };
  /** Workspace regions, read when access is checked. */
  const locations = new Map<string, string>();
  /**
   * Per sweep: the endpoints its candidates need (ready once created or found), and those it asked
   * Azure to create — deleted when the sweep ends, even if the creation seemed to fail.
   */
  const sweeps = new Map<string, { ready: Map<string, Promise<{ location: string }>>; requested: Map<string, AzureCandidate> }>();

  const locationOf = (c: AzureCandidate) => c.location ?? locations.get(workspaceKey(c)) ?? 'eastus';

  const endpointFor = (c: AzureCandidate, context: AdapterContext) => {
    let sweep = sweeps.get(context.sweepId);
    if (!sweep) sweeps.set(context.sweepId, (sweep = { ready: new Map(), requested: new Map() }));
    const { ready, requested } = sweep;
    const key = `${workspaceKey(c)}/${c.endpointName}`;
    let endpoint = ready.get(key);
    if (!endpoint) {
      const ml = clientFor(c.subscriptionId);
      endpoint = (async () => {
        const existing = await call(() => ml.onlineEndpoints.get(c.resourceGroup, c.workspace, c.endpointName)).catch((error) => {
          if (isNotFound(error)) return undefined;
          throw error;
        });
        // Deployments go where their endpoint is.
        if (existing) return { location: existing.location || locationOf(c) };
        const owner: ResourceOwner = { sweepId: context.sweepId, createdAt: context.createdAt, expiresAt: context.expiresAt };
        const body: OnlineEndpoint = {
          location: locationOf(c),
          tags: ownerTags(owner),
          properties: { authMode: 'Key', description: `modelsweep sweep ${context.sweepId}` },
        };
        requested.set(key, c);
        await call(() => ml.onlineEndpoints.beginCreateOrUpdateAndWait(c.resourceGroup, c.workspace, c.endpointName, body, lro));
        return { location: body.location };
      })();
      ready.set(key, endpoint);
      // A failed creation is tried again by the next candidate that needs it.
      endpoint.catch(() => ready.delete(key));
    }
    return endpoint;
  };

  /** The scoring URI and the authorization header, by the endpoint's auth mode. */
  const scoringOf = async (c: AzureCandidate) => {
    const ml = clientFor(c.subscriptionId);
    const endpoint = await call(() => ml.onlineEndpoints.get(c.resourceGroup, c.workspace, c.endpointName));
    const uri = endpoint.properties.scoringUri;
    if (!uri) throw new CandidateError('failed', `endpoint ${c.endpointName} has no scoring URI`);
    const mode = (endpoint.properties.authMode ?? 'Key').toLowerCase();
    let secret: string | undefined;
    if (mode === 'key') secret = (await call(() => ml.onlineEndpoints.listKeys(c.resourceGroup, c.workspace, c.endpointName))).primaryKey;
    else if (mode === 'amltoken') secret = (await call(() => ml.onlineEndpoints.getToken(c.resourceGroup, c.workspace, c.endpointName))).accessToken;
    else secret = (await credential().getToken(ML_SCOPE))?.token;
    if (!secret) throw new CandidateError('failed', `endpoint ${c.endpointName} gave no ${mode === 'key' ? 'key' : 'token'} to call it with`);
    return { uri, authorization: `Bearer ${secret}` };
  };

  return {
    kind: 'azureml',
    ...KIND_RULES.azureml,

    async checkAccess(candidates) {
      const workspaces = new Map(candidates.map((c) => [workspaceKey(asAzure(c)), asAzure(c) as Workspace]));
      await checkAzureAccess(credential(), 'azureml candidates');
      for (const [key, w] of workspaces) {
        const workspace = await call(() => clientFor(w.subscriptionId).workspaces.get(w.resourceGroup, w.workspace)).catch((error) => {
          throw new SetupError(`azureml candidates: cannot read ${describe(w)}: ${(error as Error).message.split('\n')[0]}`);
        });
        if (workspace.location) locations.set(key, workspace.location.toLowerCase().replace(/\s+/g, ''));
      }
    },

    priceKeys(candidate) {
      const c = asAzure(candidate);
      return [{ catalog: 'azureml', region: locationOf(c), type: c.sku }];
    },

    async deploy(candidate, context) {
      const c = asAzure(candidate);
      const ml = clientFor(c.subscriptionId);
      const owner: ResourceOwner = { sweepId: context.sweepId, candidateId: c.id, createdAt: context.createdAt, expiresAt: context.expiresAt };
      // The kind says nothing on Azure, and names are short (32): the label is the rest of the candidate id.
      const deploymentName = resourceName('ms', owner, 32, c.id.replace(/^azureml-/, ''));
      let requested = false;
      const teardown = () =>
        teardownSteps(
          requested
            ? [
                [
                  `delete deployment ${deploymentName} of endpoint ${c.endpointName}`,
                  () => ml.onlineDeployments.beginDeleteAndWait(c.resourceGroup, c.workspace, c.endpointName, deploymentName, lro),
                ],
              ]
            : [],
          retry,
        );
      try {
        const { location } = await endpointFor(c, context);
        const body: OnlineDeployment = {
          location,
          tags: ownerTags(owner),
          sku: { name: 'Default', capacity: c.instanceCount },
          properties: {
            endpointComputeType: 'Managed',
            instanceType: c.sku,
            model: c.model,
            ...(c.environmentId ? { environmentId: c.environmentId } : {}),
            ...(c.codeId && c.scoringScript ? { codeConfiguration: { codeId: c.codeId, scoringScript: c.scoringScript } } : {}),
            environmentVariables: { ...c.environment },
            requestSettings: {
              maxConcurrentRequestsPerInstance: c.maxConcurrentRequestsPerInstance,
              requestTimeout: isoSeconds(Math.min(context.timeoutMs, MAX_REQUEST_TIMEOUT_MS)),
            },
            description: `modelsweep candidate ${c.id} of sweep ${context.sweepId}`,
          },
        };
        // Sent means it may exist, even if the answer never came: teardown deletes it (not-found is fine).
        requested = true;
        const poller = await call(() =>
          ml.onlineDeployments.beginCreateOrUpdate(c.resourceGroup, c.workspace, c.endpointName, deploymentName, body, lro),
        );
        return { candidate: c, candidateId: c.id, deploymentName, poller, teardown };
      } catch (error) {
        await teardown().catch(() => {});
        throw azureFailure(error, `creating deployment ${deploymentName} (${c.sku} × ${c.instanceCount})`);
      }
    },

    async waitReady(deployment, context) {
      const c = deployment.candidate;
      const timeoutMs = options.readyTimeoutMs ?? 45 * 60_000;
      const abortSignal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(context.signal ? [context.signal] : [])]);
      try {
        await deployment.poller.pollUntilDone({ abortSignal });
        deployment.scoring = await scoringOf(c);
      } catch (error) {
        if (abortSignal.aborted) {
          throw new CandidateError(
            'failed',
            context.signal?.aborted
              ? `interrupted while waiting for deployment ${deployment.deploymentName}`
              : `deployment ${deployment.deploymentName} not provisioned after ${Math.round(timeoutMs / 60_000)} min (${logsHint(c, deployment.deploymentName)})`,
            { cause: error },
          );
        }
        const failure = azureFailure(error, `deployment ${deployment.deploymentName}`);
        throw failure.status === 'failed' ? new CandidateError('failed', `${failure.message} (${logsHint(c, deployment.deploymentName)})`) : failure;
      }
    },

    invoker(deployment, context) {
      if (!deployment.scoring) throw new ModelsweepError('platform', `deployment ${deployment.deploymentName} is not ready`);
      return httpInvoker({
        url: deployment.scoring.uri,
        headers: { authorization: deployment.scoring.authorization, 'azureml-model-deployment': deployment.deploymentName },
        timeoutMs: context.timeoutMs,
        connections: 64,
      });
    },

    async releaseSharedResources(context) {
      const sweep = sweeps.get(context.sweepId);
      sweeps.delete(context.sweepId);
      if (!sweep) return;
      await Promise.allSettled(sweep.ready.values());
      await teardownSteps(
        [...sweep.requested.values()].map(
          (c) =>
            [
              `delete endpoint ${c.endpointName}`,
              () => clientFor(c.subscriptionId).onlineEndpoints.beginDeleteAndWait(c.resourceGroup, c.workspace, c.endpointName, lro),
            ] as const,
        ),
        retry,
      );
    },

    costPerInstanceHour(candidate, prices) {
      const c = asAzure(candidate);
      return prices.instanceHour('azureml', locationOf(c), c.sku).usd;
    },

    estimateMeasurementCost(candidate, plan, prices) {
      const c = asAzure(candidate);
      const hourly = prices.instanceHour('azureml', locationOf(c), c.sku).usd * c.instanceCount;
      return hourlyMeasurementCost(hourly, plan, KIND_RULES.azureml.provisioningSeconds, `${c.instanceCount} × ${c.sku}`);
    },
  };
}

/** Quota, capacity and SKUs a region does not offer make a candidate unavailable; anything else failed. */
function azureFailure(error: unknown, doing: string): CandidateError {
  const failure = classify(error, doing);
  if (
    failure.status === 'failed' &&
    /(sku|instance type|vm size)\b.*\bnot (supported|available)|not available in (this|the) region/i.test(failure.message)
  ) {
    return new CandidateError('unavailable', failure.message);
  }
  return failure;
}

/** An Azure custom role (the shape `az role definition create` takes). */
export interface AzureRoleDefinition {
  readonly Name: string;
  readonly Description: string;
  readonly Actions: string[];
  readonly DataActions: string[];
  readonly AssignableScopes: string[];
}

/**
 * The Azure counterpart of the AWS adapters' IAM statements: a custom role with what Azure ML
 * candidates (and the janitor) need, assignable at the workspace, the narrowest scope Azure ML
 * allows. The built-in "AzureML Data Scientist" role includes all of it.
 */
export function azureMlRoleDefinition(workspace: { subscriptionId: string; resourceGroup: string; workspace: string }): AzureRoleDefinition {
  const ml = 'Microsoft.MachineLearningServices';
  return {
    Name: 'modelsweep Azure ML sweeps',
    Description: 'Create, invoke and delete online endpoints and deployments for modelsweep sweeps',
    Actions: [
      `${ml}/workspaces/read`,
      `${ml}/workspaces/onlineEndpoints/read`,
      `${ml}/workspaces/onlineEndpoints/write`,
      `${ml}/workspaces/onlineEndpoints/delete`,
      `${ml}/workspaces/onlineEndpoints/listKeys/action`,
      `${ml}/workspaces/onlineEndpoints/token/action`,
      `${ml}/workspaces/onlineEndpoints/deployments/read`,
      `${ml}/workspaces/onlineEndpoints/deployments/write`,
      `${ml}/workspaces/onlineEndpoints/deployments/delete`,
      // A deployment reads the registered model, environment and code it is built from.
      `${ml}/workspaces/models/*/read`,
      `${ml}/workspaces/environments/*/read`,
      `${ml}/workspaces/codes/*/read`,
      // Status of the long-running creates and deletes.
      `${ml}/locations/*/read`,
    ],
    DataActions: [`${ml}/workspaces/onlineEndpoints/score/action`],
    AssignableScopes: [
      `/subscriptions/${workspace.subscriptionId}/resourceGroups/${workspace.resourceGroup}/providers/${ml}/workspaces/${workspace.workspace}`,
    ],
  };
}
