/**
 * Serves the fake price lists on 127.0.0.1 until stopped, for trying `modelsweep prices` by hand
 * or reproducing the docs' runs: `npx tsx test/helpers/serve-fake-price-lists.ts [port]`.
 */
import { startFakePriceLists } from './fake-price-lists';

void startFakePriceLists(Number(process.argv[2] ?? 0)).then((fake) => {
  console.log(`fake price lists at ${fake.base} (for MODELSWEEP_AWS_PRICING_URL and MODELSWEEP_AZURE_PRICES_URL); Ctrl-C to stop`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void fake.close().then(() => process.exit(0)));
});
