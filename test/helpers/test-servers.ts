import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface TestServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 whose handler decides how (and when) to answer. */
export async function startTestServer(handle: (req: IncomingMessage, res: ServerResponse) => void, port = 0): Promise<TestServer> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req, res));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: listening } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${listening}/`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Answers every request after a fixed delay. */
export const fixedDelayServer = (delayMs: number) =>
  startTestServer((_req, res) => {
    setTimeout(() => res.end('ok'), delayMs);
  });

/**
 * Answers at once, except during a stall of `stallMs` that starts every `periodMs`: a request
 * arriving in the stall is held until it ends, like a GC pause or a cold start.
 */
export function stallingServer(periodMs: number, stallMs: number) {
  const origin = Date.now();
  return startTestServer((_req, res) => {
    const intoPeriod = (Date.now() - origin) % periodMs;
    const stalled = intoPeriod >= periodMs - stallMs;
    if (stalled) setTimeout(() => res.end('ok'), periodMs - intoPeriod);
    else res.end('ok');
  });
}

/**
 * A server of exactly known capacity (bench/servers/known-capacity.js, in a process of its own as
 * in the decision-quality benchmark): `slots` requests served at once, each held `holdMs` by a
 * timer, the rest waiting in order; at most slots × 1000 / holdMs requests a second. With
 * `wrongPerThousand`, a classifier of exactly known accuracy on {"x": 0..999} (see the server). With
 * `perRowMs`, a request {"rows": [...]} is held `holdMs` + `perRowMs` × its rows.
 */
export async function knownCapacityServer(
  slots: number,
  holdMs: number,
  wrongPerThousand?: number,
  perRowMs?: number,
): Promise<Pick<TestServer, 'url' | 'close'>> {
  const args = [
    '0',
    String(slots),
    String(holdMs),
    ...(wrongPerThousand !== undefined || perRowMs !== undefined ? [wrongPerThousand !== undefined ? String(wrongPerThousand) : '-'] : []),
    ...(perRowMs !== undefined ? [String(perRowMs)] : []),
  ];
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'bench', 'servers', 'known-capacity.js'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = /listening (\d+)/.exec(line.toString())![1];
  return {
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      if (child.exitCode !== null) return;
      child.kill();
      await once(child, 'exit');
    },
  };
}
