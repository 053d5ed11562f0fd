import type { PriceBook, PriceKey, PriceLayer } from '../cost/price-book';
import type { PhaseProgress } from '../load/phase';
import type { Candidate } from '../spec/expand';
import type { CandidateRecord, ResultsStore, SweepOwner } from '../store/results-store';
import type { Deployment } from '../targets/adapter';
import type { BlobStore } from './blob-store';
import type { AdapterSet } from './default-adapters';
import type { SweepSummary } from './sweep-summary';

/** What a sweep reports while it runs (the CLI's progress display). */
export interface SweepEvents {
  onCandidateStart?(candidate: Candidate, index: number, total: number): void;
  onProgress?(candidate: Candidate, progress: PhaseProgress): void;
  /** A wait before a local phase for other processes to quiet down, or a phase measured beside them: who they are. */
  onWait?(candidate: Candidate, message: string): void;
  onCandidateEnd?(record: CandidateRecord): void;
}

/** Everything the workflow's steps work with: in a Lambda function, built once per container. */
export interface WorkflowEnv {
  readonly store: ResultsStore;
  readonly blobs: BlobStore;
  readonly adapters: AdapterSet;
  /** The prices at hand: overrides, cached price lists, the bundled snapshot. */
  readonly prices: PriceBook;
  /**
   * Reads current prices for what a sweep's candidates need, at the start of each sweep (the
   * cloud: the AWS Price List Query API). Its layer goes over the cache and the snapshot, under
   * overrides; its warnings are recorded with the sweep.
   */
  readonly fetchPrices?: (keys: readonly PriceKey[]) => Promise<{ readonly layer: PriceLayer; readonly warnings: readonly string[] }>;
  /** Publishes the sweep's outcome (SNS in the cloud). */
  readonly notify?: (summary: SweepSummary) => Promise<void>;
  readonly events?: SweepEvents;
  /** Stops load and lets the remaining steps record and tear down (Ctrl-C). */
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** Waits between cold-start probes (injected in tests). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Above this rate an open phase is split among generators run side by side. @default Infinity */
  readonly maxRatePerGenerator?: number;
  /** The longest phase one step may run (a Lambda invocation's limit, less a margin). @default no limit */
  readonly maxPhaseMs?: number;
  /** Candidate kinds this environment cannot run (a cloud workflow cannot start local model servers). */
  readonly unsupportedKinds?: ReadonlyMap<Candidate['kind'], string>;
  /** Deployments made by this process, by sweep and candidate. */
  readonly live?: Map<string, Deployment>;
  /** The process running the sweep, recorded with it, where one process runs it all (locally). */
  readonly owner?: SweepOwner;
}
