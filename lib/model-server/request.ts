import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { z } from 'zod';

import { formatPath } from '../util/field-path';
import { ModelServerError } from './errors';

/** Element types the server accepts in a request, and the typed array each becomes. */
export const TENSOR_TYPES = ['float32', 'float64', 'int32', 'int64', 'int8', 'uint8', 'bool'] as const;
export type TensorType = (typeof TENSOR_TYPES)[number];

const tensorInput = z.strictObject({
  dims: z.array(z.number().int().nonnegative()).min(1).max(8),
  // Elements are type-checked once, against the model's dtype, while they are copied into the
  // typed array (toFeeds): a per-element schema here would check every number twice, slowly.
  data: z.custom<unknown[]>((v) => Array.isArray(v), { message: 'expected an array of values' }),
  type: z.enum(TENSOR_TYPES).optional(),
});

/**
 * A request: either named tensors (`inputs`, each with `dims`, flat `data` and optional `type`),
 * or, for single-input models, `instances`: one row per batch item.
 */
export const inferenceRequestSchema = z.union([
  z.strictObject({ inputs: z.record(z.string().min(1), tensorInput) }),
  z.strictObject({
    instances: z.array(z.custom<unknown[]>((v) => Array.isArray(v), { message: 'expected a row: an array of numbers' })).min(1),
  }),
]);
export type InferenceRequest = z.infer<typeof inferenceRequestSchema>;

export interface TensorInput {
  readonly dims: number[];
  readonly data: readonly unknown[];
  readonly type?: TensorType;
}

/** Parses a request body's text as JSON, with a 400 that says so when it is not. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new ModelServerError('BadRequest', 'the request body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelServerError('BadRequest', `the request body is not valid JSON (${(error as Error).message})`, undefined, { cause: error });
  }
}

/** Validates a parsed body against the schema, naming the first wrong field. */
export function parseInferenceRequest(body: unknown): InferenceRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ModelServerError('BadRequest', 'the request body must be a JSON object with "inputs" or "instances"');
  }
  if (!('inputs' in body) && !('instances' in body)) {
    throw new ModelServerError('BadRequest', 'missing field: the body needs "inputs" (named tensors) or "instances" (rows)');
  }
  const shape = 'inputs' in body ? inferenceRequestSchema.options[0] : inferenceRequestSchema.options[1];
  const parsed = shape.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelServerError('BadRequest', issue.message, formatPath(issue.path));
  }
  return parsed.data;
}

type TensorMetadata = Extract<InferenceSession.ValueMetadata, { isTensor: true }>;

/** Turns a validated request into tensors, checking names, types and shapes against the model. */
export function toFeeds(
  request: InferenceRequest,
  inputs: readonly InferenceSession.ValueMetadata[],
  makeTensor: (type: TensorType, data: ArrayLike<unknown>, dims: number[]) => OrtTensor,
): Record<string, OrtTensor> {
  const named = 'inputs' in request ? request.inputs : instancesToInputs(request.instances, inputs);
  const expected = new Map(inputs.map((m) => [m.name, m]));
  for (const name of Object.keys(named)) {
    if (!expected.has(name)) {
      throw new ModelServerError(
        'BadRequest',
        `the model has no input "${name}"; its inputs are ${[...expected.keys()].map((n) => `"${n}"`).join(', ')}`,
        `inputs.${name}`,
      );
    }
  }
  const feeds: Record<string, OrtTensor> = {};
  for (const meta of inputs) {
    const input = named[meta.name];
    if (!input) throw new ModelServerError('BadRequest', `missing field: the model needs input "${meta.name}"`, `inputs.${meta.name}`);
    if (!meta.isTensor) throw new ModelServerError('BadRequest', 'non-tensor inputs are not supported', `inputs.${meta.name}`);
    feeds[meta.name] = toTensor(meta, input, makeTensor);
  }
  return feeds;
}

function instancesToInputs(instances: unknown[][], inputs: readonly InferenceSession.ValueMetadata[]): Record<string, TensorInput> {
  if (inputs.length !== 1) {
    throw new ModelServerError(
      'BadRequest',
      `"instances" works only for single-input models; this model has ${inputs.length} inputs, send "inputs"`,
      'instances',
    );
  }
  const width = instances[0].length;
  const ragged = instances.findIndex((row) => row.length !== width);
  if (ragged >= 0) {
    throw new ModelServerError(
      'BadRequest',
      `every row needs ${width} values like row 0, this one has ${instances[ragged].length}`,
      `instances[${ragged}]`,
    );
  }
  const data = new Array<number>(instances.length * width);
  instances.forEach((row, r) =>
    row.forEach((v, c) => {
      if (typeof v !== 'number')
        throw new ModelServerError('BadRequest', `wrong dtype: rows hold numbers, got ${JSON.stringify(v)}`, `instances[${r}][${c}]`);
      data[r * width + c] = v;
    }),
  );
  return { [inputs[0].name]: { dims: [instances.length, width], data } };
}

