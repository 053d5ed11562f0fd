import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { builtAssets, requireBuiltAsset } from '../build/asset-paths';
import type { PriceBook } from '../cost/price-book';
import { ModelsweepError } from '../errors';
import { quietWaitFromEnv } from '../load/quiet-check';
import type { Selection } from '../select/select';
import type { LoadedSpec } from '../spec/load-spec';
import type { CandidateRecord, ResultsStore } from '../store/results-store';
import { HEARTBEAT_MS, thisProcess } from '../store/sweep-liveness';
import { type Deployment, SetupError } from '../targets/adapter';
import { type BlobStore, folderBlobStore } from '../workflow/blob-store';
import { type AdapterSet, defaultAdapters } from '../workflow/default-adapters';
import type { SweepEvents, WorkflowEnv } from '../workflow/env';
import { stageSpec } from '../workflow/stage-spec';
import { inSpecOrder } from '../workflow/steps/select-and-report';
import { newSweepId } from '../workflow/sweep-id';
import type { SweepSummary } from '../workflow/sweep-summary';
import { type LocalExecutionOptions, runLocalExecution } from './run-local';

export interface RunSweepOptions extends LocalExecutionOptions {
  readonly store: ResultsStore;
  /** The prices at hand (see `localPriceBook`): the spec's own overrides are added at the sweep's start. */
  readonly prices: PriceBook;
  /** Reads current prices at the sweep's start (see `WorkflowEnv.fetchPrices`). @default none: the prices at hand */
  readonly fetchPrices?: WorkflowEnv['fetchPrices'];
  readonly events?: SweepEvents;
  /** Stops the load; the workflow still records and tears down what it deployed. */
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** @default defaultAdapters(): every kind, with real SDK clients */
  readonly adapters?: AdapterSet;
  /** Waits between cold-start probes (injected in tests). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Where the staged spec and the report go. @default a new temporary folder */
  readonly blobs?: BlobStore;
  /** The state machine to run. @default the BenchmarkSweep definition prebuilt by `npm run build` */
  readonly definition?: Record<string, unknown>;
  /** Lanes measured at once (local candidates always share one lane). @default 1 */
  readonly maxConcurrency?: number;
  /** Above this open-loop rate a phase is split among generators run side by side. @default Infinity */
  readonly maxRatePerGenerator?: number;
  /** The deployments this process made, by sweep and candidate. @default one registry per process */
  readonly live?: Map<string, Deployment>;
}

export interface SweepOutcome {
  readonly sweepId: string;
  readonly records: CandidateRecord[];
  readonly selection: Selection;
  readonly status: SweepSummary['status'];
  /** What the workflow's last steps said: the recommendation, whether it changed, the report's files. */
  readonly summary: SweepSummary;
}

/** The BenchmarkSweep state machine as the build rendered it (see scripts/build-assets.ts). */
export function prebuiltSweepDefinition(): Record<string, unknown> {
  return JSON.parse(readFileSync(requireBuiltAsset(builtAssets.sweepDefinition, 'The sweep state machine definition'), 'utf8')) as Record<
    string,
    unknown
  >;
}

/**
 * Runs a sweep on this machine: stages the spec, then executes the BenchmarkSweep state machine
 * locally (see {@link runLocalExecution}) against the given store. Throws {@link SetupError} when
 * the sweep could not start (nothing was created); a sweep in which no candidate could be measured
 * returns with status `failed`.
 */
export async function runSweep(loaded: LoadedSpec, options: RunSweepOptions): Promise<SweepOutcome> {
  // A bad MODELSWEEP_QUIET_WAIT is refused before anything is staged, not at the first local phase.
  quietWaitFromEnv();
  const now = options.now ?? (() => new Date());
  const sweepId = newSweepId(loaded.spec.name, now());
  const blobs = options.blobs ?? folderBlobStore(mkdtempSync(join(tmpdir(), 'modelsweep-')));
  const specKey = await stageSpec(loaded, blobs, `sweeps/${sweepId}`);
  const env = {
    store: options.store,
    blobs,
    adapters: options.adapters ?? defaultAdapters(),
    prices: options.prices,
    fetchPrices: options.fetchPrices,
    events: options.events,
    signal: options.signal,
    now,
    sleep: options.sleep,
    maxRatePerGenerator: options.maxRatePerGenerator,
    live: options.live,
    owner: thisProcess(),
  };
  // While this process lives, the sweep's record says so; killed, it goes silent and reads `abandoned`.
  const heartbeat = setInterval(() => void options.store.heartbeat(sweepId, now().toISOString()).catch(() => {}), HEARTBEAT_MS);
  heartbeat.unref();
  let execution;
  try {
    execution = await runLocalExecution(
      options.definition ?? prebuiltSweepDefinition(),
      { specKey, sweepId, maxConcurrency: options.maxConcurrency ?? 1 },
      env,
      options,
    );
  } finally {
    clearInterval(heartbeat);
  }
  if (!execution.summary) {
    // It ended before any candidate was touched: access, credentials or the spec itself.
    if (execution.status === 'FAILED' && ['SetupError', 'SpecError'].includes(execution.error)) throw new SetupError(execution.cause);
    throw new ModelsweepError(
      'platform',
      `the sweep workflow failed: ${execution.status === 'FAILED' ? `${execution.error}: ${execution.cause}` : 'no summary'}`,
    );
  }
  const records = inSpecOrder(await options.store.listCandidateResults(sweepId), loaded.spec);
  const selection = (await options.store.getSelection(sweepId))!.selection;
  return { sweepId, records, selection, status: execution.summary.status, summary: execution.summary };
}
