#!/usr/bin/env node
/**
 * The modelsweep CLI. Exit codes: 0 success, 1 a sweep or run failed, 2 bad input, 130 interrupted.
 */
import { Command, CommanderError } from 'commander';

import { ModelsweepError } from '../lib/errors';
import packageJson from '../package.json';
import { applyCommand } from './commands/apply';
import { EXIT, exitCodeOf } from './commands/cli-error';
import { type CloudDependencies, defaultCloud } from './commands/cloud';
import { costCommand } from './commands/cost';
import { janitorCommand, type JanitorDependencies } from './commands/janitor';
import { loadCommand } from './commands/load';
import { storeCrash } from './commands/local-store';
import { pricesCommand } from './commands/prices';
import { historyCommand, reportCommand, resultsCommand } from './commands/results';
import { schemaCommand, validateCommand } from './commands/spec';
import { startCommand, statusCommand } from './commands/start';
import { sweepCommand } from './commands/sweep';
import { tokenServerCommand } from './commands/token-server';

/** The CLI; `dependencies` replace what commands talk to (tests). */
export function buildProgram(dependencies: { janitor?: JanitorDependencies; cloud?: CloudDependencies } = {}): Command {
  const cloud = dependencies.cloud ?? defaultCloud;
  const program = new Command('modelsweep')
    .description('Deploy ML models with AWS CDK and let measurements pick the cheapest configuration that meets a latency SLO')
    .version(packageJson.version)
    .option('--debug', 'on an error, print its stack trace and causes too (or set MODELSWEEP_DEBUG=1)')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');
  const commands = [
    sweepCommand(),
    startCommand(cloud),
    statusCommand(cloud),
    resultsCommand(cloud),
    reportCommand(cloud),
    applyCommand(cloud),
    historyCommand(cloud),
    janitorCommand(dependencies.janitor),
    loadCommand(),
    tokenServerCommand(),
    costCommand(),
    pricesCommand(),
    validateCommand(),
    schemaCommand(),
  ];
  for (const command of commands) {
    program.addCommand(command);
  }
  // Every command and subcommand: errors exit through main() (code 2), with a pointer to --help.
  const configure = (command: Command): void => {
    command.exitOverride().showHelpAfterError('(add --help for usage)');
    command.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

/** Whether `--debug` (anywhere on the command line) or MODELSWEEP_DEBUG=1 asked for stack traces. */
const debugWanted = (argv: readonly string[]) => argv.includes('--debug') || process.env.MODELSWEEP_DEBUG === '1';

/**
 * How any error reaches the user: one line, and for an error modelsweep did not expect, a hint
 * to report it. The stack and the chain of causes only with `--debug`.
 */
export function reportError(error: unknown, debug: boolean): number {
  if (error instanceof ModelsweepError) console.error(`modelsweep: ${error.message}`);
  else {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(`modelsweep: unexpected error: ${message.split('\n')[0]}`);
    console.error('This is a bug in modelsweep. Please report it with the command you ran and what `--debug` prints.');
  }
  if (debug) {
    for (let e: unknown = error; e !== undefined; e = e instanceof Error ? e.cause : undefined)
      console.error(e instanceof Error ? e.stack : String(e));
  } else if (!(error instanceof ModelsweepError)) console.error('(add --debug for the stack trace)');
  return exitCodeOf(error);
}

/** Runs the CLI (or, in tests, a program built with replaced dependencies) and returns the exit code. */
export async function main(argv: string[], program: Command = buildProgram()): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? EXIT.ok);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander has already printed its message for the rest.
      return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    return reportError(error, debugWanted(argv));
  }
}

/**
 * The CLI as a user runs it: `main`, and for an error thrown outside any command's promise (a
 * socket's late 'error', a callback in the embedded store) the same one-line report, never a
 * stack trace. Resolves when main does; the exit code is set on the process.
 */
export async function runCli(argv: string[]): Promise<void> {
  const crash = (error: unknown) => process.exit(reportError(storeCrash(error) ?? error, debugWanted(argv)));
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  process.exitCode = await main(argv);
}

if (require.main === module) void runCli(process.argv.slice(2));
