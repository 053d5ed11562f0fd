import type { TokenStream } from './invoker';

/**
 * How a streamed response's tokens are counted, for every streaming invoker (OpenAI-style server-
 * sent events, SageMaker and Lambda response streams):
 *
 * - Output tokens are the server's own count (`usage.completion_tokens`) when it sends one, else
 *   one per chunk that carried text. Servers such as vLLM and TGI send one token per chunk while
 *   they decode one at a time, so the approximation holds there; it undercounts a server that
 *   batches several tokens into a chunk, and the results say which count was used.
 * - Inter-token latency: one sample per gap between consecutive text chunks, the gap divided by
 *   the tokens a chunk carries on average (output tokens / chunks), so a server that sends four
 *   tokens every 40 ms reads 10 ms per token, as one that sends one every 10 ms does. The first
 *   chunk's wait is time to first token, not an inter-token gap.
 *
 * `chunkArrivals` are performance.now() times of the chunks that carried text, in order.
 */
export function tokenStreamOf(chunkArrivals: readonly number[], serverTokenCount?: number): TokenStream | undefined {
  if (chunkArrivals.length === 0) return undefined;
  const counted = serverTokenCount !== undefined && Number.isFinite(serverTokenCount) && serverTokenCount >= chunkArrivals.length;
  const outputTokens = counted ? serverTokenCount : chunkArrivals.length;
  const tokensPerChunk = outputTokens / chunkArrivals.length;
  const interTokenMs: number[] = [];
  for (let i = 1; i < chunkArrivals.length; i++) interTokenMs.push((chunkArrivals[i]! - chunkArrivals[i - 1]!) / tokensPerChunk);
  return { firstTokenAt: chunkArrivals[0]!, interTokenMs, outputTokens, tokensCountedBy: counted ? 'usage' : 'chunks' };
}
