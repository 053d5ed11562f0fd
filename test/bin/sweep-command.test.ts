import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ROOT, runCli, writeSpecFile } from '../helpers/cli';
import { runCliInProcess } from '../helpers/cli-in-process';
import { DEMO_MODEL_PATH } from '../helpers/demo-model';

const dir = mkdtempSync(join(tmpdir(), 'sweep-cli-'));
const modelsweep = (args: string[], env: NodeJS.ProcessEnv = process.env) => runCli(args, dir, env);

const specFile = (candidates: unknown[]): string =>
  writeSpecFile(dir, {
    name: 'cli-test',
    model: { name: 'demo', path: DEMO_MODEL_PATH },
    payloads: [{ file: join(ROOT, 'examples', 'demo-model', 'payloads', 'batch-1.json') }],
    candidates,
    load: { phases: [{ mode: 'open', rate: 100, duration: '1s' }] },
    slo: { percentile: 95, latencyMs: 50 },
    traffic: { averageRps: 50, peakRps: 250 },
  });

describe('modelsweep sweep --local', () => {
  it('prints the results table and the recommendation, stores them under .modelsweep, exits 0', () => {
    const { status, stdout, stderr } = modelsweep(['sweep', specFile([{ kind: 'local', threads: 1, costPerHour: 0.1 }]), '--local']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^sweep cli-test-\S+ \(model demo\): succeeded$/m);
    expect(stdout).toMatch(
      /^\* local-threads1\s+local\s+measured\s+\d+\.\d\s+\d+(–\d+)?\s+\d+(–\d+)?\s+\d+\.\d\d\s+\d+\.\d\d(–\d+\.\d\d)?\s+\d+\.\d{3}\s+recommended: the cheapest that meets p95 ≤ 50\.0 ms at 250 rps peak/m,
    );
    expect(stdout).toMatch(/^recommendation: local-threads1 — /m);
    expect(stderr).toMatch(/\[1\/1\] local-threads1: deploying/);
  });

  it('accepts cloud candidates, and without credentials stops before creating anything, exit 2', () => {
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, ...withoutCredentials } = process.env;
    const storeDir = join(dir, 'no-credentials-store');
    const { status, stderr } = modelsweep(
      ['sweep', join(ROOT, 'examples', 'sweeps', 'aws-all-kinds.json'), '--local', '--store-dir', storeDir],
      withoutCredentials,
    );
    expect(status).toBe(2);
    expect(stderr).toMatch(
      /cannot start the sweep, nothing was created: sagemaker-realtime candidates: no AWS credentials .*set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
    expect(stderr).not.toMatch(/deploying/);
  });

  it('without Azure credentials stops before creating anything, exit 2', () => {
    const { AZURE_CLIENT_SECRET, ...withoutAzure } = process.env;
    // Only the developer-tool credentials (az, azd, PowerShell, VS Code): none is installed here.
    const { status, stderr } = modelsweep(
      ['sweep', join(ROOT, 'examples', 'sweeps', 'azureml.yaml'), '--local', '--store-dir', join(dir, 'no-azure')],
      { ...withoutAzure, AZURE_TOKEN_CREDENTIALS: 'dev' },
    );
    expect(status).toBe(2);
    expect(stderr).toMatch(
      /cannot start the sweep, nothing was created: azureml candidates: no Azure credentials \(.*Azure CLI could not be found.*\); run az login/,
    );
  });

  it('janitor without AWS credentials lists and removes nothing, exit 2', () => {
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, ...withoutCredentials } = process.env;
    const { status, stderr } = modelsweep(['janitor', '--dry-run', '--region', 'us-east-1'], withoutCredentials);
    expect(status).toBe(2);
    expect(stderr).toMatch(/nothing was listed or removed: janitor in us-east-1: no AWS credentials/);
  });

  it('exits 1 when no candidate could be measured', () => {
    const { status, stdout } = modelsweep([
      'sweep',
      specFile([{ kind: 'http', name: 'gone', url: 'http://127.0.0.1:9/', costPerHour: 1 }]),
      '--local',
    ]);
    expect(status).toBe(1);
    expect(stdout).toMatch(/gone\s+http\s+failed .*failed: cannot reach http:\/\/127\.0\.0\.1:9\/ \(ECONNREFUSED\)/);
    // Not "none of the candidates meets the SLO": it was never measured, and the line says so.
    expect(stdout).toMatch(
      /recommendation: none: gone could not be measured \(cannot reach http:\/\/127\.0\.0\.1:9\/ \(ECONNREFUSED\)\); fix that and run again/,
    );
  });

  it('exits 2 for a bad spec or without --local', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: x\n');
    // The exit code a shell sees, once; the other cases in this process.
    const invalid = modelsweep(['sweep', bad, '--local']);
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toMatch(/model .*: /);
    const cloud = await runCliInProcess(['sweep', bad]);
    expect(cloud.code).toBe(2);
    expect(cloud.stderr).toMatch(/add --local to run the sweep on this machine, or use `modelsweep start <spec> --stack <name>`/);
    const poll = await runCliInProcess(['sweep', bad, '--local', '--poll-interval', 'often']);
    expect(poll.code).toBe(2);
    expect(poll.stderr).toMatch(/--poll-interval must be a duration such as 15s or 1m/);
    const concurrency = await runCliInProcess(['sweep', bad, '--local', '--concurrency', '99']);
    expect([concurrency.code, concurrency.stderr]).toEqual([
      2,
      expect.stringMatching(/--concurrency must be a whole number of at least 1 and at most 40/),
    ]);
  });
});
