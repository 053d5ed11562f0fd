/** The generated references in docs/reference/ are what `npm run docs` makes from the code today. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { REFERENCES } from '../scripts/generate-docs';

describe('generated docs', () => {
  for (const [name, generate] of Object.entries(REFERENCES)) {
    it(`docs/reference/${name} is current (else: npm run docs)`, () => {
      const committed = readFileSync(join(__dirname, '..', 'docs', 'reference', name), 'utf8');
      expect(committed === generate(), `docs/reference/${name} is stale: run npm run docs and commit it`).toBe(true);
    }, 120_000);
  }
});
