/**
 * Memory of the model server through bursts of large requests: three bursts of 40 concurrent
 * 5.6 MB bodies against the built server (`npm run build` first), its RSS before, at each peak and
 * after each. Run: npm run bench:model-server-burst
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { writeResult } from './write-result.cjs';

const ROOT = join(__dirname, '..');
const PORT = 18089;
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const server = spawn(
    process.execPath,
    [
      join(ROOT, 'dist/assets/model-server/serve.js'),
      '--model',
      join(ROOT, 'examples/demo-model/build/model.onnx'),
      '--port',
      String(PORT),
      '--threads',
      '1',
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  await sleep(2500);
  // 1,900 rows of 256 numbers: a body the server must read and parse, under its 6 MiB limit.
  const row = `[${Array.from({ length: 256 }, () => 0.123456789).join(',')}]`;
  const body = `{"instances":[${Array(1900).fill(row).join(',')}]}`;
  const base = rssMb(server.pid!);
  const lines = [`body ${(body.length / 1024 / 1024).toFixed(1)} MB x 40 concurrent, three bursts 10 s apart; RSS before: ${base.toFixed(0)} MB`];
  const bursts: Array<{ statuses: Record<string, number>; peakRssMb: number; rssMb5sAfter: number; rssMbAfter: number; secondsAfter: number }> = [];
  for (let round = 1; round <= 3; round++) {
    let peak = rssMb(server.pid!);
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.pid!))), 20);
    const statuses = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(`http://127.0.0.1:${PORT}/invocations`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
          .then((r) => String(r.status))
          .catch((e: Error) => `error ${(e.cause as NodeJS.ErrnoException | undefined)?.code ?? e.message}`),
      ),
    );
    const counts: Record<string, number> = {};
    for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
    await sleep(5000);
    const after5 = rssMb(server.pid!);
    clearInterval(sampler);
    await sleep(round === 3 ? 25_000 : 5000);
    const after = rssMb(server.pid!);
    bursts.push({
      statuses: counts,
      peakRssMb: Math.round(peak),
      rssMb5sAfter: Math.round(after5),
      rssMbAfter: Math.round(after),
      secondsAfter: round === 3 ? 30 : 10,
    });
    lines.push(
      `burst ${round}: ${JSON.stringify(counts)}; RSS peak ${peak.toFixed(0)} MB, 5 s after ${after5.toFixed(0)} MB, ${round === 3 ? 30 : 10} s after ${after.toFixed(0)} MB`,
    );
  }
  server.kill();
  console.log(lines.join('\n'));
  writeResult('model-server-burst', [], { bodyMb: +(body.length / 1024 / 1024).toFixed(1), concurrent: 40, rssMbBefore: Math.round(base), bursts });
}

void main();
