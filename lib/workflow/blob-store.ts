import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

import { ModelsweepError } from '../errors';
import { writeFileWhole } from '../util/write-whole';

/**
 * Where a sweep keeps files: staged specs and payloads, and reports. An S3 bucket in the cloud, a
 * folder on one machine; keys are `/`-separated paths either way.
 */
export interface BlobStore {
  put(key: string, body: string | Uint8Array, contentType?: string): Promise<void>;
  /** Throws {@link BlobNotFound} when there is nothing under `key`. */
  get(key: string): Promise<Buffer>;
  /** Where `key` is, for people: a path, or s3://bucket/key. */
  locate(key: string): string;
}

export class BlobNotFound extends ModelsweepError {
  constructor(where: string, options?: { cause?: unknown }) {
    super('not-found', `${where} does not exist`, options);
    this.name = 'BlobNotFound';
  }
}

/** A folder as a blob store. Writes go through a temporary file, so a reader never sees half a file. */
export function folderBlobStore(root: string): BlobStore {
  const base = resolve(root);
  const pathOf = (key: string) => {
    const path = resolve(base, ...key.split('/'));
    if (!path.startsWith(base + sep)) throw new ModelsweepError('invalid-input', `blob key ${JSON.stringify(key)} points outside ${base}`);
    return path;
  };
  return {
    async put(key, body) {
      const path = pathOf(key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileWhole(path, body);
    },
    async get(key) {
      try {
        return readFileSync(pathOf(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFound(pathOf(key), { cause: error });
        throw error;
      }
    },
    locate: (key) => pathOf(key),
  };
}
