import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceUsage } from 'node:process';

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';

import { reportError } from '../../bin/modelsweep';
import { seededRandom } from '../../lib/util/seeded-random';
import { ROOT } from '../helpers/cli';
import { runCliInProcess } from '../helpers/cli-in-process';
import { DEMO_MODEL_PATH } from '../helpers/demo-model';

interface HostileCase {
  readonly name: string;
  readonly spec?: { readonly set?: Record<string, unknown>; readonly text?: string; readonly make?: string };
  readonly args?: readonly string[];
  /** What stderr must say: names the field and what is wrong. */
  readonly error: string;
  /** @default 2 */
  readonly exit?: number;
}

const CASES = parse(readFileSync(join(ROOT, 'test', 'fixtures', 'hostile-inputs.yaml'), 'utf8')) as HostileCase[];
/** Each case must end within this, and grow the process's peak memory by no more than that. */
const TIME_LIMIT_MS = 20_000;
const MEMORY_LIMIT_MB = 256;

const root = mkdtempSync(join(tmpdir(), 'hostile-'));
const shared = {
  payload: join(ROOT, 'examples', 'demo-model', 'payloads', 'batch-1.json'),
  text: join(root, 'plain.txt'),
  big: join(root, 'big.bin'),
  fifo: join(root, 'pipe'),
  typo: join(root, 'typo-prices.json'),
  dataset: join(root, 'labelled.jsonl'),
  empty: join(root, 'empty.jsonl'),
  digits: '9'.repeat(400),
};
beforeAll(() => {
  writeFileSync(shared.text, 'not json at all\n');
  writeFileSync(shared.big, '');
  truncateSync(shared.big, 2 * 1024 ** 3); // sparse: 2 GiB that take no disk
  execFileSync('mkfifo', [shared.fifo]);
  writeFileSync(shared.typo, JSON.stringify({ lambda: { 'us-east-1': { requestsPerMilion: 1 } } }));
  writeFileSync(shared.dataset, '{"input": {"x": 1}, "expected": 1}\n');
  writeFileSync(shared.empty, '');
});

/** A valid spec: each case breaks one thing in it. */
const baseSpec = () => ({
  name: 'hostile',
  model: { name: 'hostile', path: DEMO_MODEL_PATH },
  payloads: [{ file: shared.payload }],
  candidates: [{ kind: 'http', name: 'ep', url: 'http://127.0.0.1:9/', costPerHour: 0.1 }],
  load: { phases: [{ mode: 'open', rate: 10, duration: '1s' }] },
  slo: { percentile: 95, latencyMs: 50 },
  traffic: { averageRps: 5, peakRps: 10 },
});

/** Sets (or with null removes) the field at a path such as `load.phases[0].duration`. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== '');
  let node: any = target;
  for (const key of keys.slice(0, -1)) node = node[key];
  const last = keys.at(-1)!;
  if (value === null) delete node[last];
  else node[last] = value;
}

function fill<T>(value: T, dir: string, spec: string): T {
  if (typeof value === 'string') {
    return value.replace(/\{(\w+)\}/g, (whole, name: string) =>
      name === 'dir' ? dir : name === 'spec' ? spec : ((shared as Record<string, string>)[name] ?? whole),
    ) as T;
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, dir, spec)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, dir, spec)])) as T;
  return value;
}

/** Spec files too big or too odd to keep in the corpus. */
const MADE: Record<string, () => string | Buffer> = {
  'list-201': () =>
    stringify({ ...baseSpec(), candidates: [{ kind: 'lambda', functionName: 'f', memorySizesMb: Array.from({ length: 201 }, (_, i) => 128 + i) }] }),
  'grid-300': () =>
    stringify({
      ...baseSpec(),
      candidates: [
        { kind: 'lambda', functionName: 'f', memorySizesMb: Array.from({ length: 150 }, (_, i) => 128 + i), architectures: ['arm64', 'x86_64'] },
      ],
    }),
  'alias-bomb': () => {
    let text = 'a: &a [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 12; i++) {
      const [name, previous] = [String.fromCharCode(97 + i), String.fromCharCode(96 + i)];
      text += `${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]\n`;
    }
    return text;
  },
  'deep-brackets': () => `name: hostile\nextra: ${'['.repeat(200_000)}${']'.repeat(200_000)}\n`,
  'deep-maps': () => `name: hostile\n${Array.from({ length: 40 }, (_, i) => `${'  '.repeat(i)}a:`).join('\n')} 1\n`,
  binary: () => {
    const random = seededRandom(7);
    return Buffer.from(Array.from({ length: 4096 }, () => Math.floor(random() * 256)));
  },
  huge: () => `${stringify(baseSpec())}#${'x'.repeat(2 * 1024 * 1024)}\n`,
};

