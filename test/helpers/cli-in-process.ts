import { vi } from 'vitest';

import { main } from '../../bin/modelsweep';

/**
 * Runs the CLI's main in this process, as a user's command line would, within `timeLimitMs`:
 * its exit code and what it printed. Seconds faster than a new process per command; tests that
 * are about the process itself (signals, exit codes seen by a shell) spawn it instead.
 */
export async function runCliInProcess(args: readonly string[], timeLimitMs = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const toStderr = (chunk: unknown) => {
    stderr += String(chunk);
    return true;
  };
  const toStdout = (chunk: unknown) => {
    stdout += String(chunk);
    return true;
  };
  const spies = [
    vi.spyOn(process.stderr, 'write').mockImplementation(toStderr),
    vi.spyOn(process.stdout, 'write').mockImplementation(toStdout),
    vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => toStderr(`${parts.join(' ')}\n`)),
    vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => toStdout(`${parts.join(' ')}\n`)),
  ];
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = await Promise.race([
      main([...args]),
      new Promise<number>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`did not finish within ${timeLimitMs / 1000} s`)), timeLimitMs);
      }),
    ]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    spies.forEach((s) => s.mockRestore());
    process.exitCode = undefined;
  }
}
