import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  // As tsconfig.json's paths: the construct library's import name is its sources here.
  resolve: { alias: { 'modelsweep-constructs': fileURLToPath(new URL('./constructs/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // One temporary folder for the whole run, removed at its end (see the file).
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // Files run one at a time: the load-generator tests time real requests on 127.0.0.1, and a
    // second worker synthesizing stacks on the other core would make their sends late.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
