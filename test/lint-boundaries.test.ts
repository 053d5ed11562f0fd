import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

/** Lints a file written into the tree for the test (the type-aware rules need it in the project), then removes it. */
async function lintProbe(relativePath: string, text: string): Promise<string[]> {
  const path = join(root, relativePath);
  writeFileSync(path, text);
  try {
    const [result] = await new ESLint({ cwd: root }).lintFiles([path]);
    return result!.messages.map((m) => `${m.ruleId}: line ${m.line}: ${m.message}`);
  } finally {
    rmSync(path, { force: true });
  }
}

describe('lint keeps the folder boundaries', () => {
  it('lib/ may not import the CDK, the constructs, the CLI or the Lambda entry points', async () => {
    const messages = await lintProbe(
      'lib/boundary-probe.ts',
      [
        "import { App } from 'aws-cdk-lib';",
        "import { Queue } from 'aws-cdk-lib/aws-sqs';",
        "import { Construct } from 'constructs';",
        "import { buildProgram } from '../bin/modelsweep';",
        "import { LambdaModelFunction } from '../constructs';",
        "import { validate } from '../functions/sweep/index';",
        '',
        'export const probe = [App, Queue, Construct, LambdaModelFunction, buildProgram, validate];',
        '',
      ].join('\n'),
    );
    const restricted = messages.filter((m) => m.startsWith('no-restricted-imports'));
    // every one of the six imports, and nothing else
    expect(new Set(restricted.map((m) => Number(/line (\d+)/.exec(m)![1])))).toEqual(new Set([1, 2, 3, 4, 5, 6]));
    expect(messages.filter((m) => !m.startsWith('no-restricted-imports') && !m.startsWith('simple-import-sort'))).toEqual([]);
    expect(restricted.join('\n')).toMatch(/lib\/ has no CDK import/);
    expect(restricted.join('\n')).toMatch(/lib\/ may not import the constructs/);
    expect(restricted.join('\n')).toMatch(/\(bin\/\)/);
    expect(restricted.join('\n')).toMatch(/\(functions\/\)/);
  }, 60_000);

  it('a promise left floating is an error anywhere', async () => {
    const messages = await lintProbe('scripts/floating-probe.ts', 'async function work(): Promise<void> {}\n\nwork();\n');
    expect(messages).toEqual([expect.stringMatching(/^@typescript-eslint\/no-floating-promises: line 3:/)]);
  }, 60_000);
});
