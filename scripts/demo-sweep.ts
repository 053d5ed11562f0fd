/**
 * The demos that are one local sweep of an example spec: `tsx scripts/demo-sweep.ts <spec>`, the
 * spec's file name in examples/sweeps/.
 * - `npm run demo:quality` (demo-quality.yaml): the demo classifier's four variants (fp32, fp16,
 *   int8, a smaller model), each scored on 1,000 labelled examples through its endpoint; the
 *   cheapest that meets both the latency and the quality SLO is recommended.
 * - `npm run demo:offline` (demo-offline.yaml): a batch job instead of an endpoint; the
 *   classifier's fp32 and int8 variants measured at saturation, and the job (20,000,000 rows
 *   within an hour) priced on each.
 */
import { join } from 'node:path';

import { main } from '../bin/modelsweep';
import { PACKAGE_ROOT } from '../lib/build/asset-paths';

async function demo(spec: string | undefined): Promise<number> {
  if (!spec) {
    console.error('usage: tsx scripts/demo-sweep.ts <spec in examples/sweeps>');
    return 2;
  }
  const started = Date.now();
  // The demo talks to no cloud (its DynamoDB is embedded): the SDK's advice to move to Node 22 is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const code = await main(['sweep', join(PACKAGE_ROOT, 'examples', 'sweeps', spec), '--local']);
  console.error(`demo: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return code;
}

void demo(process.argv[2]).then((code) => {
  process.exitCode = code;
});
