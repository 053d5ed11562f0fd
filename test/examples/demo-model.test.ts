import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { demoModelWeights } from '../../examples/demo-model/demo-model';
import { DEMO_DIR, demoPayloadFiles, generateDemoModel } from '../../examples/demo-model/generate';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('demo model generator', () => {
  it('produces byte-identical model and archives on every run', async () => {
    const [a, b] = [mkdtempSync(join(tmpdir(), 'demo-a-')), mkdtempSync(join(tmpdir(), 'demo-b-'))];
    await generateDemoModel(a);
    await generateDemoModel(b);
    for (const file of ['model.onnx', 'model.tar.gz', 'triton/model.tar.gz']) {
      expect(sha256(join(a, file))).toBe(sha256(join(b, file)));
    }
  });

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
