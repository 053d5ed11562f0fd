/**
 * Token timing accuracy: modelsweep's time to first token (TTFT) and inter-token latency (ITL)
 * percentiles against the truth, beside a peer measured in the same run.
 *
 * - Target: `modelsweep token-server` in a child process pinned to core 1, waiting a known time
 *   before the first token and between tokens (with seeded jitter). It writes down when each
 *   request arrived and each chunk left: that is the truth (TTFT = first chunk out - request in;
 *   ITL = gaps between chunks out).
 * - modelsweep: `runPhase` with the OpenAI stream invoker, open loop, pinned to core 0.
 * - Peer: an LLMPerf-style closed loop (its approach: N concurrent clients, each sends, reads the
 *   stream with fetch, and times the chunks), pinned to core 0, at the same request rate's
 *   concurrency.
 *
 * Each run prints p50 and p99 of TTFT and ITL for truth, modelsweep and the peer, and whether each
 * is within 1 ms or 5% of the truth. Each tool warms up for 2 s first, left out of its numbers
 * and of the truth. Results in bench/results/token-timing.json.
 *
 * Usage: npm run bench:token-timing -- [--repeats 3] [--seconds 10]
 */
import { execFileSync, fork } from 'node:child_process';
import { join } from 'node:path';

import { LatencyHistogram } from '../lib/load/histogram';
import { openAiStreamInvoker } from '../lib/load/openai-stream-invoker';
import { runPhase } from '../lib/load/phase';
import type { ServedStream } from '../lib/model-server/token-server';
import { writeResult } from './write-result.cjs';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const REPEATS = flag('--repeats', 3);
const SECONDS = flag('--seconds', 10);
const WARMUP_SECONDS = 2;
const RATE = 8;
const MAX_TOKENS = 48;
const TIMING = { firstTokenMs: 60, interTokenMs: 12, jitterMs: 4 };

interface Percentiles {
  p50: number;
  p99: number;
}
interface Measured {
  ttft: Percentiles;
  itl: Percentiles;
}

const percentiles = (h: LatencyHistogram): Percentiles => ({ p50: round(h.percentileMs(50)), p99: round(h.percentileMs(99)) });
const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** The token server in a child pinned to core 1; it answers 'served' with what it did. */
async function startServer(): Promise<{ url: string; served: () => Promise<ServedStream[]>; stop: () => void }> {
  const child = fork(join(__dirname, 'servers', 'token-server-child.ts'), [JSON.stringify(TIMING)], { execArgv: ['--import', 'tsx'] });
  execFileSync('taskset', ['-pc', '1', String(child.pid)], { stdio: 'ignore' });
  const url = await new Promise<string>((resolve) => child.once('message', (m: { url: string }) => resolve(m.url)));
  return {
    url,
    served: () =>
      new Promise((resolve) => {
        child.once('message', (m: { served: ServedStream[] }) => resolve(m.served));
        child.send('served');
      }),
    stop: () => child.kill(),
  };
}

function truthOf(served: readonly ServedStream[]): Measured {
  const ttft = new LatencyHistogram();
  const itl = new LatencyHistogram();
  for (const s of served) {
    if (s.chunkSentAt.length === 0) continue;
    ttft.recordMs(s.chunkSentAt[0]! - s.receivedAt);
    for (let i = 1; i < s.chunkSentAt.length; i++) itl.recordMs(s.chunkSentAt[i]! - s.chunkSentAt[i - 1]!);
  }
  return { ttft: percentiles(ttft), itl: percentiles(itl) };
}

