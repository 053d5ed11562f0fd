import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { parseSpec } from '../../../lib/spec/load-spec';
import { syntheticPrompt } from '../../../lib/spec/prompt-sets';

const dir = mkdtempSync(join(tmpdir(), 'prompt-sets-'));

/** A spec with one streaming candidate and these prompt buckets, parsed with its files read. */
const specWith = (prompts: unknown[], extra = '') =>
  parseSpec(
    `name: gen
model: { name: tiny-llm }
prompts: ${JSON.stringify(prompts)}
candidates:
  - { kind: http, name: vllm, url: "http://127.0.0.1:8000/v1/chat/completions", api: openai-chat, costPerHour: 1 }
load: { phases: [{ mode: open, rate: 5, duration: 10s }] }
slo: { percentile: 95, latencyMs: 5000, timeToFirstToken: { ms: 500 } }
traffic: { averageRps: 1, peakRps: 2 }
${extra}`,
    join(dir, 'spec.yaml'),
    dir,
  );

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
    const problems = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return String((error as Error).message);
      }
      return '';
    };
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
});
