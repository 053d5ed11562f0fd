import { type ErrorCode, ModelsweepError } from '../../lib/errors';

/** Exit codes of every modelsweep command. */
export const EXIT = { ok: 0, failed: 1, badInput: 2, interrupted: 130 } as const;

/** What each error code exits with; codes not listed exit {@link EXIT.failed}. */
const EXIT_BY_CODE: Partial<Record<ErrorCode, number>> = {
  'invalid-spec': EXIT.badInput,
  'invalid-input': EXIT.badInput,
  'invalid-prop': EXIT.badInput,
  setup: EXIT.badInput,
  'not-found': EXIT.badInput,
  interrupted: EXIT.interrupted,
};

/** The exit code for an error: its code's, or {@link EXIT.failed} for anything unexpected. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ModelsweepError) return EXIT_BY_CODE[error.code as ErrorCode] ?? EXIT.failed;
  return EXIT.failed;
}

/** An error the CLI reports as one line and an exit code, without a stack trace. */
export class CliError extends ModelsweepError {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT.badInput, options?: { cause?: unknown }) {
    super(exitCode === EXIT.interrupted ? 'interrupted' : 'invalid-input', message, options);
    this.exitCode = exitCode;
    this.name = 'CliError';
  }
}
