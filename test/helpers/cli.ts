import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { stringify } from 'yaml';

/** The repository's root, and the CLI a user runs (`npm run modelsweep` runs this launcher). */
export const ROOT = join(__dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'modelsweep.cjs');

/** Runs the CLI to its end in `cwd` (a minute at most), as a user would. */
export function runCli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd, timeout: 60_000, env });
}

/** Writes a sweep spec as YAML under `dir`, with a name of its own; returns its path. */
export function writeSpecFile(dir: string, spec: unknown): string {
  const file = join(dir, `spec-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(spec));
  return file;
}
