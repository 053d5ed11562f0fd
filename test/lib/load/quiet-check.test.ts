import { spawn } from 'node:child_process';
import { once } from 'node:events';

import { afterEach, describe, expect, it } from 'vitest';

import type { BusyProcess } from '../../../lib/load/busy-processes';
import { DEFAULT_QUIET_WAIT_MS, quietWaitFromEnv, waitForQuiet } from '../../../lib/load/quiet-check';

const children: Array<ReturnType<typeof spawn>> = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A CPU hog that stops by itself after `ms`, or runs until killed. */
function hog(ms?: number) {
  const script = ms === undefined ? 'for (;;) {}' : `const end = Date.now() + ${ms}; while (Date.now() < end) {}`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  children.push(child);
  return child;
}

describe.runIf(process.platform === 'linux')('the quiet check before a local phase', () => {
  it('names a busy process by pid and command when the wait runs out', async () => {
    const busy = hog();
    const still = await waitForQuiet({ targetPids: [], maxWaitMs: 1_500 });
    expect(still).toContainEqual(expect.objectContaining({ pid: busy.pid, command: expect.stringContaining('-e for (;;) {}') }));
    expect(still.find((p) => p.pid === busy.pid)!.cores).toBeGreaterThan(0.3);
  });

  it('waits for a transient hog, saying whom it waits for, and goes on once it has ended', async () => {
    const transient = hog(2_500);
    const exited = once(transient, 'exit');
    const waitedFor: BusyProcess[][] = [];
    // Beside `npm test`'s other lane the machine may stay busy after the hog: then the wait runs out, naming others.
    const still = await waitForQuiet({ targetPids: [], maxWaitMs: 8_000, onWait: (busy) => waitedFor.push([...busy]) });
    expect(waitedFor[0]!.map((p) => p.pid)).toContain(transient.pid);
    expect(transient.exitCode).toBe(0);
    await exited;
    expect(still.map((p) => p.pid)).not.toContain(transient.pid);
  });

  it('takes its longest wait from MODELSWEEP_QUIET_WAIT in seconds, and refuses anything else by name', () => {
    expect(quietWaitFromEnv({})).toBe(DEFAULT_QUIET_WAIT_MS);
    expect(quietWaitFromEnv({ MODELSWEEP_QUIET_WAIT: '0' })).toBe(0);
    expect(quietWaitFromEnv({ MODELSWEEP_QUIET_WAIT: '2.5' })).toBe(2_500);
    expect(() => quietWaitFromEnv({ MODELSWEEP_QUIET_WAIT: 'soon' })).toThrow(
      /MODELSWEEP_QUIET_WAIT must be a number of seconds from 0 to 3600, not "soon"/,
    );
    expect(() => quietWaitFromEnv({ MODELSWEEP_QUIET_WAIT: '-1' })).toThrow(/MODELSWEEP_QUIET_WAIT/);
  });
});
