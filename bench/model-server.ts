/**
 * Model server overhead: the Lambda handler (direct invocation and function URL) against raw
 * onnxruntime `session.run` on the same model, same thread count, in the same process, at
 * batch 1 and batch 32. Rounds alternate between the contenders so drift hits all of them.
 *
 *   npm run bench:model-server            (pins to one core with taskset; see bench/model-server.sh)
 *
 * Prints a table and writes bench/results/model-server.json.
 */
import { join } from 'node:path';

import { InferenceSession, Tensor } from 'onnxruntime-node';

import { demoPayload } from '../examples/demo-model/demo-model';
import { DEMO_BUILD_DIR } from '../examples/demo-model/generate';
import { writeResult } from './write-result.cjs';

const MODEL_PATH = join(DEMO_BUILD_DIR, 'model.onnx');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const TARGET_MS_PER_ROUND = Number(process.env.BENCH_ROUND_MS ?? 400);

type Contender = { name: string; call: () => Promise<unknown> };

async function timeCalls(call: () => Promise<unknown>, iterations: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await call();
  return Number(process.hrtime.bigint() - start) / 1000 / iterations; // µs per call
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  process.env.MODEL_PATH = MODEL_PATH;
  process.env.MODEL_SERVER_THREADS = '1';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const { handler } = await import('../functions/model-server/index');
  const raw = await InferenceSession.create(MODEL_PATH, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });

  const results: Array<Record<string, number | string>> = [];
  for (const batch of [1, 32]) {
    const payload = demoPayload(batch);
    const tensor = new Tensor('float32', Float32Array.from(payload.inputs.input.data), payload.inputs.input.dims);
    const body = JSON.stringify(payload);
    const urlEvent = {
      requestContext: { http: { method: 'POST', path: '/' } },
      headers: { 'content-type': 'application/json' },
      body,
      isBase64Encoded: false,
    };
    const contenders: Contender[] = [
      { name: 'raw session.run', call: () => raw.run({ input: tensor }) },
      { name: 'handler, direct invoke', call: () => handler(payload, { awsRequestId: 'bench' }) },
      { name: 'handler, function URL', call: () => handler(urlEvent, { awsRequestId: 'bench' }) },
    ];
    // Warm up and size the iteration count so a round takes about TARGET_MS_PER_ROUND.
    for (const c of contenders) await timeCalls(c.call, 50);
    const perCall = await timeCalls(contenders[0].call, 200);
    const iterations = Math.max(50, Math.round((TARGET_MS_PER_ROUND * 1000) / perCall / contenders.length));
    const samples = new Map(contenders.map((c) => [c.name, [] as number[]]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? contenders : [...contenders].reverse();
      for (const c of order) samples.get(c.name)!.push(await timeCalls(c.call, iterations));
    }
    const rawMedian = median(samples.get('raw session.run')!);
    for (const c of contenders) {
      const us = median(samples.get(c.name)!);
      results.push({
        batch,
        contender: c.name,
        medianUsPerCall: +us.toFixed(1),
        ratioToRaw: +(us / rawMedian).toFixed(3),
        overheadUs: +(us - rawMedian).toFixed(1),
        iterations,
        rounds: ROUNDS,
      });
    }
  }
  console.table(results);
  writeResult('model-server', process.argv.slice(2), results);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
