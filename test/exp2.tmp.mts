import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { httpInvoker } from '../lib/load/http-invoker';
import { runPhase } from '../lib/load/phase';
import { loopbackListenerPids } from '../lib/targets/loopback-listener';
const core = 1;
const onCore = (script: string) => spawn('taskset', ['-c', String(core), process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
const server = onCore("require('http').createServer((q, r) => r.end('{}')).listen(0, '127.0.0.1', function () { console.log(this.address().port) })");
const hog = process.argv[2] === 'hog' ? onCore('for (;;) {}') : undefined;
const [port] = (await once(server.stdout!, 'data')) as [Buffer];
const url = `http://127.0.0.1:${String(port).trim()}/`;
const invoker = httpInvoker({ url });
for (let i = 0; i < 6; i++) {
  const slo = { percentile: 99, latencyMs: 2, maxErrorRate: 0.01 };
  const r = await runPhase(invoker, { name: 'c', mode: 'open', rate: 100, arrivals: 'constant', durationMs: 1500 }, { seed: 1, nextPayload: () => ({ body: '{}', contentType: 'application/json' }), slo, targetPids: loopbackListenerPids(url) });
  console.log(r.latencyMs.p50, r.latencyMs.p99, r.health?.targetRunQueueWaitMs, r.health?.otherProcessesCores, JSON.stringify(r.validity).slice(0, 200));
}
server.kill(); hog?.kill(); await invoker.close(); process.exit(0);
