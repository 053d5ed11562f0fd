/**
 * Generates the demo model and its sample payloads, deterministically from a seed:
 *
 * - `build/model.onnx`: the model itself
 * - `build/model.tar.gz`: `model.onnx` at the root, for SageMaker with modelsweep's model server
 * - `build/triton/model.tar.gz`: a Triton model repository (`demo/config.pbtxt`, `demo/1/model.onnx`)
 * - `payloads/batch-{1,8,32}.json`: request bodies in the model server's format (committed)
 * - `build/classifier-{fp32,fp16,int8,small}.onnx`: the demo classifier's variants, trained here
 *   (see classifier.ts), with `build/classifier-eval.jsonl`, its labelled evaluation set, and
 *   `build/classifier-payload.json`, a request body of the same task
 *
 * Run with `npm run build:model`. Nothing is downloaded.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { writeDeterministicTarGz } from '../../lib/build/deterministic-tar';
import { CLASSIFIER, classifierEvaluationSet, classifierExamples, classifierPayload, classifierVariants } from './classifier';
import { DEMO_MODEL, demoPayload, encodeDemoModel, tritonConfig } from './demo-model';

export const DEMO_DIR = __dirname;
export const DEMO_BUILD_DIR = join(__dirname, 'build');
export const DEMO_PAYLOAD_BATCHES = [1, 8, 32] as const;

export async function generateDemoModel(outDir: string = DEMO_BUILD_DIR): Promise<{ modelSha256: string }> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const model = encodeDemoModel();
  writeFileSync(join(outDir, 'model.onnx'), model);
  await writeDeterministicTarGz(join(outDir, 'model.tar.gz'), outDir, ['model.onnx']);

  const triton = join(outDir, 'triton');
  mkdirSync(join(triton, DEMO_MODEL.name, '1'), { recursive: true });
  writeFileSync(join(triton, DEMO_MODEL.name, 'config.pbtxt'), tritonConfig());
  writeFileSync(join(triton, DEMO_MODEL.name, '1', 'model.onnx'), model);
  await writeDeterministicTarGz(join(triton, 'model.tar.gz'), triton, [DEMO_MODEL.name]);

  for (const [variant, bytes] of Object.entries(await classifierVariants())) writeFileSync(join(outDir, `classifier-${variant}.onnx`), bytes);
  writeFileSync(join(outDir, 'classifier-eval.jsonl'), classifierEvaluationSet());
  const sample = classifierExamples(1, CLASSIFIER.seed + 7).inputs;
  writeFileSync(join(outDir, 'classifier-payload.json'), `${JSON.stringify(classifierPayload(sample))}\n`);

  return { modelSha256: createHash('sha256').update(model).digest('hex') };
}

/** The committed sample payloads, as file name → JSON text. */
export function demoPayloadFiles(): Record<string, string> {
  return Object.fromEntries(DEMO_PAYLOAD_BATCHES.map((batch) => [`batch-${batch}.json`, `${JSON.stringify(demoPayload(batch))}\n`]));
}

if (require.main === module) {
  generateDemoModel()
    .then(({ modelSha256 }) => {
      const payloadDir = join(DEMO_DIR, 'payloads');
      mkdirSync(payloadDir, { recursive: true });
      for (const [name, text] of Object.entries(demoPayloadFiles())) writeFileSync(join(payloadDir, name), text);
      console.log(`demo model: ${join(DEMO_BUILD_DIR, 'model.onnx')} (sha256 ${modelSha256})`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
