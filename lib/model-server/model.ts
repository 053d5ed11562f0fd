import { InferenceSession, Tensor } from 'onnxruntime-node';

import { ModelsweepError } from '../errors';
import { type BatchingOptions, DynamicBatcher } from './batcher';
import { ModelServerError } from './errors';
import { parseInferenceRequest, type TensorType, toFeeds } from './request';

export interface LoadModelOptions {
  /** Path of the `.onnx` file. */
  readonly modelPath: string;
  /**
   * Threads onnxruntime uses inside one operator (`intraOpNumThreads`).
   * @default 0, onnxruntime's choice: one per physical core
   */
  readonly threads?: number;
  /** Dynamic batching of concurrent requests. @default off (every request runs alone) */
  readonly batching?: BatchingOptions;
}

/** A model loaded into an onnxruntime session, ready to serve. */
export interface LoadedModel {
  readonly session: InferenceSession;
  readonly modelPath: string;
  readonly threads: number;
  readonly loadMs: number;
  /** Set when concurrent requests are batched. */
  readonly batcher?: DynamicBatcher;
  /** 1 when requests run alone. */
  readonly maxBatchSize: number;
}

const loaded = new Map<string, Promise<LoadedModel>>();
let loadCount = 0;

/**
 * Loads a model once per process (per path and thread count); later calls share the session,
 * so a warm Lambda container or a long-running server never pays the load again. A failed load
 * is forgotten, so the next call retries instead of failing forever.
 */
export function loadModel(options: LoadModelOptions): Promise<LoadedModel> {
  const threads = options.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0) {
    throw new ModelsweepError('invalid-input', `threads must be a non-negative integer (0 = one per core), got ${threads}`);
  }
  const batching = options.batching && options.batching.maxBatchSize > 1 ? options.batching : undefined;
  const key = `${options.modelPath}\u0000${threads}\u0000${batching ? `${batching.maxBatchSize}/${batching.maxDelayMs}` : ''}`;
  let pending = loaded.get(key);
  if (!pending) {
    pending = createSession(options.modelPath, threads, batching);
    loaded.set(key, pending);
    pending.catch(() => loaded.delete(key));
  }
  return pending;
}

async function createSession(modelPath: string, threads: number, batching: BatchingOptions | undefined): Promise<LoadedModel> {
  const started = performance.now();
  loadCount++;
  const session = await InferenceSession.create(modelPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const loadMs = performance.now() - started;
  if (!batching) return { session, modelPath, threads, loadMs, maxBatchSize: 1 };
  const batcher = new DynamicBatcher((feeds) => session.run(feeds) as Promise<Record<string, Tensor>>, batching);
  return { session, modelPath, threads, loadMs, batcher, maxBatchSize: batching.maxBatchSize };
}

/** How many times this process has created an inference session; 1 in a warm server. */
export function modelLoadCount(): number {
  return loadCount;
}

/** The body of a health check: the server is up and this model is loaded. */
export function healthBody(model: LoadedModel): { status: 'ok'; threads: number; maxBatchSize: number; loadMs: number; modelLoads: number } {
  return { status: 'ok', threads: model.threads, maxBatchSize: model.maxBatchSize, loadMs: Math.round(model.loadMs), modelLoads: loadCount };
}

export interface OutputTensor {
  readonly dims: readonly number[];
  readonly type: string;
  readonly data: Array<number | boolean | string>;
}

/** A successful response body. */
export interface InferenceResponse {
  readonly outputs: Record<string, OutputTensor>;
  readonly requestId: string;
}

/**
 * Validates a parsed request body against the model's inputs, runs the model and returns its
 * outputs as JSON-ready tensors. Bad input throws a 4xx {@link ModelServerError}; a failure
 * inside onnxruntime throws a 500 one.
 */
export async function predict(model: LoadedModel, body: unknown, requestId: string): Promise<InferenceResponse> {
  const request = parseInferenceRequest(body);
  const feeds = toFeeds(request, model.session.inputMetadata, makeTensor);
  let results: InferenceSession.ReturnType;
  try {
    results = await (model.batcher ? model.batcher.submit(feeds as Record<string, Tensor>) : model.session.run(feeds));
  } catch (error) {
    throw new ModelServerError('ModelError', `the model failed to run: ${(error as Error).message}`, undefined, { cause: error });
  }
  const outputs: Record<string, OutputTensor> = {};
  for (const [name, value] of Object.entries(results)) {
    const tensor = value as Tensor;
    outputs[name] = { dims: tensor.dims, type: tensor.type, data: toJsonArray(tensor) };
  }
  return { outputs, requestId };
}

function makeTensor(type: TensorType, data: ArrayLike<unknown>, dims: number[]): Tensor {
  return new Tensor(type, data as Tensor.DataTypeMap[typeof type], dims);
}

function toJsonArray(tensor: Tensor): Array<number | boolean | string> {
  const data = tensor.data as ArrayLike<number | bigint | string>;
  if (tensor.type === 'bool') return Array.from(data as ArrayLike<number>, (v) => v !== 0);
  return Array.from(data, (v) => (typeof v === 'bigint' ? Number(v) : v));
}
