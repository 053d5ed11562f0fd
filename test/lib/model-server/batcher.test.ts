import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

import { DynamicBatcher } from '../../../lib/model-server/batcher';
import { DEMO_MODEL_PATH, referenceForward } from '../../helpers/demo-model';

/** A model that doubles its input, counting its runs and the rows of each. */
function doubler() {
  const runs: number[] = [];
  const run = async (feeds: Record<string, Tensor>) => {
    const x = feeds.x;
    runs.push(x.dims[0]);
    if ((x.data as Float32Array).some(Number.isNaN)) throw new Error('NaN input');
    return {
      y: new Tensor(
        'float32',
        (x.data as Float32Array).map((v) => v * 2),
        x.dims,
      ),
    };
  };
  return { runs, run };
}
const rows = (...values: number[][]) => ({ x: new Tensor('float32', Float32Array.from(values.flat()), [values.length, values[0].length]) });
const out = (feeds: Record<string, Tensor>) => Array.from(feeds.y.data as Float32Array);

describe('DynamicBatcher', () => {
  it('stacks requests that arrive together into one run and gives each its own rows', async () => {
    const model = doubler();
    const batcher = new DynamicBatcher(model.run, { maxBatchSize: 8, maxDelayMs: 20 });
    const results = await Promise.all([batcher.submit(rows([1, 2])), batcher.submit(rows([3, 4], [5, 6])), batcher.submit(rows([7, 8]))]);
    expect(model.runs).toEqual([4]);
    expect(results.map(out)).toEqual([
      [2, 4],
      [6, 8, 10, 12],
      [14, 16],
    ]);
    expect(results[1].y.dims).toEqual([2, 2]);
  });

  it('runs a full batch at once, starts a new one when the next request would overflow it, and runs a large request alone', async () => {
    const model = doubler();
    const batcher = new DynamicBatcher(model.run, { maxBatchSize: 3, maxDelayMs: 20 });
    await Promise.all([
      batcher.submit(rows([1], [1])),
      batcher.submit(rows([2], [2])),
      batcher.submit(rows([3])),
      batcher.submit(rows([4], [4], [4], [4])),
    ]);
    // [2 rows] flushed when 2 more would overflow; [2 rows + 1 row] is full; 4 rows run alone.
    expect(model.runs).toEqual([2, 3, 4]);
  });

  it('keeps requests of different shapes apart, and batch size 1 never waits', async () => {
    const model = doubler();
    const batcher = new DynamicBatcher(model.run, { maxBatchSize: 8, maxDelayMs: 20 });
    await Promise.all([batcher.submit(rows([1, 2])), batcher.submit(rows([1, 2, 3])), batcher.submit(rows([3, 4]))]);
    expect(model.runs.sort()).toEqual([1, 2]);
    const single = doubler();
    await new DynamicBatcher(single.run, { maxBatchSize: 1, maxDelayMs: 10_000 }).submit(rows([1]));
    expect(single.runs).toEqual([1]);
  });

  it('runs each request alone when the stacked run fails, so only the bad one fails', async () => {
    const model = doubler();
    const batcher = new DynamicBatcher(model.run, { maxBatchSize: 8, maxDelayMs: 20 });
    const [good, bad] = await Promise.allSettled([batcher.submit(rows([1, 2])), batcher.submit(rows([Number.NaN, 1]))]);
    expect(good).toEqual({ status: 'fulfilled', value: expect.anything() });
    expect(out((good as PromiseFulfilledResult<Record<string, Tensor>>).value)).toEqual([2, 4]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { message: 'NaN input' } });
    expect(model.runs).toEqual([2, 1, 1]);
  });

  it('gives the demo model the same answers batched as one by one', async () => {
    const session = await InferenceSession.create(DEMO_MODEL_PATH);
    let runs = 0;
    const batcher = new DynamicBatcher((feeds) => (runs++, session.run(feeds) as Promise<Record<string, Tensor>>), {
      maxBatchSize: 16,
      maxDelayMs: 20,
    });
    const inputs = [1, 3, 2].map((batch, i) => Array.from({ length: batch * 256 }, (_, k) => Math.sin(k + i)));
    const results = await Promise.all(
      inputs.map((data) => batcher.submit({ input: new Tensor('float32', Float32Array.from(data), [data.length / 256, 256]) })),
    );
    expect(runs).toBe(1);
    results.forEach((result, i) => {
      const [output] = Object.values(result);
      const expected = referenceForward(inputs[i], inputs[i].length / 256).flat();
      expect(output.dims[0]).toBe(inputs[i].length / 256);
      Array.from(output.data as Float32Array).forEach((v, k) => expect(v).toBeCloseTo(expected[k], 4));
    });
  });
});
