/**
 * `npm run pack:cli [-- --destination DIR]`: the modelsweep CLI as a tarball that installs with a
 * plain `npm install`. onnxruntime-node's install script fetches CUDA binaries from nuget.org on
 * Linux x64 and a consumer's npm runs it (their project has no `allowScripts` of ours), so the
 * tarball bundles onnxruntime-node, with every CPU binary it ships and without that script; the
 * local model server never uses CUDA. Prints the tarball's path.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { Command } from 'commander';

import { PACKAGE_ROOT } from '../lib/build/asset-paths';

/** What the CLI's tarball bundles: onnxruntime-node and the one package it depends on. */
export const BUNDLED = ['onnxruntime-node', 'onnxruntime-common'] as const;

interface Manifest {
  files: string[];
  scripts?: Record<string, string>;
  devDependencies?: Record<string, string>;
  workspaces?: string[];
  allowScripts?: Record<string, boolean>;
  bundleDependencies?: string[];
}

/** Stages the CLI's files, the bundled packages and a manifest without development fields in `stage`. */
export function stageCli(stage: string): void {
  const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as Manifest;
  for (const entry of [...manifest.files, 'README.md', 'LICENSE']) {
    cpSync(join(PACKAGE_ROOT, entry), join(stage, entry), { recursive: true });
  }
  // A consumer has none of these: no workspace, no dev tools, and our scripts name files the tarball lacks.
  delete manifest.scripts;
  delete manifest.devDependencies;
  delete manifest.workspaces;
  delete manifest.allowScripts;
  manifest.bundleDependencies = ['onnxruntime-node'];
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  for (const name of BUNDLED) {
    const to = join(stage, 'node_modules', name);
    mkdirSync(to, { recursive: true });
    cpSync(join(PACKAGE_ROOT, 'node_modules', name), to, { recursive: true });
    const bundled = JSON.parse(readFileSync(join(to, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    delete bundled.scripts;
    writeFileSync(join(to, 'package.json'), `${JSON.stringify(bundled, null, 2)}\n`);
  }
}

function main(): void {
  const options = new Command('pack-cli')
    .description('pack the modelsweep CLI with onnxruntime-node bundled (no install script)')
    .option('--destination <dir>', 'where to write the tarball', '.')
    .parse()
    .opts<{ destination: string }>();
  const stage = mkdtempSync(join(tmpdir(), 'modelsweep-cli-'));
  try {
    stageCli(stage);
    const destination = resolve(options.destination);
    mkdirSync(destination, { recursive: true });
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
      cwd: stage,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const [packed] = JSON.parse(out) as { filename: string; size: number; unpackedSize: number }[];
    console.error(`pack-cli: ${(packed!.size / 1e6).toFixed(1)} MB packed, ${(packed!.unpackedSize / 1e6).toFixed(1)} MB unpacked`);
    console.log(join(destination, packed!.filename));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    console.error(`pack-cli: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
