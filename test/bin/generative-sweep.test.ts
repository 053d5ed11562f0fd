import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTokenServer, type TokenServer } from '../../lib/model-server/token-server';
import type { SweepResults } from '../../lib/report/sweep-results';
import { writeSpecFile } from '../helpers/cli';
import { runCliInProcess } from '../helpers/cli-in-process';

const dir = mkdtempSync(join(tmpdir(), 'generative-sweep-'));

describe('a sweep of a streaming (OpenAI-compatible) http candidate', () => {
  let server: TokenServer;
  beforeAll(async () => {
    server = await startTokenServer({ firstTokenMs: 20, interTokenMs: 2 });
  });
  afterAll(() => server.close());

  const spec = (payloadBody: unknown) => {
    const payload = join(dir, `payload-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(payload, JSON.stringify(payloadBody));
    return writeSpecFile(dir, {
      name: 'generative',
      model: { name: 'synthetic-llm' },
      payloads: [{ file: payload }],
      candidates: [{ kind: 'http', name: 'synthetic', url: `${server.url}/v1/chat/completions`, api: 'openai-chat', costPerHour: 1.2 }],
      load: { phases: [{ mode: 'open', rate: 20, duration: '3s' }] },
      slo: { percentile: 95, latencyMs: 1000 },
      traffic: { averageRps: 2, peakRps: 5 },
    });
  };

  it('times each token and puts time to first token, inter-token latency and the tokens in the results and the report', async () => {
    const run = await runCliInProcess(
      ['sweep', spec({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 10 }), '--local', '--store-dir', join(dir, 'store')],
      60_000,
    );
    expect(run.code).toBe(0);
    const report = resolve(dir, /^report: (\S+)/m.exec(run.stdout)?.[1] ?? '');
    const results = JSON.parse(readFileSync(join(dirname(report), 'results.json'), 'utf8')) as SweepResults;
    const [phase] = results.candidates[0]!.phases;
    expect(phase!.tokens).toMatchObject({ outputTokens: expect.any(Number), countedBy: 'usage' });
    expect(phase!.tokens!.outputTokens).toBe((phase!.requests - Object.values(phase!.errors).reduce((a, b) => a + b, 0)) * 10);
    // The server waits 20 ms before the first token: no percentile of it can be lower.
    expect(phase!.tokens!.ttftP50Ms).toBeGreaterThanOrEqual(19);
    expect(phase!.tokens!.ttftP99Ms).toBeGreaterThanOrEqual(phase!.tokens!.ttftP50Ms);
    const html = readFileSync(report, 'utf8');
    expect(html).toMatch(/<h2>Tokens<\/h2>/);
    expect(html).toMatch(/<table id="tokens">/);
  });

  it('refuses payloads that cannot be OpenAI request bodies, naming the payload, before anything runs', async () => {
    const run = await runCliInProcess(['validate', spec([1, 2, 3])]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /payloads\[0\].*must be a JSON object \(an OpenAI request body\), as candidates\[0\] \(api openai-chat\) sends each payload as its request/,
    );
  });
});
