/**
 * Fresh CDK apps made the way users make them, for the consumer test: each installs the packed
 * construct library with a plain `npm install` from the npm registry and synthesizes the README's
 * example (examples/import-constructs.ts) with its own `npx cdk synth`.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import ts from 'typescript';

import { DEMO_MODEL_PATH } from './demo-model';

const ROOT = join(__dirname, '..', '..');
const CDK = join(ROOT, 'node_modules', '.bin', 'cdk');
const EXAMPLE = join(ROOT, 'examples', 'import-constructs.ts');

/** The four kinds of app the construct library must install into. */
export type AppKind = 'cdk-init-typescript' | 'classic-ts-node' | 'cdk-init-javascript' | 'oldest-aws-cdk-lib';

export interface ConsumerApp {
  readonly kind: AppKind;
  readonly dir: string;
  /** Bytes under node_modules before and after installing the construct library (the `cdk init` TypeScript app only). */
  readonly nodeModulesBytes?: { readonly before: number; readonly after: number };
}

/**
 * The environment of a user's shell: none of the `npm_config_*` (this repository's .npmrc
 * included) or `npm_package_*` variables `npm test` exports, and none of the test setup's synth
 * shortcuts; the fake credentials and loopback endpoints stay.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'INIT_CWD' || key === 'CDK_VALIDATION' || key === 'CDK_OUTDIR') continue;
    env[key] = value;
  }
  return { ...env, CDK_DISABLE_VERSION_CHECK: '1', CI: 'true' };
}

/** Runs a command in `cwd` as a user would; returns its stdout, or throws with its output when it fails. */
export async function run(command: string, args: readonly string[], cwd: string): Promise<string> {
  return (await runWithOutput(command, args, cwd)).stdout;
}

/** {@link run}, returning stderr as well (npm's warnings are there). */
export async function runWithOutput(command: string, args: readonly string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  try {
    return await promisify(execFile)(command, args, { cwd, env: userEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 8 * 60_000 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`\`${command} ${args.join(' ')}\` in ${cwd} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`.slice(0, 20_000), {
      cause: error,
    });
  }
}

// --prefer-offline takes what npm's cache already holds from the registry without asking again
// (seven times faster here); what is not in the cache still comes from the registry. The tree is the same.
export const npmInstall = (cwd: string, ...packages: string[]) =>
  runWithOutput('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...packages], cwd);

/** Apparent size of every file under `dir` (symbolic links not followed). */
export function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += lstatSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

interface AppFiles {
  app: string;
  notices?: boolean;
  context?: Record<string, unknown>;
  dependencies: Record<string, string>;
}

function editJson(file: string, edit: (json: AppFiles) => void): void {
  const json = JSON.parse(readFileSync(file, 'utf8')) as AppFiles;
  edit(json);
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
}

/** CDK's own switches for a synth with no outside lookups (notices, telemetry); the app is unchanged otherwise. */
function offlineCdkJson(dir: string): void {
  editJson(join(dir, 'cdk.json'), (cdk) => {
    cdk.notices = false;
    cdk.context = { ...cdk.context, 'cli-telemetry': false };
  });
}

/** A weekly sweep of the example's Lambda function, with its payload, for the sweep stack's schedule. */
function writeSweepSpec(dir: string): void {
  mkdirSync(join(dir, 'sweeps'), { recursive: true });
  copyFileSync(join(ROOT, 'examples', 'demo-model', 'payloads', 'batch-1.json'), join(dir, 'sweeps', 'payload.json'));
  writeFileSync(
    join(dir, 'sweeps', 'resnet.yaml'),
    [
      'name: resnet-weekly',
      'model: { name: resnet }',
      'payloads: [{ file: payload.json }]',
      'candidates:',
      '  - { kind: lambda, functionName: resnet-onnx, memorySizesMb: [1024, 2048], architectures: [arm64] }',
      'load:',
      '  phases: [{ mode: open, rate: 20, duration: 1m }]',
      'slo: { percentile: 99, latencyMs: 100 }',
      'traffic: { averageRps: 10, peakRps: 40 }',
      '',
    ].join('\n'),
  );
}

const APP_STACKS = `const app = new cdk.App();
new MyModelsStack(app, 'MyModels', { onnxModelPath: 'model/model.onnx' });
new MySweepStack(app, 'MySweep', { specFile: 'sweeps/resnet.yaml' });
new MyRecommendedModelStack(app, 'MyRecommendedModel', { onnxModelPath: 'model/model.onnx' });
`;

/** The README's example as the app's own code: TypeScript as written, or compiled to CommonJS for a JavaScript app. */
function writeExample(dir: string, kind: AppKind): void {
  rmSync(join(dir, 'lib'), { recursive: true, force: true });
  rmSync(join(dir, 'test'), { recursive: true, force: true });
  mkdirSync(join(dir, 'lib'));
  mkdirSync(join(dir, 'model'));
  copyFileSync(DEMO_MODEL_PATH, join(dir, 'model', 'model.onnx'));
  writeSweepSpec(dir);
  const binName = (JSON.parse(readFileSync(join(dir, 'cdk.json'), 'utf8')) as AppFiles).app.match(/bin\/([\w-]+)\.[jt]s/)![1]!;
  const example = readFileSync(EXAMPLE, 'utf8');
  if (kind === 'cdk-init-javascript') {
    const js = ts.transpileModule(example, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(dir, 'lib', 'my-models.js'), js);
    writeFileSync(
      join(dir, 'bin', `${binName}.js`),
      `#!/usr/bin/env node\nconst cdk = require('aws-cdk-lib');\nconst { MyModelsStack, MyRecommendedModelStack, MySweepStack } = require('../lib/my-models');\n\n${APP_STACKS}`,
    );
  } else {
    writeFileSync(join(dir, 'lib', 'my-models.ts'), example);
    const preamble = kind === 'classic-ts-node' ? "import 'source-map-support/register';\n" : '';
    writeFileSync(
      join(dir, 'bin', `${binName}.ts`),
      `#!/usr/bin/env node\n${preamble}import * as cdk from 'aws-cdk-lib';\nimport { MyModelsStack, MyRecommendedModelStack, MySweepStack } from '../lib/my-models';\n\n${APP_STACKS}`,
    );
  }
}

/**
 * The classic TypeScript app of `cdk init` before 2025: ts-node, `module: commonjs`, no
 * skipLibCheck, here with two stricter flags a team might add, which must not reach the library.
 */
function writeClassicTsNodeApp(dir: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'classic-ts-node',
        version: '0.1.0',
        bin: { 'classic-ts-node': 'bin/classic-ts-node.js' },
        scripts: { build: 'tsc', watch: 'tsc -w', cdk: 'cdk' },
        devDependencies: { '@types/node': '^20.19.0', 'aws-cdk': '2.1148.1', 'ts-node': '^10.9.2', typescript: '~5.9.3' },
        dependencies: { 'aws-cdk-lib': '^2.275.0', constructs: '^10.5.0', 'source-map-support': '^0.5.21' },
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2020',
          module: 'commonjs',
          lib: ['es2020', 'dom'],
          declaration: true,
          strict: true,
          noImplicitReturns: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          inlineSourceMap: true,
          inlineSources: true,
          experimentalDecorators: true,
          strictPropertyInitialization: false,
          typeRoots: ['./node_modules/@types'],
        },
        exclude: ['node_modules', 'cdk.out'],
      },
      null,
      2,
    ),
  );
  writeFileSync(join(dir, 'cdk.json'), JSON.stringify({ app: 'npx ts-node --prefer-ts-exts bin/classic-ts-node.ts', context: {} }, null, 2));
}

