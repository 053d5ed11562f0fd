/**
 * The model server as a plain HTTP server (the sweep's `local` target, and the entry point of
 * the SageMaker container image, which SageMaker starts as `<image> serve`).
 *
 *   serve --model examples/demo-model/build/model.onnx [--threads 2] [--max-batch 8 --batch-delay-ms 2] [--host 127.0.0.1] [--port 8080]
 *
 * Flags fall back to MODEL_PATH, MODEL_SERVER_THREADS, MAX_BODY_BYTES, MODEL_SERVER_MAX_BATCH,
 * MODEL_SERVER_BATCH_DELAY_MS and MODEL_SERVER_MAX_IN_FLIGHT. Once the model is
 * loaded and the port is open it prints one JSON line: {"event":"listening","url":...}.
 * With --exit-with-stdin it exits as soon as its stdin closes: started by a sweep with a pipe
 * there, it dies with the sweep however the sweep ends (a SIGKILL or an out-of-memory crash
 * leaves no handler to stop it, but the kernel closes the pipe).
 */
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { Logger } from '@aws-lambda-powertools/logger';

import { ModelsweepError } from '../../lib/errors';
import { configFromEnv } from '../../lib/model-server/config';
import { startModelHttpServer } from '../../lib/model-server/http-server';

const USAGE = `usage: serve --model <file.onnx> [--threads N] [--max-batch N] [--batch-delay-ms MS] [--host 127.0.0.1] [--port 8080] [--max-body-bytes B] [--max-in-flight N] [--exit-with-stdin]`;

export async function main(argv: string[]): Promise<number> {
  let options;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        threads: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8080' },
        'max-body-bytes': { type: 'string' },
        'max-batch': { type: 'string' },
        'max-in-flight': { type: 'string' },
        'batch-delay-ms': { type: 'string' },
        'exit-with-stdin': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const extra = positionals.filter((p) => p !== 'serve');
    if (extra.length > 0) throw new ModelsweepError('invalid-input', `unexpected argument ${extra[0]}`);
    const config = configFromEnv({
      ...process.env,
      ...(values.model !== undefined ? { MODEL_PATH: values.model } : {}),
      ...(values.threads !== undefined ? { MODEL_SERVER_THREADS: values.threads } : {}),
      ...(values['max-body-bytes'] !== undefined ? { MAX_BODY_BYTES: values['max-body-bytes'] } : {}),
      ...(values['max-batch'] !== undefined ? { MODEL_SERVER_MAX_BATCH: values['max-batch'] } : {}),
      ...(values['max-in-flight'] !== undefined ? { MODEL_SERVER_MAX_IN_FLIGHT: values['max-in-flight'] } : {}),
      ...(values['batch-delay-ms'] !== undefined ? { MODEL_SERVER_BATCH_DELAY_MS: values['batch-delay-ms'] } : {}),
    });
    if (values['exit-with-stdin']) exitWhenStdinCloses();
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ModelsweepError('invalid-input', `--port must be 0-65535, got ${values.port}`);
    options = { ...config, batching: { maxBatchSize: config.maxBatchSize, maxDelayMs: config.batchDelayMs }, host: values.host, port };
  } catch (error) {
    console.error(`serve: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }

  const logger = new Logger({ serviceName: 'modelsweep-model-server' });
  try {
    const running = await startModelHttpServer({ ...options, logger, collectGarbage: garbageCollector() });
    console.log(
      JSON.stringify({
        event: 'listening',
        url: running.url,
        threads: options.threads,
        maxBatchSize: running.model.maxBatchSize,
        loadMs: Math.round(running.model.loadMs),
      }),
    );
    const stop = () => void running.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return -1; // keep running
  } catch (error) {
    console.error(`serve: could not start: ${(error as Error).message}`);
    return 1;
  }
}

/** The parent holds our stdin's other end: when it is gone, so are we (even while the model loads). */
function exitWhenStdinCloses(): void {
  const leave = () => process.exit(0);
  process.stdin.on('end', leave);
  process.stdin.on('close', leave);
  process.stdin.on('error', leave);
  process.stdin.resume();
}

if (require.main === module) {
  // main() reports every error itself and resolves to the exit code.
  void main(process.argv.slice(2)).then((code) => {
    // Exit outright: with --exit-with-stdin, stdin would otherwise keep a server that could not start alive.
    if (code >= 0) process.exit(code);
  });
}

/**
 * V8's collector, made callable without `node --expose-gc` (the container's and the sweep's
 * command lines stay plain): after a burst of large bodies it hands the grown heap back.
 */
function garbageCollector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
