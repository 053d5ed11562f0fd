import { renameSync, writeFileSync } from 'node:fs';

/**
 * Writes a file whole: beside it first, then renamed over it, so a reader (or a crash) never
 * meets half of it. The temporary name carries the pid, so two processes never share one.
 */
export function writeFileWhole(path: string, body: string | NodeJS.ArrayBufferView): void {
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, body);
  renameSync(partial, path);
}
