/**
 * The demo classifier and its variants: a model that does a task, trained here from a seed, so a
 * sweep can trade quality against cost on something real. Nothing is downloaded.
 *
 * The task: 10 classes of 256-value inputs, each class a Gaussian cloud around its own centre
 * (centres and noise drawn from the seed). The model: the demo model's shape (256 → 1024 → 1024 →
 * 10, ReLU, softmax), its two hidden layers random and fixed, its output layer trained by ridge
 * regression on their features (an extreme learning machine: one linear solve, seconds on a CPU).
 * The features and their Gram matrix are computed by onnxruntime itself.
 *
 * Variants, all with the demo model's input (`input`, [batch, 256]) and output (`probabilities`):
 * - `fp32`: as trained;
 * - `fp16`: its weights stored as float16, cast back to float32 when the model loads;
 * - `int8`: each layer as DynamicQuantizeLinear → MatMulInteger on weights quantized to int8 (one
 *   scale per layer), then rescaled: a quarter of the weight bytes, and int8 arithmetic;
 * - `small`: a smaller model (256 → 64 → 10) trained the same way: faster, and less accurate.
 */
import * as ort from 'onnxruntime-node';

import { encodeModel, floatInitializer, type GraphDefinition, OnnxDataType, tensorValueInfo } from '../../lib/onnx/model-builder';
import { seededRandom, uniformFloat32 } from '../../lib/util/seeded-random';

export const CLASSIFIER = {
  inputs: 256,
  classes: 10,
  /** How far a sample lies from its class centre, per value (the centres are about 1 apart per value). */
  noise: 2.2,
  seed: 20261206,
  /** Hidden widths of the full model and of the small one. */
  hidden: { full: [2048, 2048], small: [64] },
  trainingExamples: 3000,
  evaluationExamples: 1000,
} as const;

export const CLASSIFIER_VARIANTS = ['fp32', 'fp16', 'int8', 'small'] as const;
export type ClassifierVariant = (typeof CLASSIFIER_VARIANTS)[number];

/** A standard normal draw (Box–Muller) from a uniform source. */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Examples of the task: inputs (row-major, n × 256, rounded to 3 decimals as a payload carries them) and labels. */
export function classifierExamples(n: number, seed: number): { inputs: Float32Array; labels: number[] } {
  const centres = seededRandom(CLASSIFIER.seed);
  const centre = Array.from({ length: CLASSIFIER.classes }, () => Float32Array.from({ length: CLASSIFIER.inputs }, () => normal(centres)));
  const random = seededRandom(seed);
  const inputs = new Float32Array(n * CLASSIFIER.inputs);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = Math.floor(random() * CLASSIFIER.classes);
    labels.push(label);
    for (let j = 0; j < CLASSIFIER.inputs; j++)
      inputs[i * CLASSIFIER.inputs + j] = Math.round((centre[label]![j]! + CLASSIFIER.noise * normal(random)) * 1000) / 1000;
  }
  return { inputs, labels };
}

interface Layer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Row-major [outFeatures, inFeatures]. */
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/** Fixed random hidden layers (Glorot-uniform weights, no bias), from the seed. */
function randomLayers(widths: readonly number[], seed: number): Layer[] {
  const random = seededRandom(seed);
  const sizes = [CLASSIFIER.inputs, ...widths];
  return widths.map((outFeatures, i) => {
    const inFeatures = sizes[i]!;
    return {
      inFeatures,
      outFeatures,
      weight: uniformFloat32(random, inFeatures * outFeatures, Math.sqrt(6 / (inFeatures + outFeatures))),
      bias: new Float32Array(outFeatures),
    };
  });
}

/** Gemm → ReLU per hidden layer, then Gemm → Softmax for the last: float32 weights. */
function fp32Graph(layers: readonly Layer[], name: string): GraphDefinition {
  const nodes = [];
  const initializers = [];
  let current = 'input';
  for (const [i, layer] of layers.entries()) {
    const last = i === layers.length - 1;
    initializers.push(
      floatInitializer(`W${i}`, [layer.outFeatures, layer.inFeatures], layer.weight),
      floatInitializer(`b${i}`, [layer.outFeatures], layer.bias),
    );
    nodes.push({
      name: `Gemm${i}`,
      opType: 'Gemm',
      input: [current, `W${i}`, `b${i}`],
      output: [`gemm${i}`],
      attribute: [{ name: 'transB', type: 2, i: 1 }],
    });
    const out = last ? 'probabilities' : `relu${i}`;
    nodes.push({
      name: last ? 'Softmax' : `Relu${i}`,
      opType: last ? 'Softmax' : 'Relu',
      input: [`gemm${i}`],
      output: [out],
      attribute: last ? [{ name: 'axis', type: 2, i: -1 }] : [],
    });
    current = out;
  }
  return {
    name,
    nodes,
    initializers,
    inputs: [tensorValueInfo('input', OnnxDataType.FLOAT, ['batch', CLASSIFIER.inputs])],
    outputs: [tensorValueInfo('probabilities', OnnxDataType.FLOAT, ['batch', layers.at(-1)!.outFeatures])],
  };
}

