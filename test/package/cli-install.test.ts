/**
 * The CLI as users install it: `npm run pack:cli`'s tarball, installed with a plain `npm install`
 * into an empty project (no flag, no `allowScripts` of ours), then a local sweep with the installed
 * `modelsweep` command. onnxruntime-node comes bundled without its install script, so nothing is
 * fetched from nuget.org (this machine cannot reach it: a try would fail the install).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { npmInstall, run, runWithOutput } from '../helpers/consumer-apps';
import { DEMO_MODEL_PATH } from '../helpers/demo-model';

const ROOT = join(__dirname, '..', '..');

const SPEC = `name: installed
model: { name: demo, path: model.onnx }
payloads: [{ file: batch-1.json }]
candidates:
  - { kind: local, threads: 1, costPerHour: 0.05 }
load:
  phases:
    - { mode: open, rate: 50, duration: 1s }
slo: { percentile: 99, latencyMs: 1000 }
traffic: { averageRps: 10, peakRps: 20 }
`;

describe('the CLI, packed by pack:cli and installed with a plain npm install', () => {
  let work: string;
  let app: string;
  let files: string[];
  let install: { stdout: string; stderr: string };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'cli-install-'));
    const tarball = (await run(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/pack-cli.ts', '--destination', work], ROOT)).trim();
    files = (await run('tar', ['-tzf', tarball], work)).split('\n').map((f) => f.replace(/^package\//, ''));
    app = join(work, 'app');
    await run('mkdir', [app], work);
    await run('npm', ['init', '-y'], app);
    install = await npmInstall(app, tarball);
  }, 10 * 60_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }), 60_000);

  it('packs the CLI and a script-less onnxruntime-node, and no demo output, scripts, tests or constructs', () => {
    expect(files.filter((f) => /^(examples|scripts|test|bench|docs|cdk\.out|constructs|packages)\/|model-server-image|tsbuildinfo/.test(f))).toEqual(
      [],
    );
    expect(files.filter((f) => f.startsWith('dist/assets/onnxruntime-layer'))).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/modelsweep.cjs',
        'dist/assets/model-server/serve.js',
        'dist/assets/sweep-state-machine.json',
        'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
        'node_modules/onnxruntime-node/bin/napi-v6/darwin/arm64/onnxruntime_binding.node',
        'node_modules/onnxruntime-common/package.json',
      ]),
    );
  });

  it('installs without running or asking about onnxruntime-node’s install script', () => {
    const installed = join(app, 'node_modules', 'modelsweep', 'node_modules', 'onnxruntime-node');
    expect(JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))).not.toHaveProperty('scripts');
    expect(existsSync(join(installed, 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so'))).toBe(false);
    expect(`${install.stdout}${install.stderr}`).not.toMatch(/onnxruntime|nuget/i);
  });

  it('runs a local sweep of the demo model with the installed command', async () => {
    copyFileSync(DEMO_MODEL_PATH, join(app, 'model.onnx'));
    copyFileSync(join(ROOT, 'examples', 'demo-model', 'payloads', 'batch-1.json'), join(app, 'batch-1.json'));
    writeFileSync(join(app, 'sweep.yaml'), SPEC);
    const { stdout } = await runWithOutput(join(app, 'node_modules', '.bin', 'modelsweep'), ['sweep', 'sweep.yaml', '--local'], app);
    expect(stdout).toMatch(/recommendation: local-threads1/);
    const report = /report: (\S+report\.html)/.exec(stdout)?.[1];
    expect(report && existsSync(report)).toBe(true);
  });
});
