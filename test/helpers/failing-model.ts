import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { encodeModel, int64Initializer, OnnxDataType, tensorValueInfo } from '../../lib/onnx/model-builder';

/**
 * A valid model that always fails inside onnxruntime: it reshapes its [batch, 4] input to [3],
 * which no input can satisfy. The request passes validation, so the failure is the model's.
 */
export function writeFailingModel(): string {
  const bytes = encodeModel({
    name: 'always-fails',
    nodes: [{ name: 'Reshape', opType: 'Reshape', input: ['x', 'shape'], output: ['y'] }],
    initializers: [int64Initializer('shape', [3])],
    inputs: [tensorValueInfo('x', OnnxDataType.FLOAT, ['batch', 4])],
    outputs: [tensorValueInfo('y', OnnxDataType.FLOAT, [3])],
  });
  const path = join(mkdtempSync(join(tmpdir(), 'modelsweep-failing-')), 'fails.onnx');
  writeFileSync(path, bytes);
  return path;
}
