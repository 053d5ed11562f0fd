/**
 * Every benchmark figure the docs show has its evidence committed: each `npm run bench:<name>`
 * that README.md or a page under docs/ cites has bench/results/<name>.json, written by that
 * benchmark (bench/write-result.cjs), with its command, date, machine and Node version.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..');
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md') && !f.startsWith('reference'))
    .map((f) => `docs/${f}`),
];

const cited = (pattern: RegExp) => [
  ...new Set(PAGES.flatMap((page) => [...readFileSync(join(ROOT, page), 'utf8').matchAll(pattern)].map((m) => `${page}: ${m[1]}`))),
];

/** Files git tracks under bench/results (an ignored results file is not evidence). */
const tracked = new Set(execFileSync('git', ['ls-files', 'bench/results'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean));

describe('benchmark figures and their evidence', () => {
  const benches = cited(/npm run bench:([a-z-]+)/g);

  it('the docs cite benchmarks', () => {
    expect(benches.length).toBeGreaterThan(0);
  });

  for (const entry of benches) {
    const name = entry.split(': ')[1]!;
    it(`${entry}: bench/results/${name}.json is committed, with its command, date, machine and Node`, () => {
      const file = `bench/results/${name}.json`;
      expect(tracked.has(file), `${file} is not committed`).toBe(true);
      const record = JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as Record<string, unknown>;
      expect(record).toMatchObject({
        command: expect.stringMatching(new RegExp(`^npm run bench:${name}\\b`)),
        date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        machine: { cpu: expect.any(String), cores: expect.any(Number) },
        node: expect.stringMatching(/^v\d+\./),
        results: expect.anything(),
      });
    });
  }

  it('every results file the docs name exists', () => {
    const missing = cited(/(bench\/results\/[a-z0-9-]+\.json)/g).filter((entry) => !existsSync(join(ROOT, entry.split(': ')[1]!)));
    expect(missing).toEqual([]);
  });
});
