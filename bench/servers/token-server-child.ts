/**
 * The token server for bench/token-timing-accuracy.ts, in its own process: started with the
 * timing as JSON in argv[2], it sends its URL to the parent, and on the message 'served' sends back
 * what it did (when each request arrived and each chunk left).
 */
import { startTokenServer, type TokenServerOptions } from '../../lib/model-server/token-server';

async function main(): Promise<void> {
  const server = await startTokenServer(JSON.parse(process.argv[2] ?? '{}') as TokenServerOptions);
  process.on('message', (message) => {
    if (message === 'served') process.send!({ served: server.served });
  });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
  process.send!({ url: server.url });
}

void main();
