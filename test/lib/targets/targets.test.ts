import { describe, expect, it } from 'vitest';

import { demoPayload } from '../../../examples/demo-model/demo-model';
import { PriceBook } from '../../../lib/cost/price-book';
import type { Candidate } from '../../../lib/spec/expand';
import { type AdapterContext, CandidateError } from '../../../lib/targets/adapter';
import { httpTarget } from '../../../lib/targets/http-target';
import { localTarget, runningLocalServers } from '../../../lib/targets/local-target';
import { DEMO_MODEL_PATH } from '../../helpers/demo-model';
import { fixedDelayServer } from '../../helpers/test-servers';

const context: AdapterContext = {
  sweepId: 's',
  baseDir: '/',
  modelPath: DEMO_MODEL_PATH,
  timeoutMs: 5_000,
  createdAt: new Date(),
  expiresAt: new Date(Date.now() + 3600_000),
  prices: PriceBook.snapshot(),
};
const local = (threads: number, modelPath?: string): Candidate => ({
  id: `local-threads${threads}`,
  group: 0,
  environment: {},
  kind: 'local',
  threads,
  maxBatchSize: 1,
  costPerHour: 0.1,
  ...(modelPath ? { modelPath } : {}),
});
const payload = { body: JSON.stringify(demoPayload(1)), contentType: 'application/json' };

describe('local target', () => {
  it('starts the model server on 127.0.0.1 with the thread count, serves, and is gone after teardown', async () => {
    const deployment = await localTarget.deploy(local(2), context);
    try {
      expect(new URL(deployment.url).hostname).toBe('127.0.0.1');
      await localTarget.waitReady(deployment, context);
      expect(await (await fetch(`${deployment.url}/ping`)).json()).toMatchObject({ threads: 2 });
      const invoker = localTarget.invoker(deployment, context);
      expect(await invoker.invoke(payload)).toEqual({ ok: true });
      await invoker.close?.();
      expect(runningLocalServers()).toBe(1);
    } finally {
      await deployment.teardown();
    }
    expect(deployment.process.exitCode !== null || deployment.process.signalCode !== null).toBe(true);
    expect(runningLocalServers()).toBe(0);
    await deployment.teardown(); // idempotent
    await expect(fetch(`${deployment.url}/ping`)).rejects.toThrow();
  });

  it('fails the candidate, naming the file, when the model is missing', async () => {
    await expect(localTarget.deploy(local(1, '/nonexistent/model.onnx'), context)).rejects.toThrow(CandidateError);
    await expect(localTarget.deploy(local(1, '/nonexistent/model.onnx'), context)).rejects.toThrow(
      /model file \/nonexistent\/model\.onnx does not exist/,
    );
    expect(runningLocalServers()).toBe(0);
  });

  it("fails the candidate with the server's own words when it cannot start", async () => {
    const notAModel = __filename; // a file, but not ONNX
    await expect(localTarget.deploy(local(1, notAModel), context)).rejects.toThrow(/the model server exited before listening: .*could not start/);
    expect(runningLocalServers()).toBe(0);
  });
});

describe('http target', () => {
  const http = (url: string): Candidate => ({
    id: 'h',
    group: 0,
    environment: {},
    kind: 'http',
    url,
    costPerHour: 0.3,
    headers: { 'x-api-key': 'k' },
  });

  it('drives an existing endpoint and prices it as the user said', async () => {
    const server = await fixedDelayServer(1);
    try {
      const deployment = await httpTarget.deploy(http(server.url), context);
      await httpTarget.waitReady(deployment, context);
      const invoker = httpTarget.invoker(deployment, context);
      expect(await invoker.invoke(payload)).toEqual({ ok: true });
      await invoker.close?.();
      expect(httpTarget.costPerInstanceHour(http(server.url), PriceBook.snapshot())).toBe(0.3);
    } finally {
      await server.close();
    }
  });

  it('fails the candidate when nothing answers', async () => {
    const deployment = await httpTarget.deploy(http('http://127.0.0.1:9/x'), context);
    await expect(httpTarget.waitReady(deployment, context)).rejects.toThrow(/^cannot reach http:\/\/127\.0\.0\.1:9\/x \(ECONNREFUSED\)$/);
  });
});
