import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

import { ModelsweepError } from '../errors';

/**
 * A regular file's bytes, refused before reading when it is not a regular file (`/dev/zero`, a
 * FIFO, a directory) or is over `maxBytes`. It reads at most `maxBytes + 1` bytes whatever the
 * file claims, so a file that grows while read cannot exhaust memory either. Errors are
 * `invalid-input` ModelsweepErrors that start with `what` (a field or a flag).
 */
export function readBoundedFile(path: string, maxBytes: number, what: string): Buffer {
  let fd: number;
  try {
    // Non-blocking, so that opening a FIFO with no writer does not hang; it is refused below.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const message = reason(error) === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path} (${reason(error)})`;
    throw new ModelsweepError('invalid-input', `${what}: ${message}`, { cause: error });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ModelsweepError('invalid-input', `${what}: ${path} is not a regular file (${kindOf(stat)})`);
    if (stat.size > maxBytes) {
      throw new ModelsweepError('invalid-input', `${what}: ${path} is ${formatBytes(stat.size)}, more than the ${formatBytes(maxBytes)} allowed`);
    }
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read) {
      read = readSync(fd, buffer, length, buffer.length - length, null);
    }
    if (length > maxBytes)
      throw new ModelsweepError('invalid-input', `${what}: ${path} grew past the ${formatBytes(maxBytes)} allowed while it was read`);
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof ModelsweepError) throw error;
    throw new ModelsweepError('invalid-input', `${what}: cannot read ${path} (${reason(error)})`, { cause: error });
  } finally {
    closeSync(fd);
  }
}

function reason(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isFIFO()) return 'a pipe';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}

/** A size in bytes as people read it: `6 MiB`, `512 KiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
