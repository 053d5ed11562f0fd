import { create } from 'tar';

/**
 * Writes a `.tar.gz` of `entries` (paths relative to `cwd`) whose bytes depend only on the
 * files' contents: fixed mtimes and no owner metadata, so rebuilding an unchanged model gives the
 * same CDK asset hash and `cdk deploy` has nothing to upload.
 */
export async function writeDeterministicTarGz(file: string, cwd: string, entries: string[]): Promise<void> {
  await create({ file, cwd, gzip: { level: 9 }, portable: true, mtime: new Date(0), noDirRecurse: false }, [...entries].sort());
}
