import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTokenServer, type TokenServer } from '../../lib/model-server/token-server';
import { runCliInProcess } from '../helpers/cli-in-process';
import { fixedDelayServer, type TestServer } from '../helpers/test-servers';

const CLI = join(__dirname, '..', '..', 'bin', 'modelsweep.cjs');

/** The CLI in a process of its own, as a shell runs it (the other cases run in this process). */
function spawned(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('modelsweep load', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await fixedDelayServer(5);
  });
  afterAll(() => server.close());

  it('prints the JSON result of an open-loop run', async () => {
    const { code, stdout } = await spawned([
      'load',
      '--url',
      server.url,
      '--rate',
      '50',
      '--arrivals',
      'constant',
      '--duration',
      '1s',
      '--warmup',
      '200ms',
      '--body',
      '{"a":1}',
      '--json',
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.warmup.requests).toBe(10);
    expect(result.phases).toHaveLength(1);
    expect(result.phases[0]).toMatchObject({ name: 'measured', mode: 'open', rate: 50, requests: 50, errorCount: 0 });
    expect(result.phases[0].latencyMs.p50).toBeGreaterThanOrEqual(4.5);
    expect(typeof result.phases[0].histogram).toBe('string');
  });

  it('prints a table for a closed-loop run, with a progress line on stderr', async () => {
    const { code, stdout, stderr } = await runCliInProcess([
      'load',
      '--url',
      server.url,
      '--concurrency',
      '2',
      '--duration',
      '1s',
      '--body-file',
      join(__dirname, '..', '..', 'examples', 'demo-model', 'payloads', 'batch-1.json'),
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^phase\s+load\s+duration\s+requests\s+rps\s+errors\s+late\s+p50 ms/);
    expect(stdout).toMatch(/measured\s+2 concurrent/);
    expect(stderr).toMatch(/measured: \d\.\ds \/ 1s\s+sent \d+/);
  });

  it('reports errors by kind, and exits 1 with no percentiles when no request succeeded', async () => {
    const { code, stdout, stderr } = await runCliInProcess([
      'load',
      '--url',
      'http://127.0.0.1:9/',
      '--rate',
      '20',
      '--arrivals',
      'constant',
      '--duration',
      '500ms',
      '--quiet',
    ]);
    expect(stdout).toMatch(/measured: errors connection_ECONNREFUSED=10/);
    // Nothing succeeded: no latency to print, and not a success.
    expect(stdout).toMatch(/^measured\s+20\/s constant\s+\S+\s+10\s+[\d.]+\s+10 \(100\.0%\)\s+\d+\s+-\s+-\s+-\s+-\s+-\s+-$/m);
    expect(stderr).toMatch(/^modelsweep: no request succeeded \(connection_ECONNREFUSED=10\); nothing was measured$/m);
    expect(code).toBe(1);
  });

  it.each([
    [['load', '--url', 'http://x', '--duration', '1s'], /give exactly one of --rate \(open loop\) and --concurrency \(closed loop\)/],
    [['load', '--url', 'ftp://x', '--rate', '1', '--duration', '1s'], /--url must be an http:\/\/ or https:\/\/ URL/],
    [['load', '--url', 'http://x', '--rate', '0', '--duration', '1s'], /--rate must be a number above 0 and at most 100,000/],
    [
      ['load', '--url', 'http://x', '--concurrency', '1.5', '--duration', '1s'],
      /--concurrency must be a whole number of at least 1 and at most 10,000/,
    ],
    [['load', '--url', 'http://x', '--rate', '1', '--duration', '10 seconds'], /--duration must be a duration such as 30s or 2m/],
    [
      ['load', '--url', 'http://x', '--rate', '1', '--duration', '1s', '--body-file', '/nonexistent.json'],
      /--body-file: no such file: \/nonexistent.json/,
    ],
    [
      ['load', '--url', 'http://x', '--rate', '1', '--duration', '1s', '--arrivals', 'bursty'],
      /argument 'bursty' is invalid. Allowed choices are poisson, constant/,
    ],
    [['load', '--rate', '1', '--duration', '1s'], /required option '--url <url>' not specified/],
    [['nonsense'], /unknown command 'nonsense'/],
  ])('exits 2 with a message naming the flag for %j', async (args, message) => {
    const { code, stderr } = await runCliInProcess(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('shows help with examples and exits 0', async () => {
    const { code, stdout } = await spawned(['load', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Examples:\n\s+\$ modelsweep load --url/);
  });
});

describe('modelsweep load --api openai-chat', () => {
  let tokens: TokenServer;
  beforeAll(async () => {
    tokens = await startTokenServer({ firstTokenMs: 10, interTokenMs: 2, usage: 'never' });
  });
  afterAll(() => tokens.close());
  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 6 });

  /** `modelsweep load --api openai-chat` against the token server, at `rate` for 1 s, with more flags. */
  const load = (rate: number, ...flags: string[]) =>
    runCliInProcess([
      'load',
      '--url',
      `${tokens.url}/v1/chat/completions`,
      '--api',
      'openai-chat',
      '--rate',
      String(rate),
      '--duration',
      '1s',
      ...flags,
    ]);

  it('streams each response and prints time to first token, inter-token latency and tokens, saying how tokens were counted', async () => {
    const { code, stdout } = await load(20, '--quiet', '--body', body);
    expect(code).toBe(0);
    expect(stdout).toMatch(/output tokens\s+tokens\/s\s+counted by\s+TTFT p50/);
    expect(stdout).toMatch(/each chunk of text counts as one token/);
    const json = await load(20, '--quiet', '--json', '--body', body);
    const [phase] = (JSON.parse(json.stdout) as { phases: { successes: number; tokens: { outputTokens: number; countedBy: string } }[] }).phases;
    expect(phase!.tokens).toMatchObject({ outputTokens: phase!.successes * 6, countedBy: 'chunks' });
  });

  it.each([
    [['--body', '[1]'], /--api openai-chat: payload --body must be a JSON object/],
    [['--body', body, '--method', 'PUT'], /POST a JSON request body/],
    [['--body', body, '--api', 'http', '--first-token-timeout', '1s'], /--first-token-timeout needs a streaming --api/],
    [['--body', body, '--first-token-timeout', 'soon'], /--first-token-timeout must be a duration/],
  ])('refuses %j naming the flag, exit 2', async (flags, message) => {
    const { code, stderr } = await load(1, ...flags);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});
