import { InferenceSession, Tensor } from 'onnxruntime-node';

import { encodeModel, floatInitializer, OnnxDataType, tensorValueInfo } from '../onnx/model-builder';
import { seededRandom, uniformFloat32 } from '../util/seeded-random';
import type { TokenDecoder } from './token-server';

/**
 * A tiny decoder, generated here from a seed, for the token server to generate with a real model:
 * each token is the argmax of a two-layer network over the previous token's embedding
 * (Gather → Gemm → Relu → Gemm → ArgMax). Its weights are random, so its text means nothing, but
 * every token costs real compute: a prompt is one run over all its tokens (the prefill, so a longer
 * prompt takes longer to its first token), and each step after it one run over the last token of
 * every sequence decoding at once (continuous batching: a batch shares a run).
 */
export const TINY_DECODER = { vocabulary: 8192, embedding: 256, hidden: 2048, seed: 20261203 } as const;

/** The tiny decoder as the bytes of an ONNX file (opset 13): `ids` int64 [n] in, `next` int64 [n] out. */
export function encodeTinyDecoder(): Uint8Array {
  const { vocabulary, embedding, hidden, seed } = TINY_DECODER;
  const random = seededRandom(seed);
  const limit = (a: number, b: number) => Math.sqrt(6 / (a + b));
  return encodeModel({
    name: 'tiny-decoder',
    nodes: [
      { name: 'Embed', opType: 'Gather', input: ['embedding', 'ids'], output: ['embedded'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
      { name: 'Hidden', opType: 'Gemm', input: ['embedded', 'W1', 'b1'], output: ['hidden'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
      { name: 'Relu', opType: 'Relu', input: ['hidden'], output: ['activated'] },
      { name: 'Logits', opType: 'Gemm', input: ['activated', 'W2', 'b2'], output: ['logits'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
      {
        name: 'Next',
        opType: 'ArgMax',
        input: ['logits'],
        output: ['next'],
        attribute: [
          { name: 'axis', type: 2, i: 1 },
          { name: 'keepdims', type: 2, i: 0 },
        ],
      },
    ],
    initializers: [
      floatInitializer('embedding', [vocabulary, embedding], uniformFloat32(random, vocabulary * embedding, 1)),
      floatInitializer('W1', [hidden, embedding], uniformFloat32(random, hidden * embedding, limit(hidden, embedding))),
      floatInitializer('b1', [hidden], uniformFloat32(random, hidden, 0.05)),
      floatInitializer('W2', [vocabulary, hidden], uniformFloat32(random, vocabulary * hidden, limit(vocabulary, hidden))),
      floatInitializer('b2', [vocabulary], uniformFloat32(random, vocabulary, 0.05)),
    ],
    inputs: [tensorValueInfo('ids', OnnxDataType.INT64, ['n'])],
    outputs: [tensorValueInfo('next', OnnxDataType.INT64, ['n'])],
  });
}

/** A prompt's token ids: each word hashed (FNV-1a) into the vocabulary. */
export function promptTokenIds(text: string): number[] {
  const ids = text
    .split(/\s+/)
    .filter((w) => w.length > 0)
    .map((word) => {
      let hash = 0x811c9dc5;
      for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 0x01000193) >>> 0;
      return hash % TINY_DECODER.vocabulary;
    });
  return ids.length > 0 ? ids : [0];
}

interface Job {
  readonly ids: readonly number[];
  readonly resolve: (next: number[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Loads the tiny decoder into onnxruntime (`threads` intra-op threads) and serves it as one device
 * would: one run at a time, decode steps of every sequence waiting gathered into one batch, a
 * prefill between batches so neither starves the other.
 */
export async function loadTinyDecoder(threads = 1): Promise<TokenDecoder & { close(): Promise<void> }> {
  const session = await InferenceSession.create(encodeTinyDecoder(), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const prefills: Job[] = [];
  let steps: Job[] = [];
  let running = false;
  const run = async (ids: readonly number[]): Promise<number[]> => {
    const output = await session.run({ ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [ids.length]) });
    return Array.from(output.next!.data as BigInt64Array, Number);
  };
  const loop = async () => {
    while (steps.length > 0 || prefills.length > 0) {
      if (steps.length > 0) {
        const batch = steps;
        steps = [];
        try {
          const next = await run(batch.flatMap((job) => job.ids));
          batch.forEach((job, i) => job.resolve([next[i]!]));
        } catch (error) {
          for (const job of batch) job.reject(error);
        }
      }
      const prefill = prefills.shift();
      if (prefill) await run(prefill.ids).then(prefill.resolve, prefill.reject);
    }
    running = false;
  };
  const submit = (queue: 'prefill' | 'step', ids: readonly number[]) =>
    new Promise<number[]>((resolve, reject) => {
      (queue === 'prefill' ? prefills : steps).push({ ids, resolve, reject });
      if (!running) {
        running = true;
        setImmediate(() => void loop());
      }
    });
  return {
    async firstToken(prompt: string) {
      const ids = promptTokenIds(prompt);
      // The next token after the whole prompt: the last position's output.
      return { token: (await submit('prefill', ids)).at(-1)!, promptTokens: ids.length };
    },
    async nextToken(previous: number) {
      return (await submit('step', [previous]))[0]!;
    },
    tokenText: (id: number) => `w${id} `,
    close: () => session.release(),
  };
}
