import net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { httpInvoker, type HttpInvokerOptions } from '../../../lib/load/http-invoker';
import type { Payload } from '../../../lib/load/invoker';
import { startTestServer, type TestServer } from '../../helpers/test-servers';

const payload: Payload = { body: '{"x":1}', contentType: 'application/json' };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

function invokerFor(url: string, options: Partial<HttpInvokerOptions> = {}) {
  const invoker = httpInvoker({ url, ...options });
  cleanups.push(() => invoker.close());
  return invoker;
}

async function serve(handle: Parameters<typeof startTestServer>[0]): Promise<TestServer & { connections: () => number }> {
  const server = await startTestServer(handle);
  let connections = 0;
  server.server.on('connection', () => connections++);
  cleanups.push(() => server.close());
  return { ...server, connections: () => connections };
}

/**
 * A raw TCP server that answers the n-th request on each connection (1-based) with what
 * `answer(n)` returns: bytes to write, 'close' to close without answering, or 'hang'.
 */
async function rawServer(answer: (n: number) => string | 'close' | 'hang') {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    let n = 0;
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        const reply = answer(++n);
        if (reply === 'close') socket.destroy();
        else if (reply !== 'hang') socket.write(reply);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  cleanups.push(() => new Promise((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, connections: () => connections };
}

const ok = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

describe('httpInvoker', () => {
  it('sends the method, path, query, host, headers, content type and body exactly', async () => {
    const seen: Array<{ method?: string; url?: string; headers: Record<string, unknown>; body: string }> = [];
    const server = await serve((_req, res) => res.end('ok'));
    server.server.removeAllListeners('request');
    server.server.on('request', (req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.end('ok');
      });
    });
    const invoker = invokerFor(`${server.url}invocations?variant=a`, {
      method: 'PUT',
      headers: { 'x-api-key': 'k1', 'Content-Type': 'ignored/by-payload' },
    });
    expect(await invoker.invoke(payload)).toEqual({ ok: true });
    expect(await invoker.invoke({ body: new Uint8Array([1, 2, 3]).subarray(1), contentType: 'application/octet-stream' })).toEqual({ ok: true });
    const port = new URL(server.url).port;
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/invocations?variant=a', body: '{"x":1}' });
    expect(seen[0].headers).toMatchObject({
      host: `127.0.0.1:${port}`,
      'x-api-key': 'k1',
      'content-type': 'application/json',
      'content-length': '7',
    });
    expect(seen[1].headers).toMatchObject({ 'content-type': 'application/octet-stream', 'content-length': '2' });
    expect(Buffer.from(seen[1].body, 'latin1')).toEqual(Buffer.from([2, 3]));
  });

  it('sends GET without a body and reuses one keep-alive connection for sequential requests', async () => {
    const methods: string[] = [];
    const server = await serve((req, res) => {
      methods.push(`${req.method} ${req.headers['content-length'] ?? '-'}`);
      res.end('ok');
    });
    const invoker = invokerFor(server.url, { method: 'GET' });
    for (let i = 0; i < 50; i++) expect(await invoker.invoke(payload)).toEqual({ ok: true });
    expect(new Set(methods)).toEqual(new Set(['GET -']));
    expect(server.connections()).toBe(1);
  });

  it('queues requests beyond its connections and answers all of them in order of arrival', async () => {
    const server = await serve((_req, res) => setTimeout(() => res.end('ok'), 20));
    const invoker = invokerFor(server.url, { connections: 2 });
    const finished: number[] = [];
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => invoker.invoke(payload).then((o) => (finished.push(i), o))));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(server.connections()).toBe(2);
    expect(finished.slice(0, 2).sort()).toEqual([0, 1]);
    expect(finished.slice(-2).sort()).toEqual([8, 9]);
  });

  it('counts HTTP errors by status, including chunked error bodies', async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 503;
      res.write('busy, ');
      res.end('try later');
    });
    const invoker = invokerFor(server.url);
    expect(await invoker.invoke(payload)).toEqual({ ok: false, failure: { kind: 'http', status: 503 } });
    expect(await invoker.invoke(payload)).toEqual({ ok: false, failure: { kind: 'http', status: 503 } });
    expect(server.connections()).toBe(1);
  });

  it('opens a new connection after a response that closes its connection', async () => {
    const server = await rawServer(() => 'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok');
    const invoker = invokerFor(server.url);
    for (let i = 0; i < 3; i++) expect(await invoker.invoke(payload)).toEqual({ ok: true });
    expect(server.connections()).toBe(3);
  });

  it('resends once, on a new connection, a request whose reused keep-alive connection was closed under it', async () => {
    const server = await rawServer((n) => (n === 1 ? ok : 'close'));
    const invoker = invokerFor(server.url);
    expect(await invoker.invoke(payload)).toEqual({ ok: true });
    expect(await invoker.invoke(payload)).toEqual({ ok: true });
    expect(server.connections()).toBe(2);
  });

  it('does not resend on a fresh connection: a server that closes at once is a connection error', async () => {
    const server = await rawServer(() => 'close');
    const invoker = invokerFor(server.url);
    expect(await invoker.invoke(payload)).toMatchObject({ ok: false, failure: { kind: 'connection' } });
    expect(server.connections()).toBe(1);
  });

  it('reports a response it cannot parse, and a refused connection, by code', async () => {
    const server = await rawServer(() => 'NOT HTTP\r\n\r\n');
    expect(await invokerFor(server.url).invoke(payload)).toEqual({ ok: false, failure: { kind: 'connection', code: 'BAD_RESPONSE' } });
    expect(await invokerFor('http://127.0.0.1:9/').invoke(payload)).toEqual({ ok: false, failure: { kind: 'connection', code: 'ECONNREFUSED' } });
  });

  it('times out a request with no answer, closes its connection, and goes on working', async () => {
    let requests = 0;
    const server = await rawServer(() => (++requests === 1 ? 'hang' : ok));
    const invoker = invokerFor(server.url, { timeoutMs: 100 });
    expect(await invoker.invoke(payload)).toEqual({ ok: false, failure: { kind: 'timeout' } });
    expect(await invoker.invoke(payload)).toEqual({ ok: true });
    expect(server.connections()).toBe(2);
  });

  it('settles requests still in flight when closed', async () => {
    const server = await rawServer(() => 'hang');
    const invoker = httpInvoker({ url: server.url });
    const pending = invoker.invoke(payload);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await invoker.close();
    expect(await pending).toEqual({ ok: false, failure: { kind: 'connection', code: 'CLIENT_CLOSED' } });
    expect(await invoker.invoke(payload)).toEqual({ ok: false, failure: { kind: 'connection', code: 'CLIENT_CLOSED' } });
  });

  it.each([
    [{ url: 'ftp://127.0.0.1/' }, /url must be http or https/],
    [{ url: 'http://127.0.0.1/', connections: 0 }, /connections must be a whole number of at least 1/],
    [{ url: 'http://127.0.0.1/', headers: { 'x-a': 'b\r\nx-injected: 1' } }, /headers\.x-a must not contain CR, LF or NUL/],
    [{ url: 'http://127.0.0.1/', headers: { 'bad name': 'b' } }, /headers: "bad name" is not a valid header name/],
    [{ url: 'http://127.0.0.1/', headers: { Host: 'other' } }, /headers\.Host is set by the load generator/],
  ])('refuses bad options: %j', (options, message) => {
    expect(() => httpInvoker(options)).toThrow(message);
  });
});
