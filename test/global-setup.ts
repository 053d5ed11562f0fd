/**
 * Runs once around the whole suite, in vitest's main process: every temporary file a test, the
 * code under test or a process it starts makes goes under one folder (TMPDIR, which the workers and
 * their children inherit), removed at the end, so the suite leaves nothing in /tmp.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'modelsweep-tests-'));
  process.env.TMPDIR = dir;
  // An App without outdir would make a folder per synth.
  process.env.CDK_OUTDIR = join(dir, 'cdk.out');
  return () => rmSync(dir, { recursive: true, force: true });
}
