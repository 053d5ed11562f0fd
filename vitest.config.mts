import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

/**
 * Tests whose assertions read what real requests on 127.0.0.1 measured (the load generator, sweeps'
 * verdicts, the CLI running them, the adapters' load phases): one file at a time, and never beside
 * each other. Tests that run a sweep only to stop it, or that hold the store, are untimed.
 */
const TIMED = [
  'test/bin/{generative-sweep,load-command,sweep-command}.test.ts',
  'test/lib/load/**/*.test.ts',
  'test/lib/local/{known-capacity-sweep,known-quality-sweep,known-offline-sweep,run-sweep}.test.ts',
  'test/lib/model-server/**/*.test.ts',
  'test/lib/targets/**/*.test.ts',
];

/** `npm run test:package`, beside `npm test` in CI (.ci/run). */
const PACKAGE = 'test/package/**/*.test.ts';

export default defineConfig({
  // As tsconfig.json's paths: the construct library's import name is its sources here.
  resolve: { alias: { 'modelsweep-constructs': fileURLToPath(new URL('./constructs/index.ts', import.meta.url)) } },
  test: {
    setupFiles: ['test/setup.ts'],
    // One temporary folder for the whole run, removed at its end (see the file).
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // Files run one at a time within a project: a second worker synthesizing stacks on the other
    // core would make the timed tests' sends late. `npm test` runs the two projects side by side
    // (scripts/test.sh): the timed ones beside synths, packing and static checks, whose own
    // results do not depend on time; the timed tests' assertions hold on a busy machine.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'timed', include: TIMED } },
      { extends: true, test: { name: 'untimed', include: ['test/**/*.test.ts'], exclude: [...TIMED, PACKAGE] } },
      // The packages packed and installed into fresh projects as users install them: minutes of npm.
      { extends: true, test: { name: 'package', include: [PACKAGE] } },
    ],
  },
});
