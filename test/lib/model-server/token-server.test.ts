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
