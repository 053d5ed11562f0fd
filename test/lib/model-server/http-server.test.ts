import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { demoPayload } from '../../../examples/demo-model/demo-model';
import { type RunningModelServer, startModelHttpServer } from '../../../lib/model-server/http-server';
import { modelLoadCount } from '../../../lib/model-server/model';
import { DEMO_MODEL_PATH, referenceForward } from '../../helpers/demo-model';
import { writeFailingModel } from '../../helpers/failing-model';

const logger = new Logger({ logLevel: 'SILENT' });

async function post(url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const response = await fetch(`${url}/invocations`, { method: 'POST', body, headers });
  return { status: response.status, headers: response.headers, json: (await response.json()) as any };
}

describe('model server over HTTP', () => {
  let server: RunningModelServer;
  beforeAll(async () => {
    server = await startModelHttpServer({ modelPath: DEMO_MODEL_PATH, threads: 2, port: 0, maxBodyBytes: 64 * 1024, logger });
  });
  afterAll(() => server.close());

  it('answers on 127.0.0.1 and reports readiness on /ping', async () => {
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
    const ping = await fetch(`${server.url}/ping`);
    expect(ping.status).toBe(200);
    expect(await ping.json()).toMatchObject({ status: 'ok', threads: 2 });
  });

  it('returns the outputs the demo model computes in plain TypeScript', async () => {
    const payload = demoPayload(8);
    const { status, json } = await post(server.url, JSON.stringify(payload));
    expect(status).toBe(200);
    const output = json.outputs.probabilities;
    expect(output.dims).toEqual([8, 10]);
    expect(output.type).toBe('float32');
    const expected = referenceForward(payload.inputs.input.data, 8).flat();
    expect(output.data).toHaveLength(expected.length);
    output.data.forEach((value: number, i: number) => expect(value).toBeCloseTo(expected[i], 5));
  });

  it('accepts the instances shorthand for single-input models', async () => {
    const payload = demoPayload(2);
    const rows = [payload.inputs.input.data.slice(0, 256), payload.inputs.input.data.slice(256)];
    const { status, json } = await post(server.url, JSON.stringify({ instances: rows }));
    expect(status).toBe(200);
    const expected = referenceForward(payload.inputs.input.data, 2).flat();
    json.outputs.probabilities.data.forEach((value: number, i: number) => expect(value).toBeCloseTo(expected[i], 5));
  });

  it('loads the model once across many requests', async () => {
    const before = modelLoadCount();
    const body = JSON.stringify(demoPayload(1));
    const results = await Promise.all(Array.from({ length: 40 }, () => post(server.url, body)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(modelLoadCount()).toBe(before);
    expect(before).toBe(1);
  });

  it.each([
    ['not JSON', '{"inputs": ', 400, /not valid JSON/],
    ['an empty body', '', 400, /body is empty/],
    ['a JSON array', '[1,2]', 400, /must be a JSON object/],
    ['no inputs or instances', '{"data": [1]}', 400, /missing field.*"inputs".*"instances"/],
    ['a missing model input', '{"inputs": {}}', 400, /missing field: the model needs input "input"/],
    ['an unknown input name', JSON.stringify({ inputs: { ...demoPayload(1).inputs, extra: { dims: [1], data: [1] } } }), 400, /no input "extra"/],
    [
      'a wrong fixed dimension',
      JSON.stringify({ inputs: { input: { dims: [1, 255], data: new Array(255).fill(0) } } }),
      400,
      /dimension 1 must be 256/,
    ],
    ['a wrong rank', JSON.stringify({ inputs: { input: { dims: [256], data: new Array(256).fill(0) } } }), 400, /expects 2 dimensions/],
    [
      'data not matching dims',
      JSON.stringify({ inputs: { input: { dims: [2, 256], data: new Array(256).fill(0) } } }),
      400,
      /need 512 values, data has 256/,
    ],
    [
      'a wrong declared dtype',
      JSON.stringify({ inputs: { input: { ...demoPayload(1).inputs.input, type: 'int64' } } }),
      400,
      /wrong dtype: the model expects float32/,
    ],
    [
      'a non-number value',
      JSON.stringify({ inputs: { input: { dims: [1, 256], data: [true, ...new Array(255).fill(0)] } } }),
      400,
      /wrong dtype: float32 input takes numbers/,
    ],
    [
      'a string value',
      JSON.stringify({ inputs: { input: { dims: [1, 256], data: ['1', ...new Array(255).fill(0)] } } }),
      400,
      /inputs\.input\.data\[0\]/,
    ],
    ['ragged instances', JSON.stringify({ instances: [[1, 2], [1]] }), 400, /every row needs 2 values/],
    ['a string in instances', JSON.stringify({ instances: [[1, 'x']] }), 400, /instances\[0\]\[1\]: wrong dtype: rows hold numbers/],
    ['instances that are not rows', JSON.stringify({ instances: [1, 2] }), 400, /instances\[0\]: expected a row/],
    [
      'data that is not an array',
      JSON.stringify({ inputs: { input: { dims: [1, 256], data: 'abc' } } }),
      400,
      /inputs\.input\.data: expected an array/,
    ],
  ])('rejects %s with %i and says what is wrong', async (_what, body, status, message) => {
    const response = await post(server.url, body);
    expect(response.status).toBe(status);
    expect(response.json.error.message).toMatch(message);
    expect(response.json.requestId).toEqual(expect.any(String));
  });

  it('names the field path of a schema error', async () => {
    const response = await post(server.url, JSON.stringify({ inputs: { input: { dims: [1, -2], data: [] } } }));
    expect(response.status).toBe(400);
    expect(response.json.error.path).toBe('inputs.input.dims[1]');
  });

  it('rejects a body over the size limit with 413', async () => {
    const response = await post(server.url, JSON.stringify(demoPayload(64)));
    expect(response.status).toBe(413);
    expect(response.json.error.message).toMatch(/over the 65536-byte limit/);
  });

  it('rejects a number beyond float range (1e999 reads as Infinity) with 400 naming the value', async () => {
    const body = JSON.stringify(demoPayload(1)).replace(/"data":\[[^,]+,/, '"data":[1e999,');
    const tensor = await post(server.url, body);
    expect(tensor.status).toBe(400);
    expect(tensor.json.error).toMatchObject({ code: 'BadRequest', path: 'inputs.input.data[0]' });
    expect(tensor.json.error.message).toMatch(/takes finite numbers, got Infinity/);
    const rows = await post(server.url, `{"instances":[[${Array(255).fill(0).join(',')},-1e999]]}`);
    expect(rows.status).toBe(400);
    expect(rows.json.error.message).toMatch(/finite numbers, got -Infinity/);
  });

  it('rejects a body that is not JSON by content type with 415', async () => {
    const response = await post(server.url, 'a=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(response.status).toBe(415);
    expect(response.json.error.message).toMatch(/send application\/json/);
  });

  it('answers 404 for unknown routes and 405 for wrong methods', async () => {
    expect((await fetch(`${server.url}/predict`, { method: 'POST' })).status).toBe(404);
    const wrongMethod = await fetch(`${server.url}/invocations`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('echoes a caller-supplied request id', async () => {
    const response = await post(server.url, JSON.stringify(demoPayload(1)), { 'content-type': 'application/json', 'x-request-id': 'req-42' });
    expect(response.json.requestId).toBe('req-42');
    expect(response.headers.get('x-request-id')).toBe('req-42');
  });
});

describe('model server with a model that fails', () => {
  it('answers 500 with the request id when onnxruntime fails', async () => {
    const server = await startModelHttpServer({ modelPath: writeFailingModel(), port: 0, logger });
    try {
      const response = await post(server.url, JSON.stringify({ instances: [[1, 2, 3, 4]] }), {
        'content-type': 'application/json',
        'x-request-id': 'req-500',
      });
      expect(response.status).toBe(500);
      expect(response.json).toMatchObject({ error: { code: 'ModelError' }, requestId: 'req-500' });
      expect(response.json.error.message).toMatch(/the model failed to run/);
    } finally {
      await server.close();
    }
  });

  it('fails to start with a clear error when the model file is missing', async () => {
    await expect(startModelHttpServer({ modelPath: '/nonexistent/model.onnx', port: 0, logger })).rejects.toThrow(/nonexistent/);
  });
});

describe('model server with dynamic batching', () => {
  it('answers concurrent requests of different sizes with their own rows, as computed one by one', async () => {
    const server = await startModelHttpServer({
      modelPath: DEMO_MODEL_PATH,
      threads: 1,
      port: 0,
      batching: { maxBatchSize: 16, maxDelayMs: 20 },
      logger,
    });
    try {
      expect(await (await fetch(`${server.url}/ping`)).json()).toMatchObject({ status: 'ok', maxBatchSize: 16 });
      const payloads = [1, 8, 2, 1].map((n) => demoPayload(n));
      const answers = await Promise.all(payloads.map((p) => post(server.url, JSON.stringify(p))));
      answers.forEach(({ status, json }, i) => {
        expect(status).toBe(200);
        const expected = referenceForward(payloads[i].inputs.input.data, payloads[i].inputs.input.dims[0]).flat();
        expect(json.outputs.probabilities.dims).toEqual([payloads[i].inputs.input.dims[0], 10]);
        json.outputs.probabilities.data.forEach((value: number, k: number) => expect(value).toBeCloseTo(expected[k], 5));
      });
    } finally {
      await server.close();
    }
  });
});

describe('model server under a burst', () => {
  /**
   * A burst of `count` requests of the demo payload against a server with these limits, then one
   * more request once it is over. Batching with a long delay holds each admitted request, so the
   * burst finds the limits reached.
   */
  async function burst(limits: { maxInFlight?: number; maxBytesInFlight?: number }, count: number) {
    const server = await startModelHttpServer({
      modelPath: DEMO_MODEL_PATH,
      threads: 1,
      port: 0,
      batching: { maxBatchSize: 16, maxDelayMs: 300 },
      ...limits,
      logger,
    });
    try {
      const body = JSON.stringify(demoPayload(1));
      const answers = await Promise.all(Array.from({ length: count }, () => post(server.url, body)));
      return { body, answers, statuses: answers.map((r) => r.status).sort(), after: (await post(server.url, body)).status };
    } finally {
      await server.close();
    }
  }

  it('answers requests beyond its in-flight limit 503 with Retry-After, and takes new ones once those finish', async () => {
    const { answers, statuses, after } = await burst({ maxInFlight: 2 }, 6);
    expect(statuses).toEqual([200, 200, 503, 503, 503, 503]);
    const refused = answers.find((r) => r.status === 503)!;
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.json.error).toMatchObject({ code: 'Busy' });
    expect(refused.json.error.message).toMatch(/the most it takes at once is 2/);
    expect(after).toBe(200);
  });

  it('bounds the bytes of bodies in flight, not only their number', async () => {
    const { body, statuses, after } = await burst({ maxBytesInFlight: 4000 }, 4);
    expect(Buffer.byteLength(body)).toBeGreaterThan(1334); // two fit in 4000 bytes, three do not
    expect(statuses).toEqual([200, 200, 503, 503]);
    expect(after).toBe(200);
  });
});
