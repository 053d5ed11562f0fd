import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { runCliInProcess } from '../helpers/cli-in-process';

const ROOT = join(__dirname, '..', '..');
/** The CLI in this process, run from the repository's root (the specs' paths are relative to it). */
async function modelsweep(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const { code, stdout, stderr } = await runCliInProcess(args);
    return { status: code, stdout, stderr };
  } finally {
    process.chdir(cwd);
  }
}

describe('modelsweep validate', () => {
  it('lists the candidates of a valid spec and exits 0', async () => {
    const { status, stdout } = await modelsweep(['validate', 'examples/sweeps/demo-local.yaml']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/examples\/sweeps\/demo-local\.yaml: valid; a grid of 2 candidates \(local ×2\)/);
    expect(stdout).toMatch(/^ {2}local-threads1 +local +\$0\.10\/hour; at least \$73\.00\/month even on one instance$/m);
  });

  it('prints the quality plan: the metric, its bound, and the examples', async () => {
    const labelled = await modelsweep(['validate', 'examples/sweeps/demo-quality.yaml']);
    expect(labelled.stdout).toMatch(
      /^quality: accuracy at least 0\.950 \(its whole 95% interval\), on 1,000 examples of \.\.\/demo-model\/build\/classifier-eval\.jsonl/m,
    );
    const relative = await modelsweep(['validate', 'examples/sweeps/demo-quality-reference.yaml']);
    expect(relative.status).toBe(0);
    expect(relative.stdout).toMatch(/^quality: accuracy at least 99\.0% of the reference fp32's \(its whole 95% interval\)/m);
  });

  it('prints the plan of an offline job', async () => {
    const { status, stdout } = await modelsweep(['validate', 'examples/sweeps/demo-offline.yaml']);
    expect(status).toBe(0);
    expect(stdout).toMatch(
      /^offline: 20,000,000 rows \(1 a request\) within 1h, on at most 4 instances of a candidate; each measured at saturation, concurrency 1 to 32 doubling, 2s a step$/m,
    );
    expect(stdout).toMatch(/^ {2}local-threads1-int8 +local +\$0\.05\/hour$/m);
  });

  it('expands asynchronous endpoints for an offline job, and says where their prices are missing', async () => {
    const { status, stdout } = await modelsweep(['validate', 'examples/sweeps/sagemaker-async-offline.yaml']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/valid; a grid of 4 candidates \(sagemaker-async ×4\)/);
    expect(stdout).toMatch(
      /^ {2}sagemaker-async-ml\.g5\.xlarge-x1-c16 +sagemaker-async +not priced \(no SageMaker asynchronous inference prices for region eu-west-1\)$/m,
    );
  });

  it('expands Batch Transform candidates for an offline job, says how they are measured and where their prices are missing', async () => {
    const { status, stdout } = await modelsweep(['validate', 'examples/sweeps/sagemaker-batch-transform-offline.yaml']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/valid; a grid of 4 candidates \(sagemaker-batch-transform ×4\)/);
    expect(stdout).toMatch(/; each measured by its own transform job on one instance, over a sample of 40,000 rows$/m);
    expect(stdout).toMatch(
      /^ {2}sagemaker-batch-transform-ml\.g4dn\.xlarge-c8-6mb-multi +sagemaker-batch-transform +not priced \(no SageMaker Batch Transform prices for region eu-west-1\)$/m,
    );
  });

  it('expands a catalog selection and prints each candidate with its price', async () => {
    const { status, stdout } = await modelsweep(['validate', 'examples/sweeps/sagemaker-catalog.yaml']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/valid; a grid of \d+ candidates \(sagemaker-realtime ×\d+, lambda ×5\)/);
    expect(stdout).toMatch(/^candidates\[0\]\.instanceTypes: \d+ selected from the catalog in us-east-1/m);
    expect(stdout).toMatch(
      /^ {2}sagemaker-realtime-ml\.c5\.xlarge-x1 +sagemaker-realtime +\$0\.20\/hour; at least \$1\d\d\.\d\d\/month even on one instance$/m,
    );
    expect(stdout).toMatch(/^ {2}lambda-1024mb-arm64 +lambda +per request; at least \$\d+\.\d\d\/month even at 1 ms a request/m);
  });

  it('prints the expanded spec as JSON', async () => {
    const { status, stdout } = await modelsweep(['validate', 'examples/sweeps/aws-all-kinds.json', '--json']);
    expect(status).toBe(0);
    const { spec, candidates } = JSON.parse(stdout);
    expect(spec.load.phases[0].duration).toBe(120_000);
    expect(candidates).toHaveLength(17);
  });

  it('prints every problem with its path and line, and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spec-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'name: ok',
        'model: {name: m}',
        'payloads: [{body: "{}"}]',
        'candidates:',
        '  - kind: lambda',
        '    functionName: f',
        '    memorySizesMb: [64]',
        'load: {phases: [{mode: open, rate: 1, duration: 5x}]}',
        'slo: {percentile: 95, latencyMs: 10}',
        'traffic: {averageRps: 1, peakRps: 2}',
      ].join('\n'),
    );
    const { status, stderr } = await modelsweep(['validate', file]);
    expect(status).toBe(2);
    expect(stderr).toMatch(/bad\.yaml: 2 problems/);
    expect(stderr).toMatch(/candidates\[0\]\.memorySizesMb\[0\] \(line 7\): Lambda memory is 128 to 10240 MB, got 64/);
    expect(stderr).toMatch(/load\.phases\[0\]\.duration \(line 8\): must be a duration/);
  });

  it('exits 2 when the file is missing', async () => {
    const { status, stderr } = await modelsweep(['validate', 'nope.yaml']);
    expect(status).toBe(2);
    expect(stderr).toMatch(/nope\.yaml: 1 problem\n\s+\(spec\): no such file: nope\.yaml/);
  });
});

describe('modelsweep schema', () => {
  it('prints a JSON Schema of the spec for editors', async () => {
    const { status, stdout } = await modelsweep(['schema']);
    expect(status).toBe(0);
    const schema = JSON.parse(stdout);
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'model', 'candidates', 'slo']));
    // A real-time sweep gives traffic, an offline one offline: the spec's own check says which is missing.
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['load', 'traffic', 'offline']));
    expect(schema.additionalProperties).toBe(false);
    const kinds = JSON.stringify(schema.properties.candidates);
    for (const kind of ['sagemaker-realtime', 'sagemaker-serverless', 'lambda', 'azureml', 'http', 'local']) expect(kinds).toContain(`"${kind}"`);
    expect(schema.properties.slo.properties.percentile).toMatchObject({ minimum: 50, maximum: 99.9 });
    expect(Object.keys(schema.properties.slo.properties)).toEqual(expect.arrayContaining(['timeToFirstToken', 'interTokenLatency']));
    expect(Object.keys(schema.properties.prompts.items.properties)).toEqual(expect.arrayContaining(['maxTokens', 'text', 'file', 'inputTokens']));
  });
});