/** The hidden layers alone, as a model whose output is their features. */
function featuresGraph(hidden: readonly Layer[]): GraphDefinition {
  const nodes = hidden.flatMap((_layer, i) => [
    {
      name: `Gemm${i}`,
      opType: 'Gemm',
      input: [i === 0 ? 'input' : `relu${i - 1}`, `W${i}`, `b${i}`],
      output: [`gemm${i}`],
      attribute: [{ name: 'transB', type: 2, i: 1 }],
    },
    { name: `Relu${i}`, opType: 'Relu', input: [`gemm${i}`], output: [i === hidden.length - 1 ? 'features' : `relu${i}`] },
  ]);
  return {
    name: 'features',
    nodes,
    initializers: hidden.flatMap((layer, i) => [
      floatInitializer(`W${i}`, [layer.outFeatures, layer.inFeatures], layer.weight),
      floatInitializer(`b${i}`, [layer.outFeatures], layer.bias),
    ]),
    inputs: [tensorValueInfo('input', OnnxDataType.FLOAT, ['batch', CLASSIFIER.inputs])],
    outputs: [tensorValueInfo('features', OnnxDataType.FLOAT, ['batch', hidden.at(-1)!.outFeatures])],
  };
}

/** Hᵀ·H and Hᵀ·Y, by onnxruntime. */
const GRAM_GRAPH: GraphDefinition = {
  name: 'gram',
  nodes: [
    { name: 'T', opType: 'Transpose', input: ['H'], output: ['Ht'] },
    { name: 'G', opType: 'MatMul', input: ['Ht', 'H'], output: ['G'] },
    { name: 'B', opType: 'MatMul', input: ['Ht', 'Y'], output: ['B'] },
  ],
  initializers: [],
  inputs: [tensorValueInfo('H', OnnxDataType.FLOAT, ['n', 'h']), tensorValueInfo('Y', OnnxDataType.FLOAT, ['n', 'c'])],
  outputs: [tensorValueInfo('G', OnnxDataType.FLOAT, ['h', 'h']), tensorValueInfo('B', OnnxDataType.FLOAT, ['h', 'c'])],
};

