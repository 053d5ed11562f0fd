import { Tensor } from 'onnxruntime-node';

import { ModelsweepError } from '../errors';

export interface BatchingOptions {
  /** Most rows (first-dimension entries) run together. 1 turns batching off. */
  readonly maxBatchSize: number;
  /** Longest a request waits for others to join its batch. */
  readonly maxDelayMs: number;
}

type Feeds = Record<string, Tensor>;
type Run = (feeds: Feeds) => Promise<Feeds>;

interface Waiting {
  readonly feeds: Feeds;
  readonly rows: number;
  readonly resolve: (outputs: Feeds) => void;
  readonly reject: (error: unknown) => void;
}

interface Group {
  readonly items: Waiting[];
  rows: number;
  timer?: NodeJS.Timeout;
}

/** The number of rows of a request: the shared first dimension of its inputs, or undefined when they differ. */
function rowsOf(feeds: Feeds): number | undefined {
  const firsts = new Set(Object.values(feeds).map((t) => t.dims[0]));
  return firsts.size === 1 ? [...firsts][0] : undefined;
}

/** Requests that can be stacked: same inputs, types and dimensions but the first. */
const signatureOf = (feeds: Feeds) =>
  Object.entries(feeds)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, t]) => `${name}:${t.type}:${t.dims.slice(1).join('x')}`)
    .join('|');

function concat(tensors: readonly Tensor[]): Tensor {
  const first = tensors[0];
  const rows = tensors.reduce((n, t) => n + t.dims[0], 0);
  const dims = [rows, ...first.dims.slice(1)];
  if (first.type === 'string')
    return new Tensor(
      'string',
      tensors.flatMap((t) => t.data as string[]),
      dims,
    );
  const data = first.data as Float32Array;
  const out = new (data.constructor as new (n: number) => Float32Array)(tensors.reduce((n, t) => n + (t.data as Float32Array).length, 0));
  let offset = 0;
  for (const t of tensors) {
    out.set(t.data as Float32Array, offset);
    offset += (t.data as Float32Array).length;
  }
  return new Tensor(first.type as 'float32', out, dims);
}

function slice(tensor: Tensor, fromRow: number, rows: number): Tensor {
  const perRow = tensor.dims.slice(1).reduce((a, b) => a * b, 1);
  const data = (tensor.data as Float32Array).slice(fromRow * perRow, (fromRow + rows) * perRow);
  return new Tensor(tensor.type as 'float32', data, [rows, ...tensor.dims.slice(1)]);
}

/**
 * Dynamic batching: requests that arrive within `maxDelayMs` of the first one waiting are
 * stacked along the first dimension into one model run (up to `maxBatchSize` rows) and each
 * gets its own rows of the outputs back. Fewer, larger runs trade a little latency for
 * throughput, which is what a sweep measures. Requests that cannot be stacked (different
 * shapes, inputs disagreeing on their first dimension, outputs not per row) run alone.
 */
export class DynamicBatcher {
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly run: Run,
    private readonly options: BatchingOptions,
  ) {
    if (!Number.isInteger(options.maxBatchSize) || options.maxBatchSize < 1)
      throw new ModelsweepError('invalid-input', `maxBatchSize must be a whole number of at least 1, got ${options.maxBatchSize}`);
    if (!(options.maxDelayMs >= 0)) throw new ModelsweepError('invalid-input', `maxDelayMs must be 0 or more, got ${options.maxDelayMs}`);
  }

  submit(feeds: Feeds): Promise<Feeds> {
    const rows = rowsOf(feeds);
    if (this.options.maxBatchSize <= 1 || rows === undefined || rows >= this.options.maxBatchSize) return this.run(feeds);
    const key = signatureOf(feeds);
    return new Promise((resolve, reject) => {
      let group = this.groups.get(key);
      if (group && group.rows + rows > this.options.maxBatchSize) {
        this.flush(key);
        group = undefined;
      }
      if (!group) {
        group = { items: [], rows: 0 };
        this.groups.set(key, group);
        group.timer = setTimeout(() => this.flush(key), this.options.maxDelayMs);
      }
      group.items.push({ feeds, rows, resolve, reject });
      group.rows += rows;
      if (group.rows >= this.options.maxBatchSize) this.flush(key);
    });
  }

  private flush(key: string): void {
    const group = this.groups.get(key);
    if (!group) return;
    this.groups.delete(key);
    clearTimeout(group.timer);
    void this.runGroup(group.items);
  }

  private async runGroup(items: readonly Waiting[]): Promise<void> {
    if (items.length === 1) {
      const [only] = items;
      await this.run(only.feeds).then(only.resolve, only.reject);
      return;
    }
    let outputs: Feeds | undefined;
    const total = items.reduce((n, i) => n + i.rows, 0);
    try {
      const stacked = Object.fromEntries(Object.keys(items[0].feeds).map((name) => [name, concat(items.map((i) => i.feeds[name]))]));
      outputs = await this.run(stacked);
      if (Object.values(outputs).some((t) => t.dims[0] !== total)) outputs = undefined;
    } catch {
      outputs = undefined;
    }
    if (!outputs) {
      // Not batchable after all (or the stacked run failed): each request on its own, so one cannot fail the others.
      await Promise.all(items.map((i) => this.run(i.feeds).then(i.resolve, i.reject)));
      return;
    }
    let row = 0;
    for (const item of items) {
      const own = Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, slice(t, row, item.rows)]));
      row += item.rows;
      item.resolve(own);
    }
  }
}
