/**
 * `npm run demo:generative`: a real local sweep of a generative model (examples/sweeps/generative.yaml).
 * Starts the spec's three OpenAI-compatible endpoints, `modelsweep token-server`s standing in for one
 * model on three GPU instance types (each its own process, as a real server would be), runs the
 * sweep on this machine, prints the results with time to first token, inter-token latency and cost
 * per million output tokens, writes the report, and stops the servers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { main } from '../bin/modelsweep';
import { PACKAGE_ROOT } from '../lib/build/asset-paths';

/** The servers examples/sweeps/generative.yaml points at: port, and how each serves (see `modelsweep token-server --help`). */
const SERVERS = [
  { port: 18201, args: ['--max-sequences', '6', '--first-token', '60ms', '--inter-token', '10ms', '--slowdown-per-sequence', '0.1'] },
  { port: 18202, args: ['--max-sequences', '8', '--first-token', '48ms', '--inter-token', '7ms', '--slowdown-per-sequence', '0.06'] },
  { port: 18203, args: ['--max-sequences', '32', '--first-token', '24ms', '--inter-token', '3.2ms', '--slowdown-per-sequence', '0.02'] },
];

/** Starts a token server in its own process and waits until it listens; rejects with its error when it cannot. */
async function startServer(port: number, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [join(PACKAGE_ROOT, 'bin', 'modelsweep.cjs'), 'token-server', '--port', String(port), '--jitter', '1ms', ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const listening = new Promise<void>((resolve) => lines.on('line', (line) => line.includes('"listening"') && resolve()));
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`the token server for port ${port} exited (${code}) before listening; is the port in use?`);
  });
  await Promise.race([listening, exited]);
  return child;
}

async function demo(): Promise<number> {
  const started = Date.now();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const children: ChildProcess[] = [];
  try {
    for (const { port, args } of SERVERS) children.push(await startServer(port, args));
    console.error(`demo: three OpenAI-compatible token servers listen on 127.0.0.1:${SERVERS.map((s) => s.port).join(', ')}`);
    const code = await main(['sweep', join(PACKAGE_ROOT, 'examples', 'sweeps', 'generative.yaml'), '--local']);
    console.error(`demo: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return code;
  } catch (error) {
    console.error(`demo: ${(error as Error).message}`);
    return 1;
  } finally {
    for (const child of children) child.kill();
  }
}

void demo().then((code) => {
  process.exitCode = code;
});