async function modelsweepRun(url: string, seconds: number): Promise<Measured> {
  const invoker = openAiStreamInvoker({ url: `${url}/v1/chat/completions`, api: 'openai-chat' });
  const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'hi' }], max_tokens: MAX_TOKENS });
  const result = await runPhase(
    invoker,
    { name: 'bench', mode: 'open', rate: RATE, arrivals: 'poisson', durationMs: seconds * 1000 },
    { seed: 1, nextPayload: () => ({ body, contentType: 'application/json' }) },
  );
  await invoker.close();
  const t = result.tokens!;
  return {
    ttft: percentiles(LatencyHistogram.decode(t.timeToFirstTokenHistogram)),
    itl: percentiles(LatencyHistogram.decode(t.interTokenHistogram)),
  };
}

/** LLMPerf's way: concurrent clients in a closed loop, each timing the chunks of its own stream with fetch. */
async function peerRun(url: string, seconds: number): Promise<Measured> {
  const ttft = new LatencyHistogram();
  const itl = new LatencyHistogram();
  const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'hi' }], max_tokens: MAX_TOKENS, stream: true });
  // Little's law: the concurrency that gives about RATE requests a second at this response time.
  const responseMs = TIMING.firstTokenMs + (MAX_TOKENS - 1) * TIMING.interTokenMs;
  const concurrency = Math.max(1, Math.round((RATE * responseMs) / 1000));
  const end = performance.now() + seconds * 1000;
  const client = async () => {
    while (performance.now() < end) {
      const start = performance.now();
      const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      let last: number | undefined;
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of response.body!) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        const events = buffered.split('\n\n');
        buffered = events.pop()!;
        for (const event of events) {
          if (!event.startsWith('data: ') || event === 'data: [DONE]' || !event.includes('"content"')) continue;
          const now = performance.now();
          if (last === undefined) ttft.recordMs(now - start);
          else itl.recordMs(now - last);
          last = now;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return { ttft: percentiles(ttft), itl: percentiles(itl) };
}

const within = (measured: number, truth: number) => Math.abs(measured - truth) <= Math.max(1, 0.05 * truth);

async function main(): Promise<void> {
  execFileSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });
  const runs: unknown[] = [];
  for (let r = 1; r <= REPEATS; r++) {
    for (const tool of ['modelsweep', 'peer'] as const) {
      const server = await startServer();
      try {
        // Both warm up first (connections, JIT), and the truth leaves the warm-up's requests out too.
        const run = (seconds: number) => (tool === 'modelsweep' ? modelsweepRun(server.url, seconds) : peerRun(server.url, seconds));
        await run(WARMUP_SECONDS);
        const warmupRequests = (await server.served()).length;
        const measured = await run(SECONDS);
        const truth = truthOf((await server.served()).slice(warmupRequests));
        const verdict = {
          ttftP50: within(measured.ttft.p50, truth.ttft.p50),
          ttftP99: within(measured.ttft.p99, truth.ttft.p99),
          itlP50: within(measured.itl.p50, truth.itl.p50),
          itlP99: within(measured.itl.p99, truth.itl.p99),
        };
        runs.push({ repeat: r, tool, truth, measured, withinOneMsOrFivePercent: verdict });
        console.log(
          `run ${r} ${tool.padEnd(10)} TTFT p50 ${measured.ttft.p50.toFixed(2)} (truth ${truth.ttft.p50.toFixed(2)}) p99 ${measured.ttft.p99.toFixed(2)} (truth ${truth.ttft.p99.toFixed(2)})  ` +
            `ITL p50 ${measured.itl.p50.toFixed(2)} (truth ${truth.itl.p50.toFixed(2)}) p99 ${measured.itl.p99.toFixed(2)} (truth ${truth.itl.p99.toFixed(2)})  ` +
            `within 1 ms or 5%: ${Object.entries(verdict)
              .map(([k, ok]) => `${k} ${ok ? 'yes' : 'NO'}`)
              .join(', ')}`,
        );
      } finally {
        server.stop();
      }
    }
  }
  const file = writeResult('token-timing', process.argv.slice(2), { timing: TIMING, rate: RATE, seconds: SECONDS, maxTokens: MAX_TOKENS, runs });
  console.log(`results: ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
