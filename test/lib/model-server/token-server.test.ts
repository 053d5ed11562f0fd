import { afterEach, describe, expect, it } from 'vitest';

import { startTokenServer, type TokenServer, type TokenServerOptions } from '../../../lib/model-server/token-server';

const servers: TokenServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(options: TokenServerOptions) {
  const server = await startTokenServer(options);
  servers.push(server);
  return server;
}

/** A streamed chat request of `tokens` tokens, read to its end. */
async function stream(server: TokenServer, tokens: number): Promise<void> {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], max_tokens: tokens, stream: true }),
  });
  await response.text();
}

describe('the token server as a batching GPU server', () => {
  it('decodes at most maxSequences at once: the next starts only when one finishes', async () => {
    const server = await serve({ firstTokenMs: 0, interTokenMs: 15, maxSequences: 2 });
    await Promise.all([1, 2, 3, 4].map(() => stream(server, 3)));
    const [a, b, c, d] = server.served;
    const ends = [a!, b!].map((s) => s.chunkSentAt.at(-1)!);
    // The third and fourth waited for a place: their first token comes after one of the first two ended.
    expect(c!.chunkSentAt[0]).toBeGreaterThanOrEqual(Math.min(...ends));
    expect(d!.chunkSentAt[0]).toBeGreaterThanOrEqual(Math.min(...ends));
  });

  it('slows each token by slowdownPerSequence for every other sequence decoding beside it', async () => {
    // 30 ms to the first token: both have joined the batch before either's first gap is drawn.
    const server = await serve({ firstTokenMs: 30, interTokenMs: 10, slowdownPerSequence: 1 });
    await Promise.all([stream(server, 4), stream(server, 4)]);
    // Two decoding together: each gap is 10 ms × (1 + 1), and a timer never fires early.
    for (const served of server.served) {
      const gaps = served.chunkSentAt.slice(1).map((t, i) => t - served.chunkSentAt[i]!);
      expect(Math.min(...gaps.slice(0, 2))).toBeGreaterThanOrEqual(19);
    }
  });
});

describe('the token server with a real model (the tiny decoder)', () => {
  it('generates deterministically from the prompt, streams what it generates, and counts the prompt and output tokens', async () => {
    const { loadTinyDecoder } = await import('../../../lib/model-server/tiny-decoder');
    const decoder = await loadTinyDecoder(1);
    try {
      const server = await serve({ decoder, maxSequences: 4 });
      const complete = async (content: string, stream: boolean) => {
        const response = await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], max_tokens: 6, stream, stream_options: { include_usage: true } }),
        });
        return response.text();
      };
      const answer = (text: string) => JSON.parse(text).choices[0].message.content as string;
      const first = JSON.parse(await complete('the quick brown fox', false));
      expect(first.usage).toEqual({ prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 });
      expect(first.choices[0].message.content).toMatch(/^(w\d+ ){6}$/);
      // The same prompt, alone or beside three others in one batch: the same words.
      const again = await Promise.all(['the quick brown fox', 'a', 'b c', 'd e f'].map((p) => complete(p, false)));
      expect(answer(again[0]!)).toBe(first.choices[0].message.content);
      expect(new Set(again.map(answer)).size).toBeGreaterThan(1);
      // Streamed: one token a chunk, the same words, and the usage chunk.
      const events = (await complete('the quick brown fox', true))
        .split('\n\n')
        .filter((e) => e.startsWith('data: {'))
        .map((e) => JSON.parse(e.slice(6)));
      const streamed = events.flatMap((e) => (e.choices[0]?.delta?.content ? [e.choices[0].delta.content] : [])).join('');
      expect(streamed).toBe(first.choices[0].message.content);
      expect(events.at(-1).usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 6 });
    } finally {
      await decoder.close();
    }
  });
});
