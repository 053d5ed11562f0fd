import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { azureMlAdapter } from '../../../lib/targets/azureml-target';
import { TAG_KEYS } from '../../../lib/targets/cloud/resource-tags';
import { cloudSpec, runCloudSweep } from '../../helpers/cloud-sweep';
import { type FakeArm, fakeArm, fakeCredential } from '../../helpers/fake-arm';
import { startTestServer, type TestServer } from '../../helpers/test-servers';

const SUBSCRIPTION = '11111111-2222-3333-4444-555555555555';
let scoring: TestServer;
/** Requests the scoring server saw: [authorization, azureml-model-deployment]. */
let scored: Array<[string | undefined, string | undefined]>;
let scoringStatus = 200;
let arm: FakeArm;

beforeAll(async () => {
  scoring = await startTestServer((req, res) => {
    scored.push([req.headers.authorization, req.headers['azureml-model-deployment'] as string | undefined]);
    res.statusCode = scoringStatus;
    res.setHeader('content-type', 'application/json');
    res.end('[0.1, 0.9]');
  });
});
afterAll(() => scoring.close());
beforeEach(() => {
  scored = [];
  scoringStatus = 200;
  arm = fakeArm({ scoringUri: `${scoring.url}score` });
});

const group = (extra: Record<string, unknown> = {}) => ({
  kind: 'azureml',
  subscriptionId: SUBSCRIPTION,
  resourceGroup: 'ml-rg',
  workspace: 'ml-ws',
  endpointName: 'resnet-sweep',
  model: 'azureml:resnet:3',
  environmentId: 'azureml:onnx-env:1',
  codeId: 'azureml:resnet-score:1',
  scoringScript: 'score.py',
  skus: ['Standard_DS3_v2'],
  environment: { OMP_NUM_THREADS: '4' },
  ...extra,
});
const adapters = (credential = fakeCredential()) => ({
  azureml: azureMlAdapter({ credential, httpClient: arm.httpClient, pollIntervalMs: 1, retry: { sleep: async () => {} } }),
});
const sweep = (groups: unknown[], extra?: Record<string, unknown>, credential?: ReturnType<typeof fakeCredential>) =>
  runCloudSweep(cloudSpec(groups, extra), adapters(credential));
