/**
 * The upper bounds on everything a spec or a flag may ask for: each is above what a real sweep
 * needs and below what would exhaust this machine, a Lambda step or a bill. A value beyond one is
 * refused before anything is created, with the field and the bound named. docs/reference/spec.md
 * lists them with these comments (`npm run docs`); change them here only.
 */
export const LIMITS = {
  /** Requests per second of one phase, a search bound or a flag (fan-out generators share it). */
  rateRps: 100_000,
  /** Requests in flight in a closed-loop phase, or keep-alive connections. */
  concurrency: 10_000,
  /** One phase, stair step, warm-up or `load --duration`. */
  phaseMs: 24 * 3_600_000,
  /** All the load one candidate is planned to receive: the phases, the stairs' steps and a search. */
  loadPerCandidateMs: 24 * 3_600_000,
  /** How long a request may stay unanswered. */
  requestTimeoutMs: 15 * 60_000,
  /** Longest a local model server holds a request to batch it. */
  batchDelayMs: 1000,
  /** Idle time before a cold-start probe. */
  coldStartIdleMs: 24 * 3_600_000,
  /** Phases in `load.phases`. */
  phases: 100,
  /** Steps of one stairs phase. */
  stairSteps: 100,
  /** Payloads in a spec. */
  payloads: 100,
  /** One payload: SageMaker's and Lambda's synchronous request limit. */
  payloadBytes: 6 * 1024 * 1024,
  /** A spec file; the largest real spec is a few KB. */
  specBytes: 1024 * 1024,
  /** A price file (`--prices`). */
  pricesBytes: 1024 * 1024,
  /** Values in one candidate list (instanceTypes, memorySizesMb, …); the grid is bounded separately. */
  listValues: 200,
  /** Instances of one SageMaker or Azure ML candidate. */
  instances: 100,
  /** Headers of an http candidate or `load --header`. */
  headers: 64,
  /** USD per hour of a self-managed candidate (the largest GPU instances cost about 100). */
  costPerHourUsd: 10_000,
  /** A sweep's budget in USD. */
  budgetUsd: 1_000_000,
  /** Peak or average requests per second of the traffic a recommendation is for. */
  trafficRps: 10_000_000,
  /** A latency SLO. */
  sloLatencyMs: 15 * 60_000,
  /** Output tokens one request of a prompt set asks for (max_tokens). */
  maxTokens: 1_000_000,
  /** A synthetic prompt's length, in words (about one token each). */
  promptTokens: 1_000_000,
  /** Prompts in one prompt file (one per line of a .jsonl file). */
  promptsPerFile: 10_000,
  /** Rows of an offline job. */
  offlineRows: 1e12,
  /** An offline job's deadline: a week. */
  offlineDeadlineMs: 7 * 24 * 3_600_000,
  /** Instances an offline job may run on. */
  offlineInstances: 10_000,
  /** Rows in one batched request of an offline sweep. */
  batchRows: 100_000,
  /** Lines of a transform job's sample: it is built in memory and uploaded before the job starts. */
  transformSampleRows: 1_000_000,
  /** Examples in a quality dataset (one per line); enough for an interval of ±1% on accuracy. */
  qualityExamples: 10_000,
  /** A quality dataset file. */
  qualityDatasetBytes: 64 * 1024 * 1024,
  /** Weight of one payload in the mix. */
  payloadWeight: 1_000_000,
  /** Nesting of maps and lists in a spec file. */
  yamlDepth: 32,
  /** Aliases (`*name`) a spec file may expand; more is an alias bomb. */
  yamlAliases: 100,
} as const;
