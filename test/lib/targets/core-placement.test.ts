import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

import { describe, expect, it } from 'vitest';

import { corePlacement, serverThreads, threadsProblem } from '../../../lib/targets/core-placement';
import { localAdapter } from '../../../lib/targets/local-target';
import { DEMO_MODEL_PATH } from '../../helpers/demo-model';

const allowedCores = (pid: number) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];

describe('where local model servers run', () => {
  it('keeps the first core for the generator and gives servers the rest, pinned where taskset exists', () => {
    expect(corePlacement('pinned', 8, true)).toEqual({ generator: [0], servers: [1, 2, 3, 4, 5, 6, 7], pinned: true });
    expect(corePlacement('pinned', 2, false)).toMatchObject({ generator: [0], servers: [1], pinned: false, why: expect.stringMatching(/taskset/) });
    expect(corePlacement('pinned', 1, true)).toMatchObject({ servers: [0], pinned: false, why: expect.stringMatching(/one core/) });
    expect(corePlacement('shared', 4, true)).toMatchObject({ generator: [0, 1, 2, 3], servers: [0, 1, 2, 3], pinned: false });
  });

  it('sizes threads: 0 from the cores a server gets, and refuses a candidate that wants more than the generator leaves', () => {
    const twoCores = corePlacement('pinned', 2, true);
    expect(serverThreads(0, twoCores)).toBe(1);
    expect(threadsProblem(1, twoCores)).toBeUndefined();
    expect(threadsProblem(2, twoCores)).toMatch(
      /^it asks for 2 inference threads, but this machine has 2 cores and the load generator keeps 1 to itself: at most 1/,
    );
    expect(threadsProblem(2, corePlacement('shared', 2, true))).toBeUndefined();
  });

  it.runIf(process.platform === 'linux' && availableParallelism() >= 2 && corePlacement('pinned').pinned)(
    'runs the server on its cores and the generator on its own while the server runs, then gives the generator its cores back',
    async () => {
      const placement = corePlacement('pinned');
      const before = allowedCores(process.pid);
      const adapter = localAdapter({ placement });
      const context = { sweepId: 's', baseDir: '/', timeoutMs: 5_000, createdAt: new Date(), expiresAt: new Date(), prices: {} as never };
      const candidate = { id: 'l', group: 0, kind: 'local', threads: 1, maxBatchSize: 1, costPerHour: 0.1, modelPath: DEMO_MODEL_PATH } as never;
      const deployment = await adapter.deploy(candidate, context);
      try {
        expect(allowedCores(deployment.process.pid!)).toBe(
          placement.servers.length === 1 ? String(placement.servers[0]) : `${placement.servers[0]}-${placement.servers.at(-1)}`,
        );
        expect(allowedCores(process.pid)).toBe('0');
        await expect(
          adapter.deploy({ ...(candidate as object), id: 'big', threads: placement.servers.length + 1 } as never, context),
        ).rejects.toMatchObject({
          status: 'unavailable',
          message: expect.stringMatching(/apart from the generator/),
        });
      } finally {
        await deployment.teardown();
      }
      expect(allowedCores(process.pid)).toBe(before);
    },
  );
});
