import { Command, Option } from 'commander';
import { z } from 'zod';

import { errorKinds } from '../../lib/format/format';
import { httpInvoker } from '../../lib/load/http-invoker';
import type { Payload } from '../../lib/load/invoker';
import { formatLoadTable } from '../../lib/load/load-table';
import { openAiStreamInvoker, type OpenAiStreamInvokerOptions } from '../../lib/load/openai-stream-invoker';
import type { PhasePlan, PhaseProgress } from '../../lib/load/phase';
import { runLoad } from '../../lib/load/run-load';
import { OPENAI_APIS, type OpenAiApi, openAiBodyProblem } from '../../lib/load/streaming-apis';
import { contentTypeProblem, headerProblem, isJsonContentType, jsonProblem } from '../../lib/spec/http-fields';
import { LIMITS } from '../../lib/spec/limits';
import { formatBytes, readBoundedFile } from '../../lib/util/bounded-file';
import { CliError, EXIT } from './cli-error';
import { durationFlag, interruptible, numberFlag, parseFlags, statusLine } from './flags';

const duration = (flag: string, maxMs: number) => durationFlag(flag, '30s or 2m', maxMs);
const header = z.string().superRefine((text, ctx) => {
  const colon = text.indexOf(':');
  const problem = colon < 1 ? 'must look like "Name: value"' : headerProblem(text.slice(0, colon).trim(), text.slice(colon + 1).trim());
  if (problem) ctx.addIssue({ code: 'custom', message: `--header ${JSON.stringify(text.slice(0, 60))}: ${problem}` });
});

const loadFlags = z
  .object({
    url: z
      .string()
      .max(8192, '--url is at most 8192 characters')
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), '--url must be an http:// or https:// URL'),
    rate: numberFlag('--rate', { exclusive: true, max: LIMITS.rateRps }).optional(),
    concurrency: numberFlag('--concurrency', { integer: true, min: 1, max: LIMITS.concurrency }).optional(),
    duration: duration('--duration', LIMITS.phaseMs).refine((ms) => ms > 0, '--duration must be above 0'),
    warmup: duration('--warmup', LIMITS.phaseMs),
    arrivals: z.enum(['poisson', 'constant']),
    bodyFile: z.string().optional(),
    body: z
      .string()
      .refine(
        (b) => Buffer.byteLength(b) <= LIMITS.payloadBytes,
        `--body is at most ${formatBytes(LIMITS.payloadBytes)}; larger bodies go in --body-file`,
      )
      .optional(),
    contentType: z.string().superRefine((type, ctx) => {
      const problem = contentTypeProblem(type);
      if (problem) ctx.addIssue({ code: 'custom', message: `--content-type ${JSON.stringify(type.slice(0, 60))} ${problem}` });
    }),
    method: z.enum(['GET', 'POST', 'PUT']),
    header: z.array(header).max(LIMITS.headers, `at most ${LIMITS.headers} --header flags`).default([]),
    connections: numberFlag('--connections', { integer: true, min: 1, max: LIMITS.concurrency }).optional(),
    timeout: duration('--timeout', LIMITS.requestTimeoutMs).refine((ms) => ms > 0, '--timeout must be above 0'),
    seed: numberFlag('--seed', { integer: true, max: 2 ** 31 - 1 }),
    api: z.enum(['http', ...OPENAI_APIS]),
    firstTokenTimeout: duration('--first-token-timeout', LIMITS.requestTimeoutMs)
      .refine((ms) => ms > 0, '--first-token-timeout must be above 0')
      .optional(),
    json: z.boolean().default(false),
    quiet: z.boolean().default(false),
  })
  .refine((f) => (f.rate === undefined) !== (f.concurrency === undefined), {
    message: 'give exactly one of --rate (open loop) and --concurrency (closed loop)',
  })
  .refine((f) => !(f.body !== undefined && f.bodyFile !== undefined), { message: 'give at most one of --body and --body-file' })
  .refine((f) => f.api === 'http' || (f.method === 'POST' && isJsonContentType(f.contentType)), {
    message: '--api openai-chat and openai-completions POST a JSON request body: leave --method and --content-type at their defaults',
  })
  .refine((f) => f.api !== 'http' || f.firstTokenTimeout === undefined, {
    message: '--first-token-timeout needs a streaming --api (openai-chat or openai-completions)',
  })
  .refine((f) => !(f.connections !== undefined && f.concurrency !== undefined && f.connections < f.concurrency), {
    message: '--connections below --concurrency would queue requests inside the load generator; leave --connections out or raise it',
  });

