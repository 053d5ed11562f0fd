import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ModelServerError } from './errors';
import { parseInferenceRequest, toFeeds, type TensorType } from './request';

export interface LoadModelOptions {
  /** Path of the `.onnx` file. */
  readonly modelPath: string;
  /**
   * Threads onnxruntime uses inside one operator (`intraOpNumThreads`).
   * @default 0, onnxruntime's choice: one per physical core
   */
  readonly threads?: number;
}

/** A model loaded into an onnxruntime session, ready to serve. */
export interface LoadedModel {
  readonly session: InferenceSession;
  readonly modelPath: string;
  readonly threads: number;
  readonly loadMs: number;
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
    throw new Error(`threads must be a non-negative integer (0 = one per core), got ${threads}`);
  }
  const key = `${options.modelPath}\u0000${threads}`;
  let pending = loaded.get(key);
  if (!pending) {
    pending = createSession(options.modelPath, threads);
    loaded.set(key, pending);
    pending.catch(() => loaded.delete(key));
  }
  return pending;
}

async function createSession(modelPath: string, threads: number): Promise<LoadedModel> {
  const started = performance.now();
  loadCount++;
  const session = await InferenceSession.create(modelPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  return { session, modelPath, threads, loadMs: performance.now() - started };
}

/** How many times this process has created an inference session; 1 in a warm server. */
export function modelLoadCount(): number {
  return loadCount;
}

/** The body of a health check: the server is up and this model is loaded. */
export function healthBody(model: LoadedModel): { status: 'ok'; threads: number; loadMs: number; modelLoads: number } {
  return { status: 'ok', threads: model.threads, loadMs: Math.round(model.loadMs), modelLoads: loadCount };
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
    results = await model.session.run(feeds);
  } catch (error) {
    throw new ModelServerError('ModelError', `the model failed to run: ${(error as Error).message}`);
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
