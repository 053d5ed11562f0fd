import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { ModelsweepError } from '../errors';

/** Root of the repository (or the installed package). */
export const PACKAGE_ROOT = join(__dirname, '..', '..');

/** Where `npm run build` puts the prebuilt handler bundles and runtime layers. */
export const ASSETS_DIR = join(PACKAGE_ROOT, 'dist', 'assets');

/** CPU architectures the model server is packaged for (Lambda's names). */
export const MODEL_SERVER_ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type ModelServerArchitecture = (typeof MODEL_SERVER_ARCHITECTURES)[number];

/** Node's `process.arch` for each Lambda architecture: the folder onnxruntime ships binaries in. */
export const NODE_ARCH: Record<ModelServerArchitecture, 'x64' | 'arm64'> = { x86_64: 'x64', arm64: 'arm64' };

export const builtAssets = {
  /** The model server's Lambda handler bundle (`index.handler`) and HTTP entry point (`serve.js`). */
  modelServerHandler: join(ASSETS_DIR, 'model-server'),
  /** A Lambda layer with onnxruntime-node for one architecture, under `nodejs/node_modules`. */
  onnxRuntimeLayer: (arch: ModelServerArchitecture) => join(ASSETS_DIR, `onnxruntime-layer-${arch}`),
  /** The Docker build context of the model server as a SageMaker container (linux/amd64). */
  modelServerImage: join(ASSETS_DIR, 'model-server-image'),
  /** The sweep workflow's step handlers, one bundle (`index.<step>` per function). */
  sweepFunctions: join(ASSETS_DIR, 'sweep-functions'),
  /** The BenchmarkSweep state machine as plain Amazon States Language, for the local executor. */
  sweepDefinition: join(ASSETS_DIR, 'sweep-state-machine.json'),
} as const;

/** Returns `path`, or throws an error telling the user how to build it. */
export function requireBuiltAsset(path: string, what: string): string {
  if (!existsSync(path)) {
    throw new ModelsweepError('not-installed', `${what} is not built (${path} is missing): run \`npm run build\` first`);
  }
  return path;
}