async function run(graph: GraphDefinition, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(encodeModel(graph));
  try {
    return (await session.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

/**
 * Solves (G + λI)·W = B for W (h × c) by Cholesky, in float64: G is symmetric positive
 * semi-definite, so with λ > 0 the factorization exists.
 */
function ridgeSolve(gram: Float32Array, rhs: Float32Array, h: number, c: number, lambda: number): Float64Array {
  const L = new Float64Array(h * h);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = gram[i * h + j]! + (i === j ? lambda : 0);
      for (let k = 0; k < j; k++) sum -= L[i * h + k]! * L[j * h + k]!;
      L[i * h + j] = i === j ? Math.sqrt(sum) : sum / L[j * h + j]!;
    }
  }
  const W = new Float64Array(h * c);
  for (let col = 0; col < c; col++) {
    const y = new Float64Array(h);
    for (let i = 0; i < h; i++) {
      let sum = rhs[i * c + col]!;
      for (let k = 0; k < i; k++) sum -= L[i * h + k]! * y[k]!;
      y[i] = sum / L[i * h + i]!;
    }
    for (let i = h - 1; i >= 0; i--) {
      let sum = y[i]!;
      for (let k = i + 1; k < h; k++) sum -= L[k * h + i]! * W[k * c + col]!;
      W[i * c + col] = sum / L[i * h + i]!;
    }
  }
  return W;
}

/** Trains a model of the given hidden widths: random hidden layers, the output layer by ridge regression on one-hot labels. */
async function train(widths: readonly number[], seed: number): Promise<Layer[]> {
  const hidden = randomLayers(widths, seed);
  const { inputs, labels } = classifierExamples(CLASSIFIER.trainingExamples, seed + 1);
  const n = labels.length;
  const { features } = await run(featuresGraph(hidden), { input: new ort.Tensor('float32', inputs, [n, CLASSIFIER.inputs]) });
  const h = widths.at(-1)!;
  // Targets centred on 0 (one-hot minus 1/c), so no bias is needed: softmax of the scores ranks as they do.
  const targets = new Float32Array(n * CLASSIFIER.classes).fill(-1 / CLASSIFIER.classes);
  labels.forEach((label, i) => (targets[i * CLASSIFIER.classes + label] = 1 - 1 / CLASSIFIER.classes));
  const { G, B } = await run(GRAM_GRAPH, { H: features!, Y: new ort.Tensor('float32', targets, [n, CLASSIFIER.classes]) });
  const gram = G!.data as Float32Array;
  let trace = 0;
  for (let i = 0; i < h; i++) trace += gram[i * h + i]!;
  const W = ridgeSolve(gram, B!.data as Float32Array, h, CLASSIFIER.classes, (1e-3 * trace) / h);
  // Gemm with transB: the output layer as [classes, h]; scaled so that softmax gives confident, not flat, probabilities.
  const weight = new Float32Array(CLASSIFIER.classes * h);
  for (let i = 0; i < h; i++) for (let c = 0; c < CLASSIFIER.classes; c++) weight[c * h + i] = 10 * W[i * CLASSIFIER.classes + c]!;
  return [...hidden, { inFeatures: h, outFeatures: CLASSIFIER.classes, weight, bias: new Float32Array(CLASSIFIER.classes) }];
}

/** IEEE 754 half precision bits of a float32 value (round to nearest even; no model weight is near the half range's edges). */
function toFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const mantissa = bits & 0x7fffff;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    const m = (mantissa | 0x800000) >> (1 - exponent);
    return sign | ((m + 0x1000) >> 13);
  }
  if (exponent >= 31) return sign | 0x7c00;
  const rounded = mantissa + 0xfff + ((mantissa >> 13) & 1);
  if (rounded & 0x800000) return sign | ((exponent + 1) << 10);
  return sign | (exponent << 10) | (rounded >> 13);
}

/** The fp16 variant: each weight and bias stored as float16, cast to float32 before its Gemm (onnxruntime folds the casts at load). */
function fp16Graph(layers: readonly Layer[]): GraphDefinition {
  const graph = fp32Graph(layers, 'classifier-fp16');
  const casts = graph.initializers.map((t) => ({
    name: `Cast_${t.name}`,
    opType: 'Cast',
    input: [`${t.name}_fp16`],
    output: [t.name!],
    attribute: [{ name: 'to', type: 2, i: OnnxDataType.FLOAT }],
  }));
  const initializers = graph.initializers.map((t) => {
    const values = new DataView((t.rawData as Uint8Array).buffer);
    const count = (t.rawData as Uint8Array).length / 4;
    const raw = new Uint8Array(count * 2);
    const out = new DataView(raw.buffer);
    for (let i = 0; i < count; i++) out.setUint16(i * 2, toFloat16Bits(values.getFloat32(i * 4, true)), true);
    return { name: `${t.name}_fp16`, dims: t.dims, dataType: 10 /* FLOAT16 */, rawData: raw };
  });
  return { ...graph, nodes: [...casts, ...graph.nodes], initializers };
}

/**
 * The int8 variant: per layer, the activations quantized on the fly (DynamicQuantizeLinear, uint8)
 * and multiplied by the int8 weights (MatMulInteger, one symmetric scale per layer), the int32
 * result rescaled to float32 and the bias added.
 */
