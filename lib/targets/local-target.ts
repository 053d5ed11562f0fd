import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

import { builtAssets, requireBuiltAsset } from '../build/asset-paths';
import { ModelsweepError } from '../errors';
import { httpInvoker } from '../load/http-invoker';
import type { Candidate } from '../spec/expand';
import { type AdapterContext, CandidateError, type Deployment, hourlyMeasurementCost, type TargetAdapter } from './adapter';
import { type CorePlacement, corePlacement, corePolicyFromEnv, onServerCores, pinGenerator, serverThreads, threadsProblem } from './core-placement';
import { KIND_RULES } from './kind-rules';

type LocalCandidate = Extract<Candidate, { kind: 'local' }>;

interface LocalDeployment extends Deployment {
  readonly url: string;
  readonly process: ChildProcess;
}

/** How long the model server may take to load the model and open its port. */
const START_TIMEOUT_MS = 30_000;

const asLocal = (c: Candidate): LocalCandidate => {
  if (c.kind !== 'local') throw new ModelsweepError('invalid-input', `the local adapter cannot run a ${c.kind} candidate`);
  return c;
};

/** Every server this process started, so an exit or Ctrl-C never leaves one behind. */
const running = new Set<ChildProcess>();
/** Undoes the generator's pinning once the last pinned server stops. */
let pinnedServers = 0;
let unpinGenerator = () => {};
let exitHookInstalled = false;
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));
}

/** How many model servers this process has running (none once every teardown has run). */
export function runningLocalServers(): number {
  return running.size;
}

export interface LocalAdapterOptions {
  /** Where servers and the generator run. @default corePlacement(corePolicyFromEnv()), decided at the first deploy */
  readonly placement?: CorePlacement;
}

/**
 * modelsweep's ONNX model server on 127.0.0.1, one process per candidate with the candidate's
 * thread count and batching, on cores apart from the load generator's where the machine has them
 * (see core-placement.ts); killed at teardown, and on exit whatever happened.
 */
export function localAdapter(options: LocalAdapterOptions = {}): TargetAdapter<LocalDeployment> {
  let placement = options.placement;
  const placementOf = () => (placement ??= corePlacement(corePolicyFromEnv()));
  return {
    kind: 'local',
    ...KIND_RULES.local,
    async deploy(candidate, context) {
      const c = asLocal(candidate);
      const cores = placementOf();
      const threads = serverThreads(c.threads, cores);
      const crowded = threadsProblem(threads, cores);
      if (crowded) throw new CandidateError('unavailable', crowded);
      const modelPath = c.modelPath ?? context.modelPath;
      if (!modelPath) throw new CandidateError('failed', 'no model: set modelPath on the candidate or model.path in the spec');
      const model = resolve(context.baseDir, modelPath);
      if (!existsSync(model)) throw new CandidateError('failed', `model file ${model} does not exist`);
      try {
        const server = await startModelServer({
          modelPath: model,
          threads,
          maxBatchSize: c.maxBatchSize,
          batchDelayMs: c.batchDelayMs,
          environment: c.environment,
          placement: cores,
        });
        return { candidateId: c.id, url: server.url, process: server.process, teardown: server.stop };
      } catch (error) {
        throw new CandidateError('failed', (error as Error).message, { cause: error });
      }
    },
    async waitReady(deployment) {
      const response = await fetch(`${deployment.url}/ping`);
      if (!response.ok) throw new CandidateError('failed', `the model server answered /ping with ${response.status}`);
    },
    invoker(deployment, context: AdapterContext) {
      return httpInvoker({ url: `${deployment.url}/invocations`, timeoutMs: context.timeoutMs, connections: 64 });
    },
    processIds: (deployment) => (deployment.process.pid !== undefined ? [deployment.process.pid] : []),
    costPerInstanceHour: (candidate) => asLocal(candidate).costPerHour,
    estimateMeasurementCost: (candidate, plan) => hourlyMeasurementCost(asLocal(candidate).costPerHour, plan, 0, candidate.id),
  };
}

/** The local adapter with the placement MODELSWEEP_LOCAL_CORES asks for. */
export const localTarget = localAdapter();

export interface ModelServerOptions {
  readonly modelPath: string;
  readonly threads: number;
  /** @default 1 (no batching) */
  readonly maxBatchSize?: number;
  readonly batchDelayMs?: number;
  /** @default 0: any free port */
  readonly port?: number;
  readonly environment?: Readonly<Record<string, string>>;
  /** Cores to run on (pinned with taskset where the placement says so). @default any */
  readonly placement?: CorePlacement;
}

export interface RunningModelServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly process: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL after 2 s); stopping a stopped one is fine. */
  stop(): Promise<void>;
}

/**
 * Starts modelsweep's model server (the prebuilt bundle) on 127.0.0.1 and waits until it listens.
 * It is killed when this process exits, whatever happens. While a server pinned to the
 * placement's server cores runs, this process (the load generator) and its other children keep
 * to the generator's cores, so nothing of modelsweep's own runs beside the server.
 */
export async function startModelServer(options: ModelServerOptions): Promise<RunningModelServer> {
  const server = join(requireBuiltAsset(builtAssets.modelServerHandler, 'The model server bundle'), 'serve.js');
  killAllOnExit();
  const batching = [
    '--max-batch',
    String(options.maxBatchSize ?? 1),
    ...(options.batchDelayMs !== undefined ? ['--batch-delay-ms', String(Math.round(options.batchDelayMs))] : []),
  ];
  const { command, args } = onServerCores(options.placement ?? corePlacement('shared'), process.execPath, [
    server,
    '--model',
    options.modelPath,
    '--threads',
    String(options.threads),
    ...batching,
    '--host',
    '127.0.0.1',
    '--port',
    String(options.port ?? 0),
    '--exit-with-stdin',
  ]);
  const placement = options.placement;
  if (placement?.pinned && pinnedServers++ === 0)
    unpinGenerator = pinGenerator(
      placement,
      [...running].map((c) => c.pid ?? -1),
    );
  const child = spawn(command, args, {
    env: { ...process.env, ...options.environment, POWERTOOLS_LOG_LEVEL: 'WARN' },
    // Our end of its stdin closes when this process dies, however it dies, and the server leaves with it.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let stopped = false;
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
  const stop = async () => {
    running.delete(child);
    if (!stopped && placement?.pinned && --pinnedServers === 0) unpinGenerator();
    stopped = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await once(child, 'exit');
    clearTimeout(killer);
  };
  try {
    return { url: await listeningUrl(child, () => stderr), process: child, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits for the server's `{"event":"listening","url":...}` line, or its death, or the start timeout. */
async function listeningUrl(child: ChildProcess, stderr: () => string): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  try {
    for await (const line of lines) {
      try {
        const event = JSON.parse(line) as { event?: string; url?: string };
        if (event.event === 'listening' && event.url) return event.url;
      } catch {
        // not a JSON line: ignore
      }
    }
    throw new ModelsweepError(
      'candidate-failed',
      `the model server exited before listening: ${stderr().trim().split('\n').slice(-3).join(' | ') || `exit code ${child.exitCode}`}`,
    );
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}
