import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { CLI, ROOT, runCli, writeSpecFile } from '../helpers/cli';
import { DEMO_MODEL_PATH } from '../helpers/demo-model';

const dir = mkdtempSync(join(tmpdir(), 'local-store-'));
const modelsweep = (args: string[]) => runCli(args, dir);
const noStackTrace = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at /);

/** A store with one finished sweep in it, copied fresh for each test. */
const SEED = join(dir, 'seed');
let spec: string;
beforeAll(() => {
  spec = writeSpecFile(dir, {
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

  it('lets readers in while a sweep holds it (through the server of that sweep), and refuses a second sweep naming the first', async () => {
    const store = storeCopy('shared');
    const holder = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'hold-store.ts'), store, 'store-running-1'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      const since = await new Promise<string>((resolve, reject) => {
        holder.stdout.on('data', (d: Buffer) => /ready (\S+)/.test(String(d)) && resolve(/ready (\S+)/.exec(String(d))![1]!));
        holder.once('exit', (code) => reject(new Error(`the store holder exited ${code}`)));
      });
      const status = modelsweep(['status', '--store-dir', store]);
      expect(status.status).toBe(0);
      expect(status.stdout).toMatch(/^store-running-1\s+running/m);
      expect(status.stdout).toMatch(/^store-\S+\s+failed\s+model store-demo/m);
      const second = modelsweep(['sweep', spec, '--local', '--store-dir', store]);
      expect(second.status).toBe(2);
      expect(second.stderr).toMatch(
        new RegExp(`is in use by \`modelsweep sweep\` \\(sweep store-running-1\\) \\(pid ${holder.pid}, since ${since}\\): wait for it to finish`),
      );
      noStackTrace(second.stderr);
    } finally {
      holder.stdin.end();
      await new Promise((resolve) => holder.once('exit', resolve));
    }
  });

  it('says a store with a damaged file is damaged, with what to do, exit 2 and no stack trace', () => {
    const store = storeCopy('corrupt');
    // Opening it once turns its log into a table file (.ldb), whose middle is then damaged.
    expect(modelsweep(['status', '--store-dir', store]).status).toBe(0);
    const table = readdirSync(join(store, 'dynamo')).find((f) => f.endsWith('.ldb'))!;
    const bytes = readFileSync(join(store, 'dynamo', table));
    for (let i = Math.floor(bytes.length / 4); i < Math.floor(bytes.length / 4) + 64; i++) bytes[i] = bytes[i]! ^ 0x5a;
    writeFileSync(join(store, 'dynamo', table), bytes);
    const { status, stderr } = modelsweep(['status', '--store-dir', store]);
    expect(status).toBe(2);
    expect(stderr).toMatch(/the results store in .*corrupt\/dynamo is damaged \(Corruption: .*move it aside \(mv /);
    noStackTrace(stderr);
    expect(existsSync(join(store, 'lock'))).toBe(false);
  });

  it('notices records lost without an error (LevelDB skips a damaged block) and refuses to read or add to the store, exit 2', () => {
    const store = storeCopy('lost');
    const tally = JSON.parse(readFileSync(join(store, 'tally.json'), 'utf8')) as { records: number };
    expect(tally.records).toBeGreaterThan(0);
    // As if the store had held more records when it was last used than it can now read.
    writeFileSync(join(store, 'tally.json'), JSON.stringify({ records: tally.records + 2, at: '2026-12-02T12:00:00.000Z' }));
    for (const command of [
      ['history', 'store-demo'],
      ['sweep', spec, '--local'],
    ]) {
      const { status, stderr } = modelsweep([...command, '--store-dir', store]);
      expect(status).toBe(2);
      expect(stderr).toMatch(
        new RegExp(
          `is damaged: it holds ${tally.records} records, but held ${tally.records + 2} when last used \\(2026-12-02T12:00:00.000Z\\); 2 were lost`,
        ),
      );
      noStackTrace(stderr);
    }
    // The sweep was refused before it recorded anything, and the tally still remembers the loss.
    expect(JSON.parse(readFileSync(join(store, 'tally.json'), 'utf8'))).toEqual({ records: tally.records + 2, at: '2026-12-02T12:00:00.000Z' });
  });

  // Root writes anywhere, so as root the command runs as nobody, which needs to read the checkout
  // (a clone in a private temporary folder cannot be): then there is no user to try it as.
  const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  const userCanRun = asUser.length === 0 || spawnSync(asUser[0]!, [...asUser.slice(1), 'test', '-r', CLI]).status === 0;
  it.runIf(userCanRun)('refuses a store it cannot write before doing anything, naming it, exit 2', () => {
    // Outside this run's private temporary folder, which another user cannot enter.
    const open = mkdtempSync('/tmp/modelsweep-read-only-');
    const store = join(open, 'store');
    cpSync(SEED, store, { recursive: true });
    const specCopy = join(open, 'spec.yaml');
    cpSync(spec, specCopy);
    execFileSync('chmod', ['-R', 'a-w,a+rX', open]);
    try {
      const args = [...asUser, process.execPath, CLI, 'sweep', specCopy, '--local', '--store-dir', store];
      const { status, stderr } = spawnSync(args[0]!, args.slice(1), {
        encoding: 'utf8',
        cwd: open,
        timeout: 60_000,
        env: { ...process.env, TMPDIR: '/tmp' },
      });
      expect(status).toBe(2);
      expect(stderr).toMatch(
        /cannot use the results store .*store: it cannot be written \(permissions, or a read-only file system\); pass another --store-dir/,
      );
      noStackTrace(stderr);
      expect(existsSync(join(store, 'lock'))).toBe(false);
    } finally {
      execFileSync('chmod', ['-R', 'u+w', open]);
      rmSync(open, { recursive: true, force: true });
    }
  });
});
