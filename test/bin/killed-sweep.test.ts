import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { processIsAlive } from '../../lib/store/sweep-liveness';
import { descendantPids } from '../../lib/targets/core-placement';
import { CLI, ROOT, runCli, writeSpecFile } from '../helpers/cli';
import { DEMO_MODEL_PATH } from '../helpers/demo-model';

const dir = mkdtempSync(join(tmpdir(), 'killed-sweep-'));
const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

/** Two local candidates with phases long enough to be killed in the middle of the first. */
const longSpec = (): string =>
  writeSpecFile(dir, {
    name: 'killed',
    model: { name: 'killed-demo', path: DEMO_MODEL_PATH },
    payloads: [{ file: join(ROOT, 'examples', 'demo-model', 'payloads', 'batch-1.json') }],
    candidates: [{ kind: 'local', threads: 1, maxBatchSize: [1, 4], costPerHour: 0.1 }],
    load: { phases: [{ mode: 'open', rate: 50, duration: '30s' }] },
    slo: { percentile: 95, latencyMs: 50 },
    traffic: { averageRps: 20, peakRps: 40 },
  });

/** Polls `condition` every 100 ms, up to `limitMs`; whether it came true. */
async function eventually(condition: () => boolean, limitMs: number): Promise<boolean> {
  for (const end = Date.now() + limitMs; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (condition()) return true;
  return condition();
}

/** The model server processes below a CLI process (the bundle's serve.js). */
const modelServersOf = (pid: number) =>
  descendantPids(pid).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('serve.js');
    } catch {
      return false;
    }
  });

/** Starts `sweep --local` and resolves once its first model server runs. */
async function sweepUntilMeasuring(storeDir: string): Promise<{ cli: ChildProcess; servers: number[]; stderr: () => string }> {
  const cli = spawn(process.execPath, [CLI, 'sweep', longSpec(), '--local', '--store-dir', storeDir], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(cli);
  let stderr = '';
  cli.stderr!.on('data', (d) => (stderr += d));
  cli.stdout!.resume();
  let servers: number[] = [];
  const running = await eventually(() => (servers = modelServersOf(cli.pid!)).length > 0 && /deploying/.test(stderr), 60_000);
  if (!running) throw new Error(`the sweep never started a model server: ${stderr}`);
  // Into its first phase.
  await new Promise((r) => setTimeout(r, 1_500));
  return { cli, servers, stderr: () => stderr };
}

const modelsweep = (args: string[]) => runCli(args, dir);

describe.runIf(process.platform === 'linux')('a sweep killed in the middle', () => {
  it('SIGKILL: its model server goes with it, and the sweep reads abandoned with what it recorded', async () => {
    const storeDir = join(dir, 'sigkill-store');
    const { cli, servers } = await sweepUntilMeasuring(storeDir);
    cli.kill('SIGKILL');
    await once(cli, 'exit');
    // Nothing could run a handler: the server leaves because the pipe to its stdin closed.
    expect(await eventually(() => servers.every((pid) => !processIsAlive(pid)), 10_000)).toBe(true);

    const list = modelsweep(['status', '--store-dir', storeDir]);
    expect(list.stderr).not.toMatch(/\n\s+at /);
    expect(list.stdout).toMatch(/^killed-\S+\s+abandoned\s+model killed-demo/m);
    const sweepId = /^(killed-\S+)/m.exec(list.stdout)![1]!;
    const one = modelsweep(['status', sweepId, '--store-dir', storeDir]);
    expect(one.stdout).toMatch(new RegExp(`^sweep ${sweepId} \\(model killed-demo\\): abandoned, 0 of 2 candidates recorded$`, 'm'));
    expect(one.stdout).toMatch(new RegExp(`^reason: its process \\(pid ${cli.pid}\\) is gone: it was killed or crashed before it finished`, 'm'));
    expect(one.status).toBe(1);
    const results = modelsweep(['results', sweepId, '--store-dir', storeDir]);
    expect(results.status).toBe(2);
    expect(results.stderr).toMatch(/was abandoned .*modelsweep status .* lists what it measured/);
  }, 120_000);

  it('SIGTERM: stops like Ctrl-C, records the sweep interrupted and names the candidate it never measured', async () => {
    const storeDir = join(dir, 'sigterm-store');
    const { cli, servers, stderr } = await sweepUntilMeasuring(storeDir);
    cli.kill('SIGTERM');
    const [code] = (await once(cli, 'exit')) as [number];
    expect(code).toBe(130);
    expect(stderr()).toMatch(/SIGTERM received: stopping the current phase, recording and tearing down/);
    expect(servers.every((pid) => !processIsAlive(pid))).toBe(true);

    const list = modelsweep(['status', '--store-dir', storeDir]);
    const sweepId = /^(killed-\S+)\s+interrupted/m.exec(list.stdout)?.[1];
    expect(sweepId, list.stdout).toBeDefined();
    const one = modelsweep(['status', sweepId!, '--store-dir', storeDir]);
    expect(one.stdout).toMatch(/^ {2}local-threads1-batch4: failed \(interrupted before it started\)$/m);
    expect(one.stdout).toMatch(
      /^reason: interrupted after 0 of 2 candidates were measured; stopped while measuring local-threads1; never started: local-threads1-batch4$/m,
    );
  }, 120_000);
});