/** Runs the CLI's main in this process, as a user's command line would; what it printed, its exit code, and its cost. */
async function run(args: readonly string[]): Promise<{ code: number; stderr: string; ms: number; peakGrowthMb: number }> {
  const peakBefore = resourceUsage().maxRSS;
  const started = performance.now();
  const { code, stderr } = await runCliInProcess(args, TIME_LIMIT_MS);
  return { code, stderr, ms: performance.now() - started, peakGrowthMb: (resourceUsage().maxRSS - peakBefore) / 1024 };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('hostile input', () => {
  it(`has at least 80 cases`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(80);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s: a clear error naming the field, nothing created, bounded', async (_name, c) => {
    const dir = join(root, c.name.replace(/[^\w-]+/g, '-'));
    mkdirSync(dir);
    const specFile = join(dir, 'spec.yaml');
    const spec = c.spec;
    if (spec?.set) {
      const built = baseSpec() as Record<string, unknown>;
      for (const [path, value] of Object.entries(spec.set)) setPath(built, path, fill(value, dir, specFile));
      writeFileSync(specFile, stringify(built));
    } else if (spec?.text !== undefined) writeFileSync(specFile, spec.text);
    else if (spec?.make) writeFileSync(specFile, MADE[spec.make]!());
    else writeFileSync(specFile, stringify(baseSpec()));
    const commands = c.args
      ? [fill(c.args, dir, specFile)]
      : [
          ['validate', specFile],
          ['sweep', specFile, '--local', '--store-dir', join(dir, 'store')],
        ];
    const before = readdirSync(dir).sort();
    for (const args of commands) {
      const result = await run(args);
      expect({ args, code: result.code }).toEqual({ args, code: c.exit ?? 2 });
      expect(result.stderr).toMatch(new RegExp(c.error));
      // One message, never a stack trace.
      expect(result.stderr).not.toMatch(/\n\s+at .*[(/]/);
      expect(result.peakGrowthMb).toBeLessThan(MEMORY_LIMIT_MB);
    }
    // Nothing created: no store, no report, no file beside the inputs.
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(existsSync(join(dir, 'store'))).toBe(false);
  });
});

describe('an error modelsweep did not expect', () => {
  const reported = (error: unknown, debug: boolean) => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
    try {
      return { code: reportError(error, debug), text: lines.join('\n') };
    } finally {
      spy.mockRestore();
    }
  };

  it('is one line with a hint to report it, exit 1, and no stack trace', () => {
    const { code, text } = reported(new TypeError("Cannot read properties of undefined (reading 'x')"), false);
    expect(code).toBe(1);
    expect(text).toBe(
      [
        "modelsweep: unexpected error: TypeError: Cannot read properties of undefined (reading 'x')",
        'This is a bug in modelsweep. Please report it with the command you ran and what `--debug` prints.',
        '(add --debug for the stack trace)',
      ].join('\n'),
    );
  });

  it('with --debug, comes with its stack and the stacks of its causes', () => {
    const { text } = reported(new Error('outer', { cause: new RangeError('inner') }), true);
    expect(text).toMatch(/^modelsweep: unexpected error: Error: outer\n/);
    expect(text).toMatch(/Error: outer\n\s+at /);
    expect(text).toMatch(/RangeError: inner\n\s+at /);
  });
});