function int8Graph(layers: readonly Layer[]): GraphDefinition {
  const nodes = [];
  const initializers = [];
  let current = 'input';
  for (const [i, layer] of layers.entries()) {
    const last = i === layers.length - 1;
    const maxAbs = layer.weight.reduce((m, w) => Math.max(m, Math.abs(w)), 0) || 1;
    const scale = maxAbs / 127;
    // MatMul's B is [in, out]: the Gemm weight transposed.
    const quantized = new Uint8Array(layer.inFeatures * layer.outFeatures);
    for (let o = 0; o < layer.outFeatures; o++)
      for (let k = 0; k < layer.inFeatures; k++) {
        const q = Math.max(-127, Math.min(127, Math.round(layer.weight[o * layer.inFeatures + k]! / scale)));
        quantized[k * layer.outFeatures + o] = q & 0xff;
      }
    initializers.push(
      { name: `Wq${i}`, dims: [layer.inFeatures, layer.outFeatures], dataType: 3 /* INT8 */, rawData: quantized },
      { name: `Wzp${i}`, dims: [], dataType: 3, rawData: new Uint8Array([0]) },
      floatInitializer(`Ws${i}`, [], Float32Array.of(scale)),
      floatInitializer(`b${i}`, [layer.outFeatures], layer.bias),
    );
    nodes.push(
      { name: `Quantize${i}`, opType: 'DynamicQuantizeLinear', input: [current], output: [`xq${i}`, `xs${i}`, `xzp${i}`] },
      { name: `MatMulInteger${i}`, opType: 'MatMulInteger', input: [`xq${i}`, `Wq${i}`, `xzp${i}`, `Wzp${i}`], output: [`acc${i}`] },
      { name: `ToFloat${i}`, opType: 'Cast', input: [`acc${i}`], output: [`accf${i}`], attribute: [{ name: 'to', type: 2, i: OnnxDataType.FLOAT }] },
      { name: `Scale${i}`, opType: 'Mul', input: [`xs${i}`, `Ws${i}`], output: [`s${i}`] },
      { name: `Rescale${i}`, opType: 'Mul', input: [`accf${i}`, `s${i}`], output: [`y${i}`] },
      { name: `Bias${i}`, opType: 'Add', input: [`y${i}`, `b${i}`], output: [`z${i}`] },
    );
    const out = last ? 'probabilities' : `relu${i}`;
    nodes.push({
      name: last ? 'Softmax' : `Relu${i}`,
      opType: last ? 'Softmax' : 'Relu',
      input: [`z${i}`],
      output: [out],
      attribute: last ? [{ name: 'axis', type: 2, i: -1 }] : [],
    });
    current = out;
  }
  return {
    name: 'classifier-int8',
    nodes,
    initializers,
    inputs: [tensorValueInfo('input', OnnxDataType.FLOAT, ['batch', CLASSIFIER.inputs])],
    outputs: [tensorValueInfo('probabilities', OnnxDataType.FLOAT, ['batch', CLASSIFIER.classes])],
  };
}

/** Every variant as the bytes of an ONNX file (opset 13). */
export async function classifierVariants(): Promise<Record<ClassifierVariant, Uint8Array>> {
  const full = await train(CLASSIFIER.hidden.full, CLASSIFIER.seed + 10);
  const small = await train(CLASSIFIER.hidden.small, CLASSIFIER.seed + 20);
  return {
    fp32: encodeModel(fp32Graph(full, 'classifier-fp32')),
    fp16: encodeModel(fp16Graph(full)),
    int8: encodeModel(int8Graph(full)),
    small: encodeModel(fp32Graph(small, 'classifier-small')),
  };
}

/** A request body of the model server's format for one input row. */
export const classifierPayload = (row: ArrayLike<number>): { inputs: { input: { dims: number[]; data: number[] } } } => ({
  inputs: { input: { dims: [1, CLASSIFIER.inputs], data: Array.from(row) } },
});

/** The labelled evaluation set, as quality.dataset lines (`{"input": <body>, "expected": <class>}`). */
export function classifierEvaluationSet(): string {
  const { inputs, labels } = classifierExamples(CLASSIFIER.evaluationExamples, CLASSIFIER.seed + 99);
  return `${labels
    .map((expected, i) => JSON.stringify({ input: classifierPayload(inputs.subarray(i * CLASSIFIER.inputs, (i + 1) * CLASSIFIER.inputs)), expected }))
    .join('\n')}\n`;
}

/** A variant's accuracy on the evaluation set, in process (no server): what a sweep through an endpoint must reproduce. */
export async function accuracyInProcess(model: Uint8Array): Promise<number> {
  const { inputs, labels } = classifierExamples(CLASSIFIER.evaluationExamples, CLASSIFIER.seed + 99);
  const session = await ort.InferenceSession.create(model);
  try {
    const { probabilities } = await session.run({ input: new ort.Tensor('float32', inputs, [labels.length, CLASSIFIER.inputs]) });
    const scores = probabilities!.data as Float32Array;
    let right = 0;
    labels.forEach((label, i) => {
      const row = scores.subarray(i * CLASSIFIER.classes, (i + 1) * CLASSIFIER.classes);
      let best = 0;
      for (let c = 1; c < CLASSIFIER.classes; c++) if (row[c]! > row[best]!) best = c;
      if (best === label) right++;
    });
    return right / labels.length;
  } finally {
    await session.release();
  }
}
