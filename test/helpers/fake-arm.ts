import { createHttpHeaders, type HttpClient, type PipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import type { AccessToken, TokenCredential } from '@azure/identity';

/** A credential that hands out a fixed token, or fails like a machine with no Azure login. */
export function fakeCredential(fail?: string): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    async getToken(scope: string | string[]): Promise<AccessToken> {
      scopes.push(...[scope].flat());
      if (fail) throw Object.assign(new Error(fail), { name: 'CredentialUnavailableError' });
      return { token: 'arm-token', expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

interface Resource {
  name: string;
  location: string;
  tags: Record<string, string>;
  properties: Record<string, unknown>;
  sku?: unknown;
  provisioningState: 'Creating' | 'Succeeded' | 'Failed' | 'Deleting';
}

interface Operation {
  polls: number;
  /** What the operation ends in, applied to the fake's state once it completes. */
  finish: () => { status: 'Succeeded' } | { status: 'Failed'; error: { code: string; message: string } };
}

export interface Fault {
  /** Matched against "METHOD /path" (the path after the workspace, e.g. "PUT /onlineEndpoints/ep/deployments/d"). */
  readonly match: RegExp;
  readonly status: number;
  readonly code?: string;
  readonly message?: string;
  readonly headers?: Record<string, string>;
  /** How many matching requests get it. @default 1 */
  times?: number;
  /** Matching requests answered normally before it applies. @default 0 */
  after?: number;
}

export interface FakeArmOptions {
  /** Where created endpoints say they score. */
  readonly scoringUri: string;
  /** Async-operation polls before an operation completes. @default 2 */
  readonly pollsToComplete?: number;
  /** Deployments whose provisioning fails, by name pattern, with the error ARM reports. */
  readonly failDeployments?: { match: RegExp; code: string; message: string };
  readonly workspaceLocation?: string;
  readonly authMode?: 'Key' | 'AMLToken';
}

const HOST = 'https://management.azure.com';
const WORKSPACE_PATH =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)(\/.*)?$/;

/**
 * A stateful Azure Resource Manager for Azure ML online endpoints, answering as ARM does:
 * PUT → 201 with an Azure-AsyncOperation URL, DELETE → 202 with one (or 204 when there is
 * nothing), the operation InProgress for a few polls and then Succeeded or Failed; 404 with
 * ResourceNotFound; injected faults such as 409 Conflict or 429 with Retry-After. Every request
 * is logged as "METHOD /path" (relative to the workspace; operation polls as "GET op").
 */
export function fakeArm(options: FakeArmOptions) {
  const endpoints = new Map<string, Resource>();
  const deployments = new Map<string, Map<string, Resource>>();
  const operations = new Map<string, Operation>();
  const faults: Fault[] = [];
  const log: string[] = [];
  const bodies: Array<{ request: string; body: any }> = [];
  let nextOperation = 0;
  const keys = { primaryKey: 'key-1', secondaryKey: 'key-2' };

  const json = (request: PipelineRequest, status: number, body?: unknown, headers: Record<string, string> = {}): PipelineResponse => ({
    request,
    status,
    headers: createHttpHeaders({ 'content-type': 'application/json', 'x-ms-request-id': `req-${log.length}`, ...headers }),
    bodyAsText: body === undefined ? '' : JSON.stringify(body),
  });
  const error = (request: PipelineRequest, status: number, code: string, message: string, headers?: Record<string, string>) =>
    json(request, status, { error: { code, message } }, headers);
  const notFound = (request: PipelineRequest, what: string) => error(request, 404, 'ResourceNotFound', `${what} not found`);

  const startOperation = (request: PipelineRequest, status: number, body: unknown, finish: Operation['finish']) => {
    const id = `op-${++nextOperation}`;
    operations.set(id, { polls: 0, finish });
    return json(request, status, body, {
      'azure-asyncoperation': `${HOST}/providers/Microsoft.MachineLearningServices/locations/eastus/mfeOperationsStatus/${id}?api-version=2022-10-01`,
      'retry-after': '0',
    });
  };

  const view = (r: Resource, kind: 'endpoint' | 'deployment') => ({
    id: `/…/${kind}s/${r.name}`,
    name: r.name,
    type:
      kind === 'endpoint'
        ? 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints'
        : 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments',
    location: r.location,
    tags: r.tags,
    ...(r.sku ? { sku: r.sku } : {}),
    properties: {
      ...r.properties,
      provisioningState: r.provisioningState,
      ...(kind === 'endpoint' && r.provisioningState === 'Succeeded' ? { scoringUri: options.scoringUri } : {}),
    },
  });

  const handle = (request: PipelineRequest): PipelineResponse => {
    const url = new URL(request.url);
    const op = /mfeOperationsStatus\/([^/?]+)/.exec(url.pathname)?.[1];
    if (op) {
      log.push('GET op');
      const operation = operations.get(op);
      if (!operation) return error(request, 404, 'NotFound', 'no such operation');
      if (++operation.polls < (options.pollsToComplete ?? 2)) return json(request, 200, { status: 'InProgress' });
      return json(request, 200, operation.finish());
    }
    const [, , , , rest = ''] = WORKSPACE_PATH.exec(url.pathname) ?? [];
    const line = `${request.method} ${rest || '/'}`;
    log.push(line);
    if (request.body) bodies.push({ request: line, body: JSON.parse(String(request.body)) });
    const fault = faults.find((f) => {
      if (!f.match.test(line) || (f.times ?? 1) <= 0) return false;
      if ((f.after ?? 0) > 0) return ((f.after = f.after! - 1), false);
      return true;
    });
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      return error(request, fault.status, fault.code ?? 'Error', fault.message ?? `HTTP ${fault.status}`, fault.headers);
    }
    if (!rest && request.method === 'GET') return json(request, 200, { name: 'ws', location: options.workspaceLocation ?? 'eastus', properties: {} });
    const parts = rest.split('/').filter(Boolean);
    if (parts[0] !== 'onlineEndpoints') return error(request, 400, 'BadRequest', `unexpected ${line}`);
    const [, endpointName, sub, deploymentName, action] = parts;
    if (!endpointName) return json(request, 200, { value: [...endpoints.values()].map((e) => view(e, 'endpoint')) });
    const endpoint = endpoints.get(endpointName);
    if (sub === 'listKeys') return endpoint ? json(request, 200, keys) : notFound(request, `endpoint ${endpointName}`);
    if (sub === 'token')
      return endpoint ? json(request, 200, { accessToken: 'aml-token', tokenType: 'Bearer' }) : notFound(request, `endpoint ${endpointName}`);
    if (sub === undefined) {
      if (request.method === 'GET') return endpoint ? json(request, 200, view(endpoint, 'endpoint')) : notFound(request, `endpoint ${endpointName}`);
      if (request.method === 'PUT') {
        const body = JSON.parse(String(request.body));
        const created: Resource = {
          name: endpointName,
          location: body.location,
          tags: body.tags ?? {},
          properties: { ...body.properties, authMode: options.authMode ?? body.properties.authMode },
          provisioningState: 'Creating',
        };
        endpoints.set(endpointName, created);
        deployments.set(endpointName, deployments.get(endpointName) ?? new Map());
        return startOperation(request, 201, view(created, 'endpoint'), () => ((created.provisioningState = 'Succeeded'), { status: 'Succeeded' }));
      }
      if (request.method === 'DELETE') {
        if (!endpoint) return json(request, 204);
        endpoint.provisioningState = 'Deleting';
        return startOperation(
          request,
          202,
          undefined,
          () => (endpoints.delete(endpointName), deployments.delete(endpointName), { status: 'Succeeded' }),
        );
      }
    }
    if (sub === 'deployments' && !action) {
      if (!endpoint) return notFound(request, `endpoint ${endpointName}`);
      const ofEndpoint = deployments.get(endpointName)!;
      if (!deploymentName) return json(request, 200, { value: [...ofEndpoint.values()].map((d) => view(d, 'deployment')) });
      const deployment = ofEndpoint.get(deploymentName);
      if (request.method === 'GET')
        return deployment ? json(request, 200, view(deployment, 'deployment')) : notFound(request, `deployment ${deploymentName}`);
      if (request.method === 'PUT') {
        const body = JSON.parse(String(request.body));
        const created: Resource = {
          name: deploymentName,
          location: body.location,
          tags: body.tags ?? {},
          sku: body.sku,
          properties: body.properties,
          provisioningState: 'Creating',
        };
        ofEndpoint.set(deploymentName, created);
        const failure = options.failDeployments?.match.test(deploymentName) ? options.failDeployments : undefined;
        return startOperation(request, 201, view(created, 'deployment'), () => {
          created.provisioningState = failure ? 'Failed' : 'Succeeded';
          return failure ? { status: 'Failed', error: { code: failure.code, message: failure.message } } : { status: 'Succeeded' };
        });
      }
      if (request.method === 'DELETE') {
        if (!deployment) return json(request, 204);
        deployment.provisioningState = 'Deleting';
        return startOperation(request, 202, undefined, () => (ofEndpoint.delete(deploymentName), { status: 'Succeeded' }));
      }
    }
    return error(request, 400, 'BadRequest', `unexpected ${line}`);
  };

  const httpClient: HttpClient = {
    async sendRequest(request) {
      return handle(request);
    },
  };

  return {
    httpClient,
    log,
    bodies,
    keys,
    endpoints,
    deployments,
    /** Answers the next matching request(s) with an error instead. */
    fault(f: Fault) {
      faults.push(f);
    },
    /** Puts an endpoint (and deployments) there, as a user or an earlier sweep left them. */
    seedEndpoint(name: string, tags: Record<string, string> = {}, seededDeployments: Array<{ name: string; tags: Record<string, string> }> = []) {
      endpoints.set(name, { name, location: 'eastus', tags, properties: { authMode: 'Key' }, provisioningState: 'Succeeded' });
      deployments.set(
        name,
        new Map(
          seededDeployments.map((d) => [
            d.name,
            { name: d.name, location: 'eastus', tags: d.tags, properties: {}, provisioningState: 'Succeeded' as const },
          ]),
        ),
      );
    },
  };
}

export type FakeArm = ReturnType<typeof fakeArm>;
