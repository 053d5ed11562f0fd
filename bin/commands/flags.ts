import { constants } from 'node:os';

import { z } from 'zod';

import { formatDurationMs } from '../../lib/format/format';
import { DURATION_PATTERN, parseDurationMs } from '../../lib/spec/duration';
import { CliError } from './cli-error';

/**
 * A numeric flag, coerced from its text and bounded (Infinity, 1e400 and a typo all fail), whose
 * error names it and its range: `--rate must be a number above 0 and at most 100,000`.
 */
export function numberFlag(
  flag: string,
  { integer = false, min = 0, exclusive = false, max }: { integer?: boolean; min?: number; exclusive?: boolean; max: number },
) {
  const range = `${integer ? 'a whole number' : 'a number'} ${exclusive ? `above ${min}` : `of at least ${min}`} and at most ${max.toLocaleString('en-US')}`;
  return z.coerce
    .number({ error: `${flag} must be ${range}` })
    .refine((n) => (integer ? Number.isInteger(n) : Number.isFinite(n)) && (exclusive ? n > min : n >= min) && n <= max, `${flag} must be ${range}`);
}

/** A duration flag (`90s`, `2h`) of at most `maxMs`, in milliseconds, whose error names it. */
export const durationFlag = (flag: string, examples: string, maxMs: number) =>
  z
    .string()
    .regex(DURATION_PATTERN, `${flag} must be a duration such as ${examples}`)
    .transform(parseDurationMs)
    .refine((ms) => ms <= maxMs, `${flag} must be at most ${formatDurationMs(maxMs)}`);

/** `--poll-interval`: a duration from 1s to 1h. */
export const pollIntervalFlag = (examples: string) =>
  durationFlag('--poll-interval', examples, 3_600_000).refine((ms) => ms >= 1000, '--poll-interval must be at least 1s');

/** `--concurrency`: candidates measured at once, 1 to 40 (Step Functions' Map limit we keep to). */
export const concurrencyFlag = () => numberFlag('--concurrency', { integer: true, min: 1, max: 40 });

/** A command's flags through their schema; every problem in one error, exit code 2. */
export function parseFlags<T extends z.ZodType>(schema: T, raw: unknown): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new CliError(parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

/** A status line on stderr, rewritten in place; on anything but a terminal it prints nothing. */
export const statusLine = {
  isTerminal: () => process.stderr.isTTY === true,
  show(text: string): void {
    if (this.isTerminal()) process.stderr.write(`\r\u001b[2K${text}`);
  },
  clear(): void {
    if (this.isTerminal()) process.stderr.write('\r\u001b[2K');
  },
};

/** The signals that stop a command cleanly: Ctrl-C, a `kill`, a closed terminal. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Turns Ctrl-C, SIGTERM and SIGHUP into an abort signal while `run` runs, so the work stops
 * cleanly (what was measured is recorded, what was deployed torn down) instead of dying. A second
 * signal exits at once, with the shell's code for it; local model servers die with the process
 * whatever happens (see startModelServer).
 */
export async function interruptible<T>(run: (signal: AbortSignal) => Promise<T>, onInterrupt?: (signal: NodeJS.Signals) => void): Promise<T> {
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      console.error(`\n${signal} again: exiting now`);
      process.exit(128 + constants.signals[signal]);
    }
    onInterrupt?.(signal);
    abort.abort();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    return await run(abort.signal);
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}
