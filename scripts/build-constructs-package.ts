/**
 * Builds the construct library, `modelsweep-constructs`, in packages/constructs from the sources
 * in constructs/ and lib/, so CDK apps install it like any construct library:
 *
 * - constructs/ and lib/   compiled by tsc to CommonJS with declarations, the repository's layout
 *                          kept (lib/build/asset-paths finds dist/assets beside them). Only what
 *                          constructs/index imports is kept: the JavaScript it requires, and the
 *                          declarations its declarations import.
 * - dist/assets/           the prebuilt handler bundles and Lambda layers the constructs point at,
 *                          copied from the repository's dist/assets (run `npm run build` first).
 * - LICENSE                the repository's.
 *
 * Then it checks that every package the emitted code requires is a dependency or a peer dependency
 * of packages/constructs/package.json, so an app that installs only those can synthesize.
 *
 * Usage: tsx scripts/build-constructs-package.ts
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

import { builtAssets, MODEL_SERVER_ARCHITECTURES, PACKAGE_ROOT } from '../lib/build/asset-paths';

const PACKAGE_DIR = join(PACKAGE_ROOT, 'packages', 'constructs');
const OUTPUTS = ['constructs', 'lib', 'dist', 'LICENSE'];
/** What the constructs point at in dist/assets; the model server image and the local-only files stay out. */
const SHIPPED_ASSETS = [builtAssets.modelServerHandler, ...MODEL_SERVER_ARCHITECTURES.map(builtAssets.onnxRuntimeLayer), builtAssets.sweepFunctions];

function fail(message: string): never {
  console.error(`modelsweep: building modelsweep-constructs failed: ${message}`);
  process.exit(1);
}

/** Every file under `dir` (relative to PACKAGE_DIR). */
function filesUnder(dir: string): string[] {
  const abs = join(PACKAGE_DIR, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(PACKAGE_DIR, join(e.parentPath, e.name)));
}

const RELATIVE_IMPORT = /(?:require\(|from |import\()\s*["']([^"']+)["']/g;

/** The files reachable from `entry` through relative imports matching `extension` (`.js` or `.d.ts`). */
function reachable(entry: string, extension: '.js' | '.d.ts'): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, spec] of readFileSync(join(PACKAGE_DIR, file), 'utf8').matchAll(RELATIVE_IMPORT)) {
      if (!spec.startsWith('.')) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
        continue;
      }
      const target = relative(PACKAGE_DIR, resolve(PACKAGE_DIR, dirname(file), spec));
      const candidates = spec.endsWith('.json') ? [target] : [`${target}${extension}`, join(target, `index${extension}`)];
      const found = candidates.find((c) => existsSync(join(PACKAGE_DIR, c)));
      if (!found) fail(`${file} imports ${spec}, which the build did not emit`);
      visit(found);
    }
  };
  visit(entry);
  return { files, packages };
}

function main(): void {
  for (const asset of SHIPPED_ASSETS) {
    if (!existsSync(asset)) fail(`${relative(PACKAGE_ROOT, asset)} is missing: run \`npm run build\` first`);
  }
  for (const output of OUTPUTS) rmSync(join(PACKAGE_DIR, output), { recursive: true, force: true });

  try {
    execFileSync(process.execPath, [join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(PACKAGE_DIR, 'tsconfig.json')], {
      stdio: 'inherit',
    });
  } catch {
    fail('tsc reported the errors above');
  }

  // tsc emits every file the program reads, type-only imports included; keep what is used.
  const code = reachable('constructs/index.js', '.js');
  const types = reachable('constructs/index.d.ts', '.d.ts');
  for (const file of [...filesUnder('constructs'), ...filesUnder('lib')]) {
    if (!code.files.has(file) && !types.files.has(file)) rmSync(join(PACKAGE_DIR, file));
  }

  const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
  const builtins = new Set(builtinModules);
  const undeclared = [...code.packages, ...types.packages].filter((p) => !declared.has(p) && !p.startsWith('node:') && !builtins.has(p));
  if (undeclared.length > 0) {
    fail(
      `the constructs import ${[...new Set(undeclared)].join(', ')}, which packages/constructs/package.json does not declare; ` +
        'keep the CLI and engine packages out of what constructs/index imports, or declare what synthesis truly needs',
    );
  }

  for (const asset of SHIPPED_ASSETS) cpSync(asset, join(PACKAGE_DIR, relative(PACKAGE_ROOT, asset)), { recursive: true });
  cpSync(join(PACKAGE_ROOT, 'LICENSE'), join(PACKAGE_DIR, 'LICENSE'));
  console.error(
    `modelsweep: built modelsweep-constructs in ${relative(process.cwd(), PACKAGE_DIR) || '.'} ` +
      `(${code.files.size} modules, ${types.files.size} declaration files; requires ${[...code.packages].sort().join(', ')})`,
  );
}

main();
