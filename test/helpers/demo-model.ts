import { join } from 'node:path';

import { demoModelWeights, type DenseLayer } from '../../examples/demo-model/demo-model';
import { DEMO_BUILD_DIR } from '../../examples/demo-model/generate';

/** The demo model built by `npm run build` (the test command builds it first). */
export const DEMO_MODEL_PATH = join(DEMO_BUILD_DIR, 'model.onnx');

/**
 * The demo model evaluated in plain TypeScript, straight from its weights, with no onnxruntime:
 * the independent reference the model server's outputs are checked against.
 */
export function referenceForward(input: number[], batch: number, layers: DenseLayer[] = demoModelWeights()): number[][] {
  const rows: number[][] = [];
  for (let b = 0; b < batch; b++) {
    let x = input.slice(b * layers[0].inFeatures, (b + 1) * layers[0].inFeatures);
    layers.forEach((layer, i) => {
      const y = new Array<number>(layer.outFeatures);
      for (let o = 0; o < layer.outFeatures; o++) {
        let sum = layer.bias[o];
        const offset = o * layer.inFeatures;
        for (let k = 0; k < layer.inFeatures; k++) sum += layer.weight[offset + k] * x[k];
        y[o] = i < layers.length - 1 ? Math.max(0, sum) : sum;
      }
      x = y;
    });
    const max = Math.max(...x);
    const exp = x.map((v) => Math.exp(v - max));
    const total = exp.reduce((a, v) => a + v, 0);
    rows.push(exp.map((v) => v / total));
  }
  return rows;
}
