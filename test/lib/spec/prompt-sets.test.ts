import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { parseSpec } from '../../../lib/spec/load-spec';
import { syntheticPrompt } from '../../../lib/spec/prompt-sets';

const dir = mkdtempSync(join(tmpdir(), 'prompt-sets-'));

/** A spec with one streaming candidate and these prompt buckets, parsed with its files read. */
const specWith = (prompts: unknown[], traffic = '{ averageRps: 1, peakRps: 2 }', extra = '') =>
  parseSpec(
    `name: gen
model: { name: tiny-llm }
prompts: ${JSON.stringify(prompts)}
candidates:
  - { kind: http, name: vllm, url: "http://127.0.0.1:8000/v1/chat/completions", api: openai-chat, costPerHour: 1 }
load: { phases: [{ mode: open, rate: 5, duration: 10s }] }
slo: { percentile: 95, latencyMs: 5000, timeToFirstToken: { ms: 500 } }
traffic: ${traffic}
${extra}`,
    join(dir, 'spec.yaml'),
    dir,
  );

/** What a call threw ('' when it did not). */
const problems = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return String((error as Error).message);
  }
  return '';
};

describe('prompt sets', () => {
  it('turns weighted buckets into OpenAI chat bodies with their max_tokens, sharing a file bucket’s weight among its prompts', () => {
    writeFileSync(
      join(dir, 'long.jsonl'),
      ['"Summarise the history of Rome."', '{"messages":[{"role":"user","content":"Write a poem."}]}', '', '{"prompt":"Explain TCP."}'].join('\n'),
    );
    const loaded = specWith([
      { name: 'short', weight: 3, maxTokens: 16, inputTokens: 12 },
      { name: 'long', weight: 1, maxTokens: 256, file: 'long.jsonl' },
    ]);
    const byName = (name: string) => loaded.payloads.filter((p) => p.name === name);
    expect(byName('short')).toHaveLength(1);
    const short = JSON.parse(String(byName('short')[0]!.body));
    expect(short).toEqual({ model: 'tiny-llm', messages: [{ role: 'user', content: syntheticPrompt(12, 0) }], max_tokens: 16 });
    expect(short.messages[0].content.split(' ')).toHaveLength(12);
    expect(byName('long').map((p) => p.weight)).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(byName('long').map((p) => JSON.parse(String(p.body)).messages)).toEqual([
      [{ role: 'user', content: 'Summarise the history of Rome.' }],
      [{ role: 'user', content: 'Write a poem.' }],
      [{ role: 'user', content: 'Explain TCP.' }],
    ]);
    expect(byName('long').every((p) => JSON.parse(String(p.body)).max_tokens === 256)).toBe(true);
  });

  it('refuses a bucket with no prompt or two, a bad line naming it, and prompts sent to a candidate that does not stream', () => {
    writeFileSync(join(dir, 'bad.jsonl'), '"fine"\n{"text": 3}\n');
    expect(problems(() => specWith([{ maxTokens: 8 }]))).toMatch(/prompts\[0\].*give one of text, file or inputTokens/);
    expect(problems(() => specWith([{ maxTokens: 8, text: 'hi', inputTokens: 3 }]))).toMatch(/prompts\[0\].*give one of text, file or inputTokens/);
    expect(problems(() => specWith([{ maxTokens: 8, file: 'bad.jsonl' }]))).toMatch(
      /prompts\[0\]\.file.*bad\.jsonl line 2 must be a string, or an object with "messages"/,
    );
    expect(problems(() => specWith([{ maxTokens: 0, text: 'hi' }]))).toMatch(/prompts\[0\]\.maxTokens.*at least 1/);
    expect(
      problems(() =>
        parseSpec(
          `name: gen
model: { name: m }
prompts: [{ maxTokens: 8, text: hi }]
candidates: [{ kind: http, url: "http://127.0.0.1:9/", costPerHour: 1 }]
load: { phases: [{ mode: open, rate: 5, duration: 10s }] }
slo: { percentile: 95, latencyMs: 500 }
traffic: { averageRps: 1, peakRps: 2 }`,
          join(dir, 'spec.yaml'),
          dir,
        ),
      ),
    ).toMatch(/prompts.*candidates\[0\] \(kind http\) does not stream/);
  });

  it('sizes a forecast in output tokens per second as requests at the prompts’ weighted maxTokens', () => {
    const loaded = specWith(
      [
        { name: 'chat', weight: 3, maxTokens: 32, inputTokens: 64 },
        { name: 'summary', weight: 1, maxTokens: 64, inputTokens: 512 },
      ],
      '{ averageOutputTokensPerSecond: 400, peakOutputTokensPerSecond: 1200 }',
    );
    // (3 × 32 + 1 × 64) / 4 = 40 tokens a request
    expect(loaded.spec.traffic).toEqual({
      averageRps: 10,
      peakRps: 30,
      outputTokens: { perRequest: 40, averagePerSecond: 400, peakPerSecond: 1200 },
    });
  });

  it('refuses a forecast in both units, one half given, or in tokens without prompts, naming the field', () => {
    const bucket = [{ maxTokens: 8, text: 'hi' }];
    expect(problems(() => specWith(bucket, '{ averageRps: 1, peakRps: 2, peakOutputTokensPerSecond: 100 }'))).toMatch(
      /traffic\.averageOutputTokensPerSecond.*in requests \(averageRps, peakRps\) or in output tokens per second, not both/,
    );
    expect(problems(() => specWith(bucket, '{ peakOutputTokensPerSecond: 100 }'))).toMatch(/traffic\.averageOutputTokensPerSecond.*is needed/);
    expect(problems(() => specWith(bucket, '{ averageOutputTokensPerSecond: 200, peakOutputTokensPerSecond: 100 }'))).toMatch(
      /traffic\.peakOutputTokensPerSecond.*must be at least averageOutputTokensPerSecond/,
    );
    expect(
      problems(() =>
        parseSpec(
          `name: gen
model: { name: m }
payloads: [{ body: '{"model":"m","prompt":"hi","max_tokens":8}' }]
candidates: [{ kind: http, url: "http://127.0.0.1:9/v1/completions", api: openai-completions, costPerHour: 1 }]
load: { phases: [{ mode: open, rate: 5, duration: 10s }] }
slo: { percentile: 95, latencyMs: 500 }
traffic: { averageOutputTokensPerSecond: 10, peakOutputTokensPerSecond: 20 }`,
          join(dir, 'spec.yaml'),
          dir,
        ),
      ),
    ).toMatch(/traffic\.averageOutputTokensPerSecond.*needs every request to come from prompts/);
  });
});
