/** Exit codes of every modelsweep command. */
export const EXIT = { ok: 0, failed: 1, badInput: 2, interrupted: 130 } as const;

/** An error the CLI reports as one line and an exit code, without a stack trace. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.badInput) {
    super(message);
    this.name = 'CliError';
  }
}