/**
 * Makes an app of `kind` in `dir` and installs the construct library's tarball into it.
 * `oldest` is the lowest aws-cdk-lib of the library's peer range, with the lowest constructs that
 * aws-cdk-lib accepts, for the `oldest-aws-cdk-lib` app.
 */
export async function makeConsumerApp(
  kind: AppKind,
  dir: string,
  tarball: string,
  oldest: { awsCdkLib: string; constructs: string },
): Promise<ConsumerApp> {
  mkdirSync(dir, { recursive: true });
  if (kind === 'classic-ts-node') writeClassicTsNodeApp(dir);
  else await run(CDK, ['init', 'app', '--language', kind === 'cdk-init-javascript' ? 'javascript' : 'typescript', '--generate-only'], dir);
  offlineCdkJson(dir);
  writeExample(dir, kind);
  if (kind === 'oldest-aws-cdk-lib') {
    editJson(join(dir, 'package.json'), (pkg) => {
      pkg.dependencies['aws-cdk-lib'] = oldest.awsCdkLib;
      pkg.dependencies.constructs = oldest.constructs;
    });
  }
  if (kind !== 'cdk-init-typescript') {
    await npmInstall(dir, tarball);
    return { kind, dir };
  }
  // What `cdk init` installs, then the library as a user adds it, measured in between.
  await npmInstall(dir);
  const before = treeBytes(join(dir, 'node_modules'));
  await npmInstall(dir, tarball);
  return { kind, dir, nodeModulesBytes: { before, after: treeBytes(join(dir, 'node_modules')) } };
}

/** `npx cdk synth` in the app; returns each stack's template. */
export async function synth(dir: string): Promise<Record<string, string>> {
  rmSync(join(dir, 'cdk.out'), { recursive: true, force: true });
  await run('npx', ['cdk', 'synth', '--quiet'], dir);
  const templates: Record<string, string> = {};
  for (const file of readdirSync(join(dir, 'cdk.out')).filter((f) => f.endsWith('.template.json'))) {
    templates[file.replace('.template.json', '')] = readFileSync(join(dir, 'cdk.out', file), 'utf8');
  }
  return templates;
}

/** Where each copy of `name` is installed in the app's tree (npm's own view of it). */
export async function installedCopies(dir: string, name: string): Promise<string[]> {
  const nodes = JSON.parse(await run('npm', ['query', `#${name}`], dir)) as { location: string; version: string }[];
  return nodes.map((n) => `${n.location}@${n.version}`);
}
