/**
 * `npm run demo:quality`: a real local sweep where quality decides as much as cost
 * (examples/sweeps/demo-quality.yaml). The demo classifier, trained by `npm run build`, in four
 * variants (fp32, fp16, int8 and a smaller model), each served by the model server on this
 * machine, load-tested, and scored on 1,000 labelled examples through its endpoint; the cheapest
 * that meets both the latency and the quality SLO is recommended.
 */
import { join } from 'node:path';

import { main } from '../bin/modelsweep';
import { PACKAGE_ROOT } from '../lib/build/asset-paths';

async function demo(): Promise<number> {
  const started = Date.now();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const code = await main(['sweep', join(PACKAGE_ROOT, 'examples', 'sweeps', 'demo-quality.yaml'), '--local']);
  console.error(`demo: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return code;
}

void demo().then((code) => {
  process.exitCode = code;
});