export function loadCommand(): Command {
  return new Command('load')
    .description('Load-test any HTTP endpoint, open-loop (a request rate, latency from the intended send time) or closed-loop (a fixed concurrency)')
    .requiredOption('--url <url>', 'the endpoint to load')
    .option('--rate <rps>', 'open loop: requests per second')
    .option('--concurrency <n>', 'closed loop: requests in flight')
    .requiredOption('--duration <d>', 'measured time, e.g. 30s or 2m')
    .option('--warmup <d>', 'unmeasured time first, at the same load', '0s')
    .addOption(new Option('--arrivals <kind>', 'open loop: gaps between sends').choices(['poisson', 'constant']).default('poisson'))
    .option('--body-file <file>', 'send the contents of a file')
    .option('--body <text>', 'send this text')
    .option('--content-type <type>', 'the Content-Type header', 'application/json')
    .addOption(new Option('--method <method>', 'HTTP method').choices(['GET', 'POST', 'PUT']).default('POST'))
    .option('--header <header...>', 'extra headers, "Name: value"')
    .option('--connections <n>', 'keep-alive connections (default: the concurrency, or 64 for a rate)')
    .option('--timeout <d>', 'a request unanswered by then counts as a timeout', '30s')
    .addOption(
      new Option('--api <api>', 'http: time whole responses; openai-chat / openai-completions: stream the response (SSE) and time its tokens')
        .choices(['http', ...OPENAI_APIS])
        .default('http'),
    )
    .option('--first-token-timeout <d>', 'streaming: a request with no token by then counts as a timeout (default: --timeout)')
    .option('--seed <n>', 'seeds the Poisson schedule', '1')
    .option('--json', 'print the result as JSON (with the HDR histogram of each phase)')
    .option('--quiet', 'no progress line')
    .addHelpText(
      'after',
      `
Examples:
  $ modelsweep load --url http://127.0.0.1:8080/invocations --rate 200 --duration 30s \\
      --body-file examples/demo-model/payloads/batch-1.json
  $ modelsweep load --url http://127.0.0.1:8080/invocations --concurrency 8 --duration 1m --warmup 10s --json
  $ modelsweep load --url http://127.0.0.1:8000/v1/chat/completions --api openai-chat --rate 2 --duration 1m \
      --body '{"model":"m","messages":[{"role":"user","content":"Hello"}],"max_tokens":128}'`,
    )
    .action(async (raw: Record<string, unknown>) => {
      await runLoadCommand(parseFlags(loadFlags, raw));
    });
}

async function runLoadCommand(flags: z.infer<typeof loadFlags>): Promise<void> {
  const body = flags.bodyFile !== undefined ? readBodyFile(flags.bodyFile, flags.contentType) : (flags.body ?? '');
  const phase = (name: string, durationMs: number): PhasePlan =>
    flags.rate !== undefined
      ? { name, mode: 'open', rate: flags.rate, arrivals: flags.arrivals, durationMs }
      : { name, mode: 'closed', concurrency: flags.concurrency!, durationMs };
  const headers = Object.fromEntries(flags.header.map((h) => [h.slice(0, h.indexOf(':')).trim(), h.slice(h.indexOf(':') + 1).trim()]));
  const payload = { body, contentType: flags.contentType, name: flags.bodyFile ?? '--body' };
  const invoker =
    flags.api === 'http'
      ? httpInvoker({
          url: flags.url,
          connections: flags.connections ?? flags.concurrency ?? 64,
          timeoutMs: flags.timeout,
          method: flags.method,
          headers,
        })
      : streamingInvoker(flags.api, payload, { url: flags.url, headers, timeoutMs: flags.timeout, firstTokenTimeoutMs: flags.firstTokenTimeout });
  const progress = progressPrinter(flags.quiet);
  try {
    await interruptible(async (signal) => {
      const result = await runLoad(
        invoker,
        {
          ...(flags.warmup > 0 ? { warmup: phase('warmup', flags.warmup) } : {}),
          phases: [phase('measured', flags.duration)],
          payloads: [payload],
          seed: flags.seed,
        },
        { onProgress: progress.update, signal },
      );
      progress.done();
      console.log(flags.json ? JSON.stringify(result, null, 2) : formatLoadTable(result));
      const measured = result.phases.at(-1);
      if (signal.aborted) process.exitCode = EXIT.interrupted;
      else if (measured && measured.successes === 0) {
        // No latency was measured: percentiles of nothing would read as 0 ms.
        console.error(`modelsweep: no request succeeded${measured.requests > 0 ? ` (${errorKinds(measured.errors)})` : ''}; nothing was measured`);
        process.exitCode = EXIT.failed;
      }
    });
  } finally {
    await invoker.close();
  }
}

/** The streaming invoker, once the body is known to be an OpenAI request (a JSON object). */
function streamingInvoker(api: OpenAiApi, payload: Payload, options: Omit<OpenAiStreamInvokerOptions, 'api'>) {
  const problem = openAiBodyProblem(payload.body);
  if (problem) throw new CliError(`--api ${api}: payload ${payload.name} ${problem}`);
  return openAiStreamInvoker({ ...options, api });
}

function readBodyFile(path: string, contentType: string): Buffer {
  const body = readBoundedFile(path, LIMITS.payloadBytes, '--body-file');
  const notJson = isJsonContentType(contentType) ? jsonProblem(body) : undefined;
  if (notJson) throw new CliError(`--body-file: ${path} is not JSON, yet --content-type is ${contentType} (${notJson})`);
  return body;
}

/** One progress line on stderr: rewritten in place on a terminal, every few seconds otherwise. */
function progressPrinter(quiet: boolean) {
  let lastLine = 0;
  return {
    update: (p: PhaseProgress) => {
      if (quiet) return;
      const text = `${p.phase}: ${(p.elapsedMs / 1000).toFixed(1)}s / ${(p.plannedMs / 1000).toFixed(0)}s  sent ${p.sent}  done ${p.completed}  errors ${p.errors}  p99 ${p.p99Ms.toFixed(1)} ms`;
      if (statusLine.isTerminal()) statusLine.show(text);
      else if (Date.now() - lastLine >= 5000) {
        lastLine = Date.now();
        process.stderr.write(`${text}\n`);
      }
    },
    done: () => {
      if (!quiet) statusLine.clear();
    },
  };
}
