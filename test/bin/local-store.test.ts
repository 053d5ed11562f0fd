import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { ROOT, runCli, writeSpecFile } from '../helpers/cli';
import { DEMO_MODEL_PATH } from '../helpers/demo-model';

const dir = mkdtempSync(join(tmpdir(), 'local-store-'));
const modelsweep = (args: string[]) => runCli(args, dir);
const noStackTrace = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at /);

/** A store with one finished sweep in it, copied fresh for each test. */
const SEED = join(dir, 'seed');
beforeAll(() => {
  const spec = writeSpecFile(dir, {
    name: 'store',
    model: { name: 'store-demo', path: DEMO_MODEL_PATH },
    payloads: [{ file: join(ROOT, 'examples', 'demo-model', 'payloads', 'batch-1.json') }],
    candidates: [{ kind: 'http', name: 'nowhere', url: 'http://127.0.0.1:9/', costPerHour: 0.1 }],
    load: { phases: [{ mode: 'open', rate: 10, duration: '200ms' }] },
    slo: { percentile: 95, latencyMs: 50 },
    traffic: { averageRps: 5, peakRps: 10 },
  });
  const seeded = modelsweep(['sweep', spec, '--local', '--store-dir', SEED]);
  expect(seeded.stdout).toMatch(/^sweep store-\S+ \(model store-demo\): failed$/m);
});
function storeCopy(name: string): string {
  const copy = join(dir, name);
  rmSync(copy, { recursive: true, force: true });
  cpSync(SEED, copy, { recursive: true });
  return copy;
}

describe('the local results store', () => {
  it('refuses a second command while another holds it, naming the command and its pid, exit 2', () => {
    const store = storeCopy('held');
    // This test process stands for a sweep that runs.
    writeFileSync(
      join(store, 'lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), command: 'modelsweep sweep', since: '2026-12-02T12:00:00.000Z' }),
    );
    const { status, stderr } = modelsweep(['status', '--store-dir', store]);
    expect(status).toBe(2);
    expect(stderr).toMatch(
      new RegExp(
        `the results store .*held is in use by \`modelsweep sweep\` \\(pid ${process.pid}, since 2026-12-02T12:00:00.000Z\\): wait for it to finish, or pass another --store-dir`,
      ),
    );
    noStackTrace(stderr);
  });

  it('takes over a lock whose process is gone, and releases its own', () => {
    const store = storeCopy('stale');
    writeFileSync(
      join(store, 'lock'),
      JSON.stringify({ pid: 2 ** 22 + 1, host: hostname(), command: 'modelsweep sweep', since: '2026-12-01T00:00:00.000Z' }),
    );
    const { status, stdout } = modelsweep(['status', '--store-dir', store]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^store-\S+\s+failed\s+model store-demo/m);
    expect(existsSync(join(store, 'lock'))).toBe(false);
  });

  it('never recreates a store whose CURRENT file is gone: it says so, changes nothing, exit 2', () => {
    const store = storeCopy('damaged');
    rmSync(join(store, 'dynamo', 'CURRENT'));
    const before = readdirSync(join(store, 'dynamo')).sort();
    const { status, stderr } = modelsweep(['status', '--store-dir', store]);
    expect(status).toBe(2);
    expect(stderr).toMatch(
      /the results store in .*damaged\/dynamo is damaged: its CURRENT file is missing .*nothing was changed\. Restore it from a backup, or move it aside/,
    );
    noStackTrace(stderr);
    expect(readdirSync(join(store, 'dynamo')).sort()).toEqual(before);
  });

  it('refuses a store folder it cannot make, and an empty --store-dir, exit 2', () => {
    const unusable = modelsweep(['status', '--store-dir', '/dev/null/x']);
    expect(unusable.status).toBe(2);
    noStackTrace(unusable.stderr);
    const empty = modelsweep(['history', 'store-demo', '--store-dir', '']);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/--store-dir is empty/);
  });
});