/** The ARM requests without the async-operation polls, for readable sequences. */
const calls = () => arm.log.filter((l) => l !== 'GET op');
const deploymentPuts = () => arm.bodies.filter((b) => /^PUT .*\/deployments\//.test(b.request));
const nothingLeft = () => [...arm.deployments.values()].every((d) => d.size === 0);

describe('Azure ML adapter', () => {
  it('creates the sweep endpoint, a deployment per SKU, measures each alone through its header, and deletes them all', async () => {
    // Listed cheapest first, so the order they are deployed in (cheapest possible first) is the spec's.
    const outcome = await sweep([group({ skus: ['Standard_F4s_v2', 'Standard_DS3_v2'] })]);

    expect(outcome.records.map((r) => [r.candidate.id, r.status])).toEqual([
      ['azureml-standard-f4s-v2-x1', 'measured'],
      ['azureml-standard-ds3-v2-x1', 'measured'],
    ]);
    const [first, second] = deploymentPuts().map((b) => b.request.split('/').pop()!);
    expect(calls()).toEqual([
      'GET /', // the workspace: access and its region
      'GET /onlineEndpoints/resnet-sweep',
      'PUT /onlineEndpoints/resnet-sweep',
      'GET /onlineEndpoints/resnet-sweep', // the long-running operation's final read
      `PUT /onlineEndpoints/resnet-sweep/deployments/${first}`,
      `GET /onlineEndpoints/resnet-sweep/deployments/${first}`,
      'GET /onlineEndpoints/resnet-sweep',
      'POST /onlineEndpoints/resnet-sweep/listKeys',
      `DELETE /onlineEndpoints/resnet-sweep/deployments/${first}`,
      `PUT /onlineEndpoints/resnet-sweep/deployments/${second}`,
      `GET /onlineEndpoints/resnet-sweep/deployments/${second}`,
      'GET /onlineEndpoints/resnet-sweep',
      'POST /onlineEndpoints/resnet-sweep/listKeys',
      `DELETE /onlineEndpoints/resnet-sweep/deployments/${second}`,
      'DELETE /onlineEndpoints/resnet-sweep',
    ]);
    // Every create and delete went through Azure-AsyncOperation polling (2 polls each).
    expect(arm.log.filter((l) => l === 'GET op')).toHaveLength(2 * 6);
    expect(first).toMatch(/^ms-standard-f4s-v2-x1-[0-9a-f]{8}$/);
    expect(first.length).toBeLessThanOrEqual(32);

    const endpointBody = arm.bodies.find((b) => b.request === 'PUT /onlineEndpoints/resnet-sweep')!.body;
    expect(endpointBody).toMatchObject({ location: 'eastus', properties: { authMode: 'Key' } });
    expect(endpointBody.tags[TAG_KEYS.sweepId]).toBe(outcome.sweepId);
    expect(endpointBody.tags[TAG_KEYS.candidateId]).toBeUndefined();
    const deployment = deploymentPuts()[0].body;
    expect(deployment).toMatchObject({
      location: 'eastus',
      sku: { name: 'Default', capacity: 1 },
      properties: {
        endpointComputeType: 'Managed',
        instanceType: 'Standard_F4s_v2',
        model: 'azureml:resnet:3',
        environmentId: 'azureml:onnx-env:1',
        codeConfiguration: { codeId: 'azureml:resnet-score:1', scoringScript: 'score.py' },
        environmentVariables: { OMP_NUM_THREADS: '4' },
        requestSettings: { maxConcurrentRequestsPerInstance: 1, requestTimeout: 'PT2S' },
      },
    });
    expect(deployment.tags).toMatchObject({ [TAG_KEYS.sweepId]: outcome.sweepId, [TAG_KEYS.candidateId]: 'azureml-standard-f4s-v2-x1' });
    expect(Date.parse(deployment.tags[TAG_KEYS.expiresAt])).toBeGreaterThan(Date.now());

    // Each deployment took its own load, with the endpoint key.
    expect(new Set(scored.map(([auth]) => auth))).toEqual(new Set(['Bearer key-1']));
    expect(new Set(scored.map(([, d]) => d))).toEqual(new Set([first, second]));
    expect(scored.filter(([, d]) => d === first).length).toBe(outcome.records[0].phases[0].requests);
    expect(arm.endpoints.size).toBe(0);
    expect(outcome.stored).toBe(2);
  });

  it('deploys under an endpoint that exists without deleting it or its other deployments, and uses its auth mode', async () => {
    arm = fakeArm({ scoringUri: `${scoring.url}score`, authMode: 'AMLToken' });
    arm.seedEndpoint('resnet-sweep', { team: 'ml' }, [{ name: 'blue', tags: {} }]);
    arm.endpoints.get('resnet-sweep')!.properties.authMode = 'AMLToken';
    arm.endpoints.get('resnet-sweep')!.location = 'westus2';
    const outcome = await sweep([
      group({ environmentId: undefined, codeId: undefined, scoringScript: undefined, instanceCounts: [2], maxConcurrentRequestsPerInstance: 4 }),
    ]);
    expect(outcome.records[0].status).toBe('measured');
    expect(calls()).not.toContain('PUT /onlineEndpoints/resnet-sweep');
    expect(calls()).not.toContain('DELETE /onlineEndpoints/resnet-sweep');
    expect(calls()).toContain('POST /onlineEndpoints/resnet-sweep/token');
    expect(new Set(scored.map(([auth]) => auth))).toEqual(new Set(['Bearer aml-token']));
    expect([...arm.deployments.get('resnet-sweep')!.keys()]).toEqual(['blue']);
    const body = deploymentPuts()[0].body;
    expect(body.location).toBe('westus2');
    expect(body.sku).toEqual({ name: 'Default', capacity: 2 });
    expect(body.properties.requestSettings.maxConcurrentRequestsPerInstance).toBe(4);
    expect(body.properties.codeConfiguration).toBeUndefined();
    expect(body.properties.environmentId).toBeUndefined();
  });

  it('retries 409 Conflict and 429 Too Many Requests (Retry-After), then succeeds', async () => {
    arm.fault({
      match: /^PUT .*\/deployments\//,
      status: 409,
      code: 'Conflict',
      message: 'There is an ongoing operation on endpoint resnet-sweep',
      times: 2,
    });
    // More 429s than the SDK's own Retry-After policy takes (3 retries): the adapter's backoff takes over.
    arm.fault({
      match: /^POST .*listKeys/,
      status: 429,
      code: 'TooManyRequests',
      message: 'Too many requests',
      headers: { 'retry-after': '0' },
      times: 6,
    });
    const outcome = await sweep([group()]);
    expect(outcome.records[0].status).toBe('measured');
    expect(calls().filter((l) => /^PUT .*\/deployments\//.test(l))).toHaveLength(3);
    expect(calls().filter((l) => l.endsWith('listKeys'))).toHaveLength(7);
    expect(nothingLeft()).toBe(true);
  });

  it('marks a SKU without quota unavailable, deletes its deployment, and goes on', async () => {
    arm = fakeArm({
      scoringUri: `${scoring.url}score`,
      failDeployments: {
        match: /nc4as/,
        code: 'InsufficientQuota',
        message: 'Not enough quota available for Standard_NC4as_T4_v3 in SubscriptionId 1111. Current usage/limit: 0/0. Additional needed: 4',
      },
    });
    const outcome = await sweep([group({ skus: ['Standard_NC4as_T4_v3', 'Standard_DS3_v2'] })]);
    expect(outcome.records.map((r) => r.status)).toEqual(['unavailable', 'measured']);
    expect(outcome.records[0].reason).toMatch(/Not enough quota available for Standard_NC4as_T4_v3/);
    expect(nothingLeft()).toBe(true);
    expect(arm.endpoints.size).toBe(0);
  });

  it('fails a deployment whose container crashes, pointing at its logs, and deletes it', async () => {
    arm = fakeArm({
      scoringUri: `${scoring.url}score`,
      failDeployments: { match: /./, code: 'ResourceNotReady', message: 'User container has crashed or terminated' },
    });
    const outcome = await sweep([group()]);
    expect(outcome.records[0].status).toBe('failed');
    expect(outcome.records[0].reason).toMatch(
      /ResourceNotReady\. User container has crashed or terminated \(logs: az ml online-deployment get-logs -g ml-rg -w ml-ws -e resnet-sweep -n ms-standard-ds3-v2-x1-/,
    );
    expect(calls().filter((l) => l.startsWith('DELETE')).length).toBe(2);
    expect(nothingLeft()).toBe(true);
    expect(arm.endpoints.size).toBe(0);
  });

  const faults: Array<[string, RegExp, number, 'failed' | 'unavailable', RegExp]> = [
    ['creating the endpoint', /^PUT \/onlineEndpoints\/resnet-sweep$/, 400, 'failed', /BadArgument/],
    ['creating the deployment', /^PUT .*\/deployments\//, 400, 'failed', /BadArgument/],
    ['an unsupported SKU', /^PUT .*\/deployments\//, 400, 'unavailable', /not supported/],
    ['reading the scoring URI', /^GET \/onlineEndpoints\/resnet-sweep$/, 403, 'failed', /AuthorizationFailed/],
    ['reading the key', /listKeys/, 403, 'failed', /AuthorizationFailed/],
  ];
  it.each(faults)('deletes everything it created when %s fails', async (what, match, status, expected, reason) => {
    const code = status === 403 ? 'AuthorizationFailed' : 'BadArgument';
    const message =
      what === 'an unsupported SKU'
        ? 'Instance type Standard_DS3_v2 is not supported for managed online deployments in this region'
        : `${code}: ${what}`;
    // The endpoint is read to see if it exists and after creating it; the scoring read is the third.
    arm.fault({ match, status, code, message, after: what === 'reading the scoring URI' ? 2 : 0 });
    const outcome = await sweep([group()]);
    expect(outcome.records[0].status).toBe(expected);
    expect(outcome.records[0].reason).toMatch(reason);
    expect(nothingLeft()).toBe(true);
    expect(arm.endpoints.size).toBe(0);
  });

  it('keeps measuring when the scoring endpoint answers errors, and still deletes the deployment', async () => {
    scoringStatus = 503;
    const outcome = await sweep([group()]);
    expect(outcome.records[0].phases[0].errors).toHaveProperty('http_503');
    expect(nothingLeft()).toBe(true);
  });

  it('treats an already-deleted deployment as torn down and retries a conflicting delete', async () => {
    arm.fault({ match: /^DELETE .*\/deployments\//, status: 404, code: 'ResourceNotFound', message: 'gone' });
    arm.fault({ match: /^DELETE \/onlineEndpoints\/resnet-sweep$/, status: 409, code: 'Conflict', message: 'deployment deletion in progress' });
    const outcome = await sweep([group()]);
    expect(outcome.records[0].teardownError).toBeUndefined();
    expect(calls().filter((l) => l === 'DELETE /onlineEndpoints/resnet-sweep')).toHaveLength(2);
    expect(arm.endpoints.size).toBe(0);
  });

  it('records a deletion that could not be done, and keeps the measurements', async () => {
    arm.fault({ match: /^DELETE .*\/deployments\//, status: 403, code: 'AuthorizationFailed', message: 'not allowed to delete' });
    const outcome = await sweep([group()]);
    expect(outcome.records[0].status).toBe('measured');
    expect(outcome.records[0].teardownError).toMatch(/delete deployment ms-standard-.* of endpoint resnet-sweep: .*not allowed to delete/);
  });

  it('stops before anything is requested without Azure credentials, and before anything is created without the workspace', async () => {
    await expect(sweep([group()], {}, fakeCredential('EnvironmentCredential is unavailable'))).rejects.toThrow(
      /azureml candidates: no Azure credentials \(EnvironmentCredential is unavailable\); run az login/,
    );
    expect(arm.log).toEqual([]);
    arm.fault({
      match: /^GET \/$/,
      status: 404,
      code: 'ResourceNotFound',
      message: "The Resource 'Microsoft.MachineLearningServices/workspaces/ml-ws' was not found",
    });
    await expect(sweep([group()])).rejects.toThrow(/cannot read workspace ml-ws \(resource group ml-rg, subscription 1111.*\): .*was not found/);
    expect(arm.log).toEqual(['GET /']);
  });

  it('refuses an over-budget SKU before creating anything, counting provisioning time', async () => {
    const outcome = await sweep([group({ skus: ['Standard_NC6s_v3'] })], { budget: { maxUsd: 0.5 } });
    expect(outcome.records[0].status).toBe('over-budget');
    expect(outcome.records[0].reason).toMatch(/1 × Standard_NC6s_v3 at \$3\.060\/h \(including ~20 min to deploy and remove\)/);
    expect(calls()).toEqual(['GET /']);
  });

  it('prices a SKU in the workspace region and says when the catalog has no price there', async () => {
    arm = fakeArm({ scoringUri: `${scoring.url}score`, workspaceLocation: 'westeurope' });
    await expect(sweep([group()])).rejects.toThrow(/westeurope/);
    expect(calls()).toEqual(['GET /']);
  });
});
