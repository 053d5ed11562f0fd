/**
 * Builds what the constructs point at, so that `cdk synth` needs no bundler and no Docker:
 *
 * - dist/assets/model-server/               the model server bundled by esbuild (Lambda handler + HTTP entry)
 * - dist/assets/onnxruntime-layer-<arch>/   a Lambda layer with onnxruntime-node for that architecture only
 * - dist/assets/model-server-image/         the Docker build context of the model server for SageMaker
 * - dist/assets/sweep-functions/            the sweep workflow's step handlers bundled by esbuild
 * - dist/assets/sweep-state-machine.json    the BenchmarkSweep state machine rendered as plain ASL (local executor)
 * - examples/demo-model/build/              the demo model (see examples/demo-model/generate.ts)
 *
 * `--if-stale` skips the work when nothing it reads has changed since the last build.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { build } from 'esbuild';

import { renderSweepDefinition } from '../constructs/sweep/sweep-definition';
import { DEMO_BUILD_DIR, generateDemoModel } from '../examples/demo-model/generate';
import { ASSETS_DIR, builtAssets, MODEL_SERVER_ARCHITECTURES, type ModelServerArchitecture, NODE_ARCH, PACKAGE_ROOT } from '../lib/build/asset-paths';

const ORT_PACKAGES = ['onnxruntime-node', 'onnxruntime-common'];
const INPUTS = ['functions', 'lib', 'constructs/sweep/sweep-definition.ts', 'examples/demo-model', 'scripts/build-assets.ts', 'package-lock.json'];
const STAMP = join(ASSETS_DIR, '.inputs-sha256');

/** Node version of the Lambda runtime and container image the bundles target. */
export const MODEL_SERVER_NODE_MAJOR = 22;

const DOCKERFILE = `# The modelsweep ONNX model server as a SageMaker inference container (linux/amd64).
# SageMaker starts it as \`<image> serve\`, mounts the model under /opt/ml/model and calls
# GET /ping and POST /invocations on port 8080.
FROM public.ecr.aws/docker/library/node:${MODEL_SERVER_NODE_MAJOR}-bookworm-slim
WORKDIR /opt/model-server
COPY model-server/ ./
COPY node_modules/ ./node_modules/
ENV NODE_ENV=production MODEL_PATH=/opt/ml/model/model.onnx
EXPOSE 8080
USER node
ENTRYPOINT ["node", "/opt/model-server/serve.js", "--host", "0.0.0.0", "--port", "8080"]
`;

async function buildAll(): Promise<void> {
  rmSync(ASSETS_DIR, { recursive: true, force: true });
  const handlerDir = builtAssets.modelServerHandler;
  await build({
    entryPoints: { index: 'functions/model-server/index.ts', serve: 'functions/model-server/serve.ts' },
    outdir: handlerDir,
    absWorkingDir: PACKAGE_ROOT,
    bundle: true,
    platform: 'node',
    target: `node${MODEL_SERVER_NODE_MAJOR}`,
    format: 'cjs',
    external: ORT_PACKAGES,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const arch of MODEL_SERVER_ARCHITECTURES) {
    stageOnnxRuntime(join(builtAssets.onnxRuntimeLayer(arch), 'nodejs', 'node_modules'), arch);
  }
  const image = builtAssets.modelServerImage;
  cpSync(handlerDir, join(image, 'model-server'), { recursive: true, filter: (p) => !p.endsWith('index.js') && !p.endsWith('index.js.map') });
  stageOnnxRuntime(join(image, 'node_modules'), 'x86_64');
  writeFileSync(join(image, 'Dockerfile'), DOCKERFILE);
  await build({
    entryPoints: { index: 'functions/sweep/index.ts' },
    outdir: builtAssets.sweepFunctions,
    absWorkingDir: PACKAGE_ROOT,
    bundle: true,
    platform: 'node',
    target: `node${MODEL_SERVER_NODE_MAJOR}`,
    format: 'cjs',
    // Local model servers never run in the cloud workflow: leave their runtime out of the bundle.
    // chart.js is read as a file (the report inlines it), so it ships beside the bundle.
    external: [...ORT_PACKAGES, 'chart.js'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const chartJs = join(builtAssets.sweepFunctions, 'node_modules', 'chart.js');
  for (const file of ['package.json', join('dist', 'chart.umd.min.js'), join('dist', 'chart.cjs')]) {
    mkdirSync(join(chartJs, file, '..'), { recursive: true });
    cpSync(join(PACKAGE_ROOT, 'node_modules', 'chart.js', file), join(chartJs, file));
  }
  writeFileSync(builtAssets.sweepDefinition, `${JSON.stringify(renderSweepDefinition(), null, 2)}\n`);
}

/**
 * Copies onnxruntime into `nodeModules` with only the linux binaries of one architecture:
 * the package ships every platform's (≈ 300 MB), over Lambda's 250 MB unzipped limit.
 */
function stageOnnxRuntime(nodeModules: string, arch: ModelServerArchitecture): void {
  const binaryDir = join('bin', 'napi-v6', 'linux', NODE_ARCH[arch]);
  for (const pkg of ORT_PACKAGES) {
    const source = join(PACKAGE_ROOT, 'node_modules', pkg);
    cpSync(source, join(nodeModules, pkg), {
      recursive: true,
      filter: (path) => {
        const rel = relative(source, path);
        if (rel === '' || rel === 'package.json' || rel === 'LICENSE' || rel.startsWith('dist')) return true;
        if (pkg !== 'onnxruntime-node') return false;
        return binaryDir.startsWith(rel) || rel.startsWith(binaryDir);
      },
    });
  }
}

function inputsHash(): string {
  const hash = createHash('sha256');
  const visit = (path: string) => {
    const abs = join(PACKAGE_ROOT, path);
    if (!existsSync(abs) || path.includes('node_modules') || path.endsWith('/build')) return;
    if (statSync(abs).isDirectory()) {
      for (const entry of readdirSync(abs).sort()) visit(join(path, entry));
    } else {
      hash.update(path).update('\0').update(readFileSync(abs));
    }
  };
  INPUTS.forEach(visit);
  return hash.digest('hex');
}

async function main(args: string[]): Promise<void> {
  const digest = inputsHash();
  const fresh = existsSync(STAMP) && readFileSync(STAMP, 'utf8') === digest && existsSync(join(DEMO_BUILD_DIR, 'model.tar.gz'));
  if (args.includes('--if-stale') && fresh) return;
  const started = Date.now();
  await generateDemoModel();
  await buildAll();
  mkdirSync(ASSETS_DIR, { recursive: true });
  writeFileSync(STAMP, digest);
  console.error(`modelsweep: built the model server and demo model assets in ${Date.now() - started} ms`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`modelsweep: building assets failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
