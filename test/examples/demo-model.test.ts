import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { accuracyInProcess, CLASSIFIER_VARIANTS } from '../../examples/demo-model/classifier';
import { demoModelWeights } from '../../examples/demo-model/demo-model';
import { DEMO_DIR, demoPayloadFiles, generateDemoModel } from '../../examples/demo-model/generate';

const CLASSIFIER_FILES = CLASSIFIER_VARIANTS.map((v) => `classifier-${v}.onnx`);

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('demo model generator', () => {
  it('produces byte-identical model and archives on every run', async () => {
    const [a, b] = [mkdtempSync(join(tmpdir(), 'demo-a-')), mkdtempSync(join(tmpdir(), 'demo-b-'))];
    await generateDemoModel(a);
    await generateDemoModel(b);
    for (const file of ['model.onnx', 'model.tar.gz', 'triton/model.tar.gz', ...CLASSIFIER_FILES, 'classifier-eval.jsonl']) {
      expect(sha256(join(a, file)), file).toBe(sha256(join(b, file)));
    }
    // The classifier does its task: its variants as accurate as each other, the small model clearly less.
    const accuracy = Object.fromEntries(
      await Promise.all(CLASSIFIER_VARIANTS.map(async (v) => [v, await accuracyInProcess(readFileSync(join(a, `classifier-${v}.onnx`)))] as const)),
    );
    for (const v of ['fp32', 'fp16', 'int8'] as const) expect(accuracy[v], v).toBeGreaterThan(0.97);
    expect(Math.abs(accuracy.int8! - accuracy.fp32!)).toBeLessThan(0.01);
    expect(accuracy.small).toBeLessThan(0.9);
    // The int8 variant is quantized arithmetic, not float weights in disguise.
    const int8 = readFileSync(join(a, 'classifier-int8.onnx')).toString('latin1');
    expect(int8).toContain('MatMulInteger');
    expect(int8).toContain('DynamicQuantizeLinear');
  }, 120_000);

  it('has over a million weights, so batch size and threads change its latency', () => {
    const weights = demoModelWeights().reduce((n, l) => n + l.weight.length + l.bias.length, 0);
    expect(weights).toBeGreaterThan(1_000_000);
  });

  it('changes its weights with the seed', () => {
    expect(demoModelWeights(1)[0].weight.slice(0, 4)).not.toEqual(demoModelWeights(2)[0].weight.slice(0, 4));
  });

  it('ships sample payloads identical to what the script generates', () => {
    for (const [name, text] of Object.entries(demoPayloadFiles())) {
      expect(readFileSync(join(DEMO_DIR, 'payloads', name), 'utf8')).toBe(text);
    }
  });
});
