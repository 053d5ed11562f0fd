import { Command, Option } from 'commander';
import { z } from 'zod';

import { startTokenServer } from '../../lib/model-server/token-server';
import { CliError, EXIT } from './cli-error';
import { durationFlag, interruptible, numberFlag, parseFlags } from './flags';

const MAX_DELAY_MS = 60_000;
const delay = (flag: string) => durationFlag(flag, '50ms or 1s', MAX_DELAY_MS);

const tokenServerFlags = z.object({
  firstToken: delay('--first-token'),
  interToken: delay('--inter-token'),
  jitter: delay('--jitter'),
  tokensPerChunk: numberFlag('--tokens-per-chunk', { integer: true, min: 1, max: 1000 }),
  maxTokens: numberFlag('--max-tokens', { integer: true, min: 1, max: 100_000 }),
  usage: z.enum(['on-request', 'always', 'never']),
  maxSequences: numberFlag('--max-sequences', { integer: true, min: 1, max: 100_000 }).optional(),
  slowdownPerSequence: numberFlag('--slowdown-per-sequence', { min: 0, max: 10 }),
  seed: numberFlag('--seed', { integer: true, max: 2 ** 31 - 1 }),
  host: z.string().max(253),
  port: numberFlag('--port', { integer: true, max: 65_535 }),
});

/**
 * `modelsweep token-server`: an OpenAI-compatible streaming server with known token timing, to try
 * generative load tests and sweeps on one machine, and to check what they measure against the truth.
 */
export function tokenServerCommand(): Command {
  return new Command('token-server')
    .description(
      'Serve a synthetic OpenAI-compatible model (POST /v1/chat/completions and /v1/completions, streamed or not) whose token timing is known: to try generative load tests and check them against the truth',
    )
    .option('--first-token <d>', 'delay before the first token', '50ms')
    .option('--inter-token <d>', 'delay between chunks of tokens', '10ms')
    .option('--jitter <d>', 'each delay varies uniformly within ± this (seeded)', '0ms')
    .option('--tokens-per-chunk <n>', 'tokens in each streamed chunk', '1')
    .option('--max-tokens <n>', 'output tokens of a request that gives no max_tokens', '32')
    .addOption(
      new Option('--usage <when>', 'when a stream ends with the usage chunk (the token count): on-request, as OpenAI does, always or never')
        .choices(['on-request', 'always', 'never'])
        .default('on-request'),
    )
    .option('--max-sequences <n>', 'sequences decoded at once; more wait for a place before their first token (default: no limit)')
    .option(
      '--slowdown-per-sequence <f>',
      'each other sequence decoding at once lengthens a gap between tokens by this fraction, as continuous batching does',
      '0',
    )
    .option('--seed <n>', 'seeds the jitter', '7')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free one)', '8000')
    .addHelpText(
      'after',
      `
Examples:
  $ modelsweep token-server --first-token 200ms --inter-token 20ms --jitter 5ms
  $ modelsweep load --url http://127.0.0.1:8000/v1/chat/completions --api openai-chat --rate 5 --duration 30s \\
      --body '{"model":"m","messages":[{"role":"user","content":"Hi"}],"max_tokens":64}'`,
    )
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(tokenServerFlags, raw);
      const server = await startTokenServer({
        firstTokenMs: flags.firstToken,
        interTokenMs: flags.interToken,
        jitterMs: flags.jitter,
        tokensPerChunk: flags.tokensPerChunk,
        defaultMaxTokens: flags.maxTokens,
        usage: flags.usage,
        ...(flags.maxSequences !== undefined ? { maxSequences: flags.maxSequences } : {}),
        slowdownPerSequence: flags.slowdownPerSequence,
        seed: flags.seed,
        host: flags.host,
        port: flags.port,
      }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE' || error.code === 'EADDRNOTAVAIL' || error.code === 'EACCES') {
          throw new CliError(`cannot listen on ${flags.host}:${flags.port} (${error.code}): choose another --host or --port`, EXIT.badInput, {
            cause: error,
          });
        }
        throw error;
      });
      console.log(
        JSON.stringify({
          event: 'listening',
          url: server.url,
          firstTokenMs: flags.firstToken,
          interTokenMs: flags.interToken,
          jitterMs: flags.jitter,
        }),
      );
      // Serves until Ctrl-C, SIGTERM or SIGHUP.
      await interruptible((signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })));
      await server.close();
    });
}