function toTensor(
  meta: TensorMetadata,
  input: TensorInput,
  makeTensor: (type: TensorType, data: ArrayLike<unknown>, dims: number[]) => OrtTensor,
): OrtTensor {
  const path = `inputs.${meta.name}`;
  const modelType = meta.type as TensorType;
  if (!(TENSOR_TYPES as readonly string[]).includes(modelType)) {
    throw new ModelServerError('BadRequest', `the model's input type ${meta.type} is not supported by this server`, path);
  }
  if (input.type !== undefined && input.type !== modelType) {
    throw new ModelServerError('BadRequest', `wrong dtype: the model expects ${modelType}, the request says ${input.type}`, `${path}.type`);
  }
  checkDims(meta.shape, input.dims, `${path}.dims`);
  const size = input.dims.reduce((a, b) => a * b, 1);
  if (input.data.length !== size) {
    throw new ModelServerError(
      'BadRequest',
      `wrong shape: dims ${JSON.stringify(input.dims)} need ${size} values, data has ${input.data.length}`,
      `${path}.data`,
    );
  }
  return makeTensor(modelType, convertData(modelType, input.data, `${path}.data`), input.dims);
}

function checkDims(modelShape: ReadonlyArray<number | string>, dims: number[], path: string): void {
  if (modelShape.length === 0) return; // the model does not declare a shape
  if (dims.length !== modelShape.length) {
    throw new ModelServerError(
      'BadRequest',
      `wrong shape: the model expects ${modelShape.length} dimensions ${describeShape(modelShape)}, got ${dims.length}`,
      path,
    );
  }
  modelShape.forEach((expected, i) => {
    if (typeof expected === 'number' && expected >= 0 && dims[i] !== expected) {
      throw new ModelServerError(
        'BadRequest',
        `wrong shape: dimension ${i} must be ${expected} ${describeShape(modelShape)}, got ${dims[i]}`,
        `${path}[${i}]`,
      );
    }
  });
}

function describeShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.map((d) => (typeof d === 'string' ? d || '?' : d < 0 ? '?' : d)).join(', ')}]`;
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

const INTEGER_RANGES: Partial<Record<TensorType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

type NumericArray = Float32Array | Float64Array | Int32Array | Int8Array | Uint8Array;
const NUMERIC_ARRAYS: Record<Exclude<TensorType, 'int64' | 'bool'>, new (length: number) => NumericArray> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
};

/** Copies request values into the typed array of the model's dtype, checking each on the way. */
function convertData(type: TensorType, data: readonly unknown[], path: string): ArrayLike<unknown> {
  const bad = (i: number, why: string) => new ModelServerError('BadRequest', `wrong dtype: ${why}`, `${path}[${i}]`);
  if (type === 'bool') {
    return Uint8Array.from(data, (v, i) => {
      if (typeof v !== 'boolean' && v !== 0 && v !== 1) throw bad(i, `bool input takes true/false or 0/1, got ${JSON.stringify(v)}`);
      return v ? 1 : 0;
    });
  }
  const range = INTEGER_RANGES[type];
  const check = (v: unknown, i: number): number => {
    if (typeof v !== 'number') throw bad(i, `${type} input takes numbers, got ${JSON.stringify(v)}`);
    // JSON's 1e999 parses to Infinity; a float32 input saturates beyond its own range.
    if (!Number.isFinite(v) || (type === 'float32' && Math.abs(v) > FLOAT32_MAX)) {
      throw bad(i, `${type} input takes finite numbers, got ${String(v)} (beyond ${type === 'float32' ? 'float32' : 'float64'}'s range)`);
    }
    if (range && (!Number.isInteger(v) || v < range[0] || v > range[1])) {
      throw bad(i, `${type} input takes integers in [${range[0]}, ${range[1]}], got ${v}`);
    }
    return v;
  };
  if (type === 'int64') return BigInt64Array.from(data, (v, i) => BigInt(check(v, i)));
  const out = new NUMERIC_ARRAYS[type](data.length);
  for (let i = 0; i < data.length; i++) out[i] = check(data[i], i);
  return out;
}
