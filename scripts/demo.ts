/**
 * `npm run demo`: a real local sweep of the demo model (examples/sweeps/demo.yaml). Starts the
 * spec's http candidate, an endpoint that "already runs" (the model server on 127.0.0.1:18181, on
 * the cores local servers get, one thread per core), runs the sweep on this machine with the BenchmarkSweep state machine, prints
 * the results table and the recommendation, writes the report, and stops the endpoint.
 */
import { join } from 'node:path';

import { main } from '../bin/modelsweep';
import { DEMO_BUILD_DIR } from '../examples/demo-model/generate';
import { PACKAGE_ROOT } from '../lib/build/asset-paths';
import { corePlacement, corePolicyFromEnv, serverThreads } from '../lib/targets/core-placement';
import { startModelServer } from '../lib/targets/local-target';

const ENDPOINT_PORT = 18181;

async function demo(): Promise<number> {
  const started = Date.now();
  // The demo talks to no cloud (its DynamoDB is embedded): the SDK's advice to move to Node 22 is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Off the load generator's core, as the sweep's own local servers are.
  const placement = corePlacement(corePolicyFromEnv());
  let endpoint;
  try {
    endpoint = await startModelServer({
      modelPath: join(DEMO_BUILD_DIR, 'model.onnx'),
      threads: serverThreads(0, placement),
      port: ENDPOINT_PORT,
      placement,
    });
  } catch (error) {
    console.error(
      `demo: cannot start the http candidate's endpoint on 127.0.0.1:${ENDPOINT_PORT} (${(error as Error).message}); is the port in use?`,
    );
    return 1;
  }
  const where = placement.pinned
    ? `cores ${placement.servers.join(',')}; the load generator keeps core ${placement.generator.join(',')}`
    : `not pinned: ${placement.why}`;
  console.error(`demo: the http candidate's endpoint listens on ${endpoint.url} (model server, ${serverThreads(0, placement)} threads, ${where})`);
  try {
    const code = await main(['sweep', join(PACKAGE_ROOT, 'examples', 'sweeps', 'demo.yaml'), '--local']);
    console.error(`demo: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return code;
  } finally {
    await endpoint.stop();
  }
}

// demo() reports every error itself and resolves to the exit code.
void demo().then((code) => {
  process.exitCode = code;
});
