import { describe, expect, it } from 'vitest';

import { batchPayloads } from '../../../lib/load/batch-payloads';

const json = (body: unknown, name?: string) => ({ body: JSON.stringify(body), contentType: 'application/json', ...(name ? { name } : {}) });
const parsed = (p: { body: Uint8Array | string }) => JSON.parse(String(p.body));

describe('batched requests from the payloads', () => {
  it('packs rows of a JSON array, pooled from every payload in order, into the first payload in their place', () => {
    const payloads = [json({ model: 'm', inputs: [[1], [2]] }), json({ model: 'other', inputs: [[3]] })];

    const batches = batchPayloads(payloads, '/inputs', 4);

    // Three rows pooled: as many requests as rows, each starting one further along.
    expect(batches.map((b) => parsed(b))).toEqual([
      { model: 'm', inputs: [[1], [2], [3], [1]] },
      { model: 'm', inputs: [[2], [3], [1], [2]] },
      { model: 'm', inputs: [[3], [1], [2], [3]] },
    ]);
    expect(batches[0]).toMatchObject({ contentType: 'application/json', name: 'batch of 4' });
  });

  it("packs rows of a tensor { dims, data } (the model server's format): the first dimension is the batch", () => {
    const payloads = [json({ inputs: { input: { dims: [2, 3], data: [1, 2, 3, 4, 5, 6] } } })];

    const [first] = batchPayloads(payloads, '/inputs/input', 3);

    expect(parsed(first!)).toEqual({ inputs: { input: { dims: [3, 3], data: [1, 2, 3, 4, 5, 6, 1, 2, 3] } } });
  });

  it.each([
    ['a pointer to nothing', [json({ inputs: [[1]] })], '/rows', /payloads\[0\] has nothing there; it must point at the rows/],
    ['a pointer to a number', [json({ rows: 3 })], '/rows', /payloads\[0\] has a number there/],
    ['no rows', [json({ rows: [] })], '/rows', /payloads\[0\] has no rows there \(an empty array\)/],
    ['a body that is not JSON', [{ body: 'a,b', contentType: 'text/csv', name: 'csv' }], '/rows', /payloads\[0\] \(csv\) is not JSON/],
    [
      'rows of two shapes',
      [json({ rows: [[1, 2]] }), json({ rows: [[1, 2, 3]] })],
      '/rows',
      /payloads\[1\]'s rows are not shaped as payloads\[0\]'s/,
    ],
    [
      'a tensor its data does not fill',
      [json({ t: { dims: [2, 3], data: [1, 2, 3] } })],
      '/t',
      /a tensor whose data \(3 values\) does not fill its dims \[2, 3\]/,
    ],
    ['the whole payload', [json([[1]])], '', /must point inside the payload/],
  ])('refuses %s, naming the field and the payload', (_what, payloads, path, message) => {
    expect(() => batchPayloads(payloads, path, 2)).toThrow(message);
    expect(() => batchPayloads(payloads, path, 2)).toThrow(/^offline\.batch\.path: /);
  });
});
