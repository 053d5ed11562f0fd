import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import type { APIGatewayProxyStructuredResultV2 as UrlResult, LambdaFunctionURLEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';

import { demoPayload } from '../../examples/demo-model/demo-model';
import { builtAssets } from '../../lib/build/asset-paths';
import { DEMO_MODEL_PATH, referenceForward } from '../helpers/demo-model';

type Handler = typeof import('../../functions/model-server/index').handler;
let handler: Handler;
let modelLoadCount: () => number;

beforeAll(async () => {
  // The handler reads its configuration when the module loads, as in a Lambda container.
  process.env.MODEL_PATH = DEMO_MODEL_PATH;
  process.env.MODEL_SERVER_THREADS = '1';
  process.env.MAX_BODY_BYTES = String(32 * 1024);
  ({ handler } = await import('../../functions/model-server/index'));
  ({ modelLoadCount } = await import('../../lib/model-server/model'));
});

function urlEvent(method: string, body?: string, base64 = false): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { http: { method, path: '/' } } as LambdaFunctionURLEvent['requestContext'],
    body: base64 && body ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: base64,
  } as unknown as LambdaFunctionURLEvent;
}

describe('model server Lambda handler', () => {
  it('returns the model outputs for a direct invocation', async () => {
    const payload = demoPayload(4);
    const result = (await handler(payload, { awsRequestId: 'direct-1' })) as any;
    expect(result.requestId).toBe('direct-1');
    const expected = referenceForward(payload.inputs.input.data, 4).flat();
    result.outputs.probabilities.data.forEach((v: number, i: number) => expect(v).toBeCloseTo(expected[i], 5));
  });

  it('throws a named error for bad input on a direct invocation', async () => {
    await expect(handler({ inputs: { input: { dims: [1, 3], data: [1, 2, 3] } } }, { awsRequestId: 'direct-2' })).rejects.toMatchObject({
      name: 'BadRequest',
      status: 400,
      message: expect.stringMatching(/inputs\.input\.dims\[1\]: wrong shape/),
    });
  });

  it('loads the model once across many invocations', async () => {
    for (let i = 0; i < 25; i++) await handler(demoPayload(1), { awsRequestId: `warm-${i}` });
    expect(modelLoadCount()).toBe(1);
  });

  it('serves a function URL POST, including a base64 body', async () => {
    const result = (await handler(urlEvent('POST', JSON.stringify(demoPayload(1)), true), { awsRequestId: 'url-1' })) as UrlResult;
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body!).outputs.probabilities.dims).toEqual([1, 10]);
  });

  it('answers a function URL with 413, 400 and 405 for bad requests', async () => {
    const big = (await handler(urlEvent('POST', JSON.stringify(demoPayload(32))), { awsRequestId: 'url-2' })) as UrlResult;
    expect(big.statusCode).toBe(413);
    const notJson = (await handler(urlEvent('POST', 'nope'), { awsRequestId: 'url-3' })) as UrlResult;
    expect(notJson.statusCode).toBe(400);
    expect(JSON.parse(notJson.body!)).toMatchObject({ error: { code: 'BadRequest' }, requestId: 'url-3' });
    const put = (await handler(urlEvent('PUT', '{}'), { awsRequestId: 'url-4' })) as UrlResult;
    expect(put.statusCode).toBe(405);
  });

  it('answers a function URL GET with health', async () => {
    const result = (await handler(urlEvent('GET'), { awsRequestId: 'url-5' })) as UrlResult;
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body!)).toMatchObject({ status: 'ok', threads: 1, modelLoads: 1 });
  });
});

describe('model server as a process (the built serve.js)', () => {
  async function runServe(args: string[]) {
    const child = spawn(process.execPath, [join(builtAssets.modelServerHandler, 'serve.js'), ...args], {
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    return { child, stderr: () => stderr };
  }

  it('prints its URL once listening on 127.0.0.1 and serves requests', async () => {
    const { child } = await runServe(['serve', '--model', DEMO_MODEL_PATH, '--port', '0', '--threads', '1']);
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      const { event, url } = JSON.parse(line);
      expect(event).toBe('listening');
      expect(new URL(url).hostname).toBe('127.0.0.1');
      const response = await fetch(`${url}/invocations`, {
        method: 'POST',
        body: JSON.stringify(demoPayload(1)),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it.each([
    [['--port', '0'], /MODEL_PATH is not set/],
    [['--model', DEMO_MODEL_PATH, '--threads', 'two'], /MODEL_SERVER_THREADS must be a whole number/],
    [['--model', DEMO_MODEL_PATH, '--port', '70000'], /--port must be 0-65535/],
    [['--model', DEMO_MODEL_PATH, '--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 with a clear message for bad arguments %j', async (args, message) => {
    const env = { ...process.env };
    delete env.MODEL_PATH;
    const child = spawn(process.execPath, [join(builtAssets.modelServerHandler, 'serve.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});
