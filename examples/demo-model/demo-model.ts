import { encodeModel, floatInitializer, OnnxDataType, tensorValueInfo } from '../../lib/onnx/model-builder';
import { seededRandom, uniformFloat32 } from '../../lib/util/seeded-random';

/**
 * The demo model: a 3-layer perceptron classifier (Gemm→Relu→Gemm→Relu→Gemm→Softmax).
 * About 1.3 M weights: small enough to generate in a second, large enough that a batch of 32
 * takes milliseconds, so inference threads and batch size visibly change latency.
 */
export const DEMO_MODEL = {
  name: 'demo',
  inputName: 'input',
  outputName: 'probabilities',
  /** Layer widths from input to output. */
  layers: [256, 1024, 1024, 10],
  seed: 20261122,
} as const;

export interface DenseLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Row-major [outFeatures, inFeatures], like a PyTorch Linear weight. */
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/** The demo model's weights, derived from its seed (Glorot-uniform weights, small biases). */
export function demoModelWeights(seed: number = DEMO_MODEL.seed): DenseLayer[] {
  const random = seededRandom(seed);
  const layers: DenseLayer[] = [];
  for (let i = 0; i + 1 < DEMO_MODEL.layers.length; i++) {
    const inFeatures = DEMO_MODEL.layers[i];
    const outFeatures = DEMO_MODEL.layers[i + 1];
    const limit = Math.sqrt(6 / (inFeatures + outFeatures));
    layers.push({
      inFeatures,
      outFeatures,
      weight: uniformFloat32(random, inFeatures * outFeatures, limit),
      bias: uniformFloat32(random, outFeatures, 0.05),
    });
  }
  return layers;
}

/** The demo model as the bytes of an ONNX file (opset 13). */
export function encodeDemoModel(weights: DenseLayer[] = demoModelWeights()): Uint8Array {
  const nodes = [];
  const initializers = [];
  let current: string = DEMO_MODEL.inputName;
  for (const [i, layer] of weights.entries()) {
    const last = i === weights.length - 1;
    initializers.push(
      floatInitializer(`W${i}`, [layer.outFeatures, layer.inFeatures], layer.weight),
      floatInitializer(`b${i}`, [layer.outFeatures], layer.bias),
    );
    const gemmOut = `gemm${i}`;
    nodes.push({
      name: `Gemm${i}`,
      opType: 'Gemm',
      input: [current, `W${i}`, `b${i}`],
      output: [gemmOut],
      attribute: [{ name: 'transB', type: 2 /* INT */, i: 1 }],
    });
    const activated = last ? DEMO_MODEL.outputName : `relu${i}`;
    nodes.push({
      name: last ? 'Softmax' : `Relu${i}`,
      opType: last ? 'Softmax' : 'Relu',
      input: [gemmOut],
      output: [activated],
      attribute: last ? [{ name: 'axis', type: 2, i: -1 }] : [],
    });
    current = activated;
  }
  const first = DEMO_MODEL.layers[0];
  const lastWidth = DEMO_MODEL.layers[DEMO_MODEL.layers.length - 1];
  return encodeModel({
    name: DEMO_MODEL.name,
    nodes,
    initializers,
    inputs: [tensorValueInfo(DEMO_MODEL.inputName, OnnxDataType.FLOAT, ['batch', first])],
    outputs: [tensorValueInfo(DEMO_MODEL.outputName, OnnxDataType.FLOAT, ['batch', lastWidth])],
  });
}

/** A request body for the demo model with `batch` seeded rows, in the model server's format. */
export function demoPayload(batch: number, seed = 7): { inputs: Record<string, { dims: number[]; data: number[] }> } {
  const random = seededRandom(seed + batch);
  const width = DEMO_MODEL.layers[0];
  const data = Array.from({ length: batch * width }, () => Math.round((random() * 2 - 1) * 1000) / 1000);
  return { inputs: { [DEMO_MODEL.inputName]: { dims: [batch, width], data } } };
}

/** Triton's model configuration for the demo model (used by the GPU example stack). */
export function tritonConfig(maxBatchSize = 32): string {
  const first = DEMO_MODEL.layers[0];
  const lastWidth = DEMO_MODEL.layers[DEMO_MODEL.layers.length - 1];
  return [
    `name: "${DEMO_MODEL.name}"`,
    'backend: "onnxruntime"',
    `max_batch_size: ${maxBatchSize}`,
    `input [ { name: "${DEMO_MODEL.inputName}" data_type: TYPE_FP32 dims: [ ${first} ] } ]`,
    `output [ { name: "${DEMO_MODEL.outputName}" data_type: TYPE_FP32 dims: [ ${lastWidth} ] } ]`,
    'instance_group [ { kind: KIND_GPU count: 1 } ]',
    'dynamic_batching { }',
    '',
  ].join('\n');
}
