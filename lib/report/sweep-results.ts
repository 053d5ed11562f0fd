import { describeSource } from '../cost/price-book';
import { errorKinds } from '../format/format';
import { describeBusy } from '../load/busy-processes';
import { LatencyHistogram } from '../load/histogram';
import { robustPercentileInterval } from '../load/percentile-interval';
import type { PhaseResult } from '../load/phase';
import { type PhaseSlo } from '../load/slo-bounds';
import type { QualityMetric } from '../quality/metrics';
import { type PredictionCheck, predictionChecks } from '../select/candidate-search';
import type { CandidateVerdict, Selection } from '../select/select';
import type { TrafficForecastSpec } from '../spec/schema';
import type { CandidateRecord, SweepRecord } from '../store/results-store';
import { withSizes } from '../targets/kind-rules';

/** Hours in the month costs are given for, unless the sweep's prices said otherwise. */
const HOURS_PER_MONTH = 730;

/** Everything a report is made from: what the store holds about one sweep. */
export interface SweepResultsInput {
  readonly sweep: SweepRecord;
  readonly records: readonly CandidateRecord[];
  readonly selection: Selection;
  /** @default the built-in price catalog's */
  readonly hoursPerMonth?: number;
}

/** One phase of one candidate, with the SLO percentile computed from its histogram. */
export interface PhaseRow {
  readonly name: string;
  readonly mode: PhaseResult['mode'];
  readonly rate?: number;
  readonly concurrency?: number;
  readonly requests: number;
  readonly achievedRps: number;
  readonly errorRate: number;
  /** Failed requests by kind (`http_500`, `timeout`, `in_flight_limit`: refused by the generator, …). */
  readonly errors: Readonly<Record<string, number>>;
  readonly sloLatencyMs: number;
  /** The SLO percentile's 95% interval (see `robustPercentileInterval`): below the SLO it passed, above it failed, astride it too close to call. */
  readonly sloLatencyIntervalMs?: readonly [number, number];
  /** How long it ran, and whether it ran on past its plan because its SLO percentile was too close to call. */
  readonly durationMs: number;
  readonly extended?: boolean;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly generatorLimited: boolean;
  /** Whether a miss of the SLO in this phase can be charged to the target (`unchecked`: measured without the generator watching itself). */
  readonly validity: 'valid' | 'inconclusive' | 'unchecked';
  /** Why it is inconclusive: what the generator or the machine did. */
  readonly inconclusiveReason?: string;
  /** Why a miss on a busy machine still counts against the target: what survived taking the noise away. */
  readonly validityNote?: string;
  /** Streamed responses: time to first token (from the intended send) and inter-token latency percentiles, and the tokens. */
  readonly tokens?: {
    readonly outputTokens: number;
    readonly outputTokensPerSecond: number;
    /** `usage`: the servers' counts; `chunks`: one token per chunk of text (an approximation); `mixed`: some of each. */
    readonly countedBy: 'usage' | 'chunks' | 'mixed';
    readonly ttftP50Ms: number;
    readonly ttftP95Ms: number;
    readonly ttftP99Ms: number;
    readonly itlP50Ms: number;
    readonly itlP95Ms: number;
    readonly itlP99Ms: number;
  };
  /** How well the load generator kept up: its send lateness and event-loop delay (p99), and other processes' CPU beside a local target. */
  readonly generator?: {
    readonly latenessP99Ms: number;
    readonly eventLoopDelayP99Ms: number;
    /** CPU other processes used on the target's cores (its pinned cores, or the machine's). */
    readonly otherProcessesCores?: number;
    readonly targetCores?: readonly number[];
    /** The share of the phase the generator's event loop waited for a core. */
    readonly waitShare?: number;
    /** Who else was busy on the target's or the generator's cores: `pid 4242 (node -e for(;;){}) 0.86 cores`. */
    readonly busyProcesses?: string;
  };
}

/** One candidate: its configuration, how it was judged, and its phases. */
export interface CandidateResult extends CandidateVerdict {
  readonly kind: string;
  /** The configuration as the spec expanded it (kind-specific fields). */
  readonly configuration: Readonly<Record<string, unknown>>;
  readonly phases: readonly PhaseRow[];
  readonly teardownError?: string;
  /** A measured candidate that misses the SLO has no sized cost; one instance for a month places it on the chart. */
  readonly oneInstanceMonthlyUsd?: number;
  /** Skipped: what measuring it would have taken (see `CandidateRecord.notSpent`). */
  readonly notSpent?: { readonly usd: number; readonly hours: number };
}

/** What the candidate search did over the sweep's grid. */
export interface SearchSummary {
  readonly mode: string;
  readonly grid: number;
  /** Candidates sent to be deployed (measured, failed, unavailable or refused by the budget). */
  readonly deployed: number;
  readonly skipped: number;
  /** What the skipped candidates would have taken to measure, estimated: on-demand USD, and hours of deploying and load. */
  readonly notSpentUsd: number;
  readonly notSpentHours: number;
  /** guided: each measured candidate's capacity as its nearest measured sibling predicted it, beside what it measured. */
  readonly predictions?: readonly PredictionCheck[];
}

/** The search's summary from the records: skipped candidates carry what measuring them would have taken. */
function searchSummary(sweep: SweepRecord, records: readonly CandidateRecord[], selection: Selection): SearchSummary {
  const skipped = records.filter((r) => r.status === 'skipped');
  const mode = (sweep.spec as { candidateSearch?: { mode?: string } }).candidateSearch?.mode ?? 'exhaustive';
  const predictions = mode === 'guided' ? predictionChecks(withSizes(selection.candidates, records)) : [];
  return {
    ...(predictions.length > 0 ? { predictions } : {}),
    mode,
    grid: records.length,
    deployed: records.length - skipped.length,
    skipped: skipped.length,
    notSpentUsd: round(
      skipped.reduce((usd, r) => usd + (r.notSpent?.usd ?? 0), 0),
      2,
    ),
    notSpentHours: round(
      skipped.reduce((h, r) => h + (r.notSpent?.hours ?? 0), 0),
      2,
    ),
  };
}

/** The results of a sweep as `results.json` holds them. */
export interface SweepResults {
  readonly sweepId: string;
  readonly name: string;
  readonly model: string;
  readonly status: SweepRecord['status'];
  readonly createdAt: string;
  readonly finishedAt: string;
  readonly slo: PhaseSlo;
  /** The quality SLO, where the sweep had one: the metric and its bound, and the reference variant answers are compared with. */
  readonly quality?: {
    readonly metric: QualityMetric;
    readonly min?: number;
    readonly max?: number;
    readonly maxDropFromReference?: number;
    readonly reference?: string;
  };
  /** An offline sweep's job: its rows, deadline, rows a request (or the batch sizes to search) and instance cap. */
  readonly offline?: {
    readonly rows: number;
    readonly deadlineMs: number;
    readonly rowsPerRequest: number;
    readonly batch?: { readonly sizes?: readonly number[]; readonly upTo?: number };
    readonly maxInstances: number;
  };
  /** A real-time sweep's forecast (absent for an offline one). */
  readonly traffic?: {
    readonly averageRps: number;
    readonly peakRps: number;
    /** Set when the forecast was given in output tokens per second (see `TrafficForecastSpec`). */
    readonly outputTokens?: TrafficForecastSpec['outputTokens'];
  };
  readonly recommended?: string;
  readonly confidenceNote?: string;
  /** Why there is no recommendation although something was measured: the machine was too busy to measure a candidate that might be cheaper. */
  readonly measurementNote?: string;
  /** Set when the sweep was interrupted: the candidates the recommendation never saw. */
  readonly incompleteNote?: string;
  /** Why nothing is recommended, case by case, and what would settle it (see `Selection.noRecommendationNote`). */
  readonly noRecommendationNote?: string;
  /** What the candidate search did: how much of the grid it deployed, and what skipping the rest saved. */
  readonly search?: SearchSummary;
  readonly frontier: readonly string[];
  readonly candidates: readonly CandidateResult[];
  /** How the sweep was priced: the commitment, and what was wrong with the prices (old figures, a price list that could not be read). */
  readonly pricing?: { readonly commitment: string; readonly warnings: readonly string[] };
  readonly spec: unknown;
}

interface SpecShape {
  slo: SweepResults['slo'];
  quality?: { metric: QualityMetric; reference?: string; slo: { min?: number; max?: number; maxDropFromReference?: number } };
  traffic?: SweepResults['traffic'];
  offline?: { rows: number; deadline: number; rowsPerRequest: number; batch?: { sizes?: number[]; upTo?: number }; maxInstances: number };
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));

function phaseRow(phase: PhaseResult, percentile: number): PhaseRow {
  const histogram = LatencyHistogram.decode(phase.histogram);
  const interval = histogram.count > 0 ? robustPercentileInterval(histogram, percentile, phase.sloWindowsMs) : undefined;
  return {
    name: phase.name,
    mode: phase.mode,
    ...(phase.rate !== undefined ? { rate: phase.rate } : {}),
    ...(phase.concurrency !== undefined ? { concurrency: phase.concurrency } : {}),
    requests: phase.requests,
    achievedRps: round(phase.achievedRps, 1),
    errorRate: round(phase.errorRate, 5),
    errors: phase.errors,
    sloLatencyMs: round(histogram.count > 0 ? histogram.percentileMs(percentile) : 0),
    ...(interval ? { sloLatencyIntervalMs: [round(interval.lowerMs), round(interval.upperMs)] as const } : {}),
    durationMs: Math.round(phase.durationMs),
    ...(phase.extended ? { extended: true } : {}),
    p50Ms: round(phase.latencyMs.p50),
    p90Ms: round(phase.latencyMs.p90),
    p99Ms: round(phase.latencyMs.p99),
    p999Ms: round(phase.latencyMs.p999),
    generatorLimited: phase.generatorLimited,
    ...(phase.tokens
      ? {
          tokens: {
            outputTokens: phase.tokens.outputTokens,
            outputTokensPerSecond: round(phase.tokens.outputTokensPerSecond, 1),
            countedBy: phase.tokens.countedBy,
            ttftP50Ms: round(phase.tokens.timeToFirstTokenMs.p50),
            ttftP95Ms: round(phase.tokens.timeToFirstTokenMs.p95),
            ttftP99Ms: round(phase.tokens.timeToFirstTokenMs.p99),
            itlP50Ms: round(phase.tokens.interTokenMs.p50),
            itlP95Ms: round(phase.tokens.interTokenMs.p95),
            itlP99Ms: round(phase.tokens.interTokenMs.p99),
          },
        }
      : {}),
    validity: phase.validity ? (phase.validity.valid ? 'valid' : 'inconclusive') : 'unchecked',
    ...(phase.validity?.reason ? { inconclusiveReason: phase.validity.reason } : {}),
    ...(phase.validity?.note ? { validityNote: phase.validity.note } : {}),
    ...(phase.health
      ? {
          generator: {
            latenessP99Ms: phase.health.latenessP99Ms,
            eventLoopDelayP99Ms: phase.health.eventLoopDelayP99Ms,
            ...(phase.health.otherProcessesCores !== undefined ? { otherProcessesCores: phase.health.otherProcessesCores } : {}),
            ...(phase.health.targetCores ? { targetCores: phase.health.targetCores } : {}),
            ...(phase.health.generatorWaitShare !== undefined ? { waitShare: phase.health.generatorWaitShare } : {}),
            ...(phase.health.busyProcesses ? { busyProcesses: describeBusy(phase.health.busyProcesses) } : {}),
          },
        }
      : {}),
  };
}

/** The sweep's commitment and price warnings, where it recorded prices. */
function pricingOf(sweep: SweepRecord): Pick<SweepResults, 'pricing'> {
  if (!sweep.prices) return {};
  return { pricing: { commitment: sweep.prices.commitment ?? 'on-demand', warnings: sweep.priceWarnings ?? [] } };
}

/** Joins the store's records with the selection's verdicts, in the selection's order. */
export function sweepResults(input: SweepResultsInput): SweepResults {
  const spec = input.sweep.spec as SpecShape;
  const byId = new Map(input.records.map((r) => [r.candidate.id, r]));
  const hoursPerMonth = input.hoursPerMonth ?? HOURS_PER_MONTH;
  return {
    sweepId: input.sweep.sweepId,
    name: input.sweep.name,
    model: input.sweep.model,
    status: input.sweep.status,
    createdAt: input.sweep.createdAt,
    finishedAt: input.sweep.updatedAt,
    slo: {
      percentile: spec.slo.percentile,
      latencyMs: spec.slo.latencyMs,
      maxErrorRate: spec.slo.maxErrorRate,
      ...(spec.slo.timeToFirstToken ? { timeToFirstToken: spec.slo.timeToFirstToken } : {}),
      ...(spec.slo.interTokenLatency ? { interTokenLatency: spec.slo.interTokenLatency } : {}),
    },
    ...(spec.quality
      ? {
          quality: {
            metric: spec.quality.metric,
            ...spec.quality.slo,
            ...(spec.quality.reference !== undefined ? { reference: spec.quality.reference } : {}),
          },
        }
      : {}),
    ...(spec.traffic
      ? {
          traffic: {
            averageRps: spec.traffic.averageRps,
            peakRps: spec.traffic.peakRps,
            ...(spec.traffic.outputTokens ? { outputTokens: spec.traffic.outputTokens } : {}),
          },
        }
      : {}),
    ...(spec.offline
      ? {
          offline: {
            rows: spec.offline.rows,
            deadlineMs: spec.offline.deadline,
            rowsPerRequest: spec.offline.rowsPerRequest,
            ...(spec.offline.batch ? { batch: { sizes: spec.offline.batch.sizes, upTo: spec.offline.batch.upTo } } : {}),
            maxInstances: spec.offline.maxInstances,
          },
        }
      : {}),
    ...(input.selection.recommended ? { recommended: input.selection.recommended } : {}),
    ...(input.selection.confidenceNote ? { confidenceNote: input.selection.confidenceNote } : {}),
    ...(input.selection.measurementNote ? { measurementNote: input.selection.measurementNote } : {}),
    ...(input.selection.incompleteNote ? { incompleteNote: input.selection.incompleteNote } : {}),
    ...(input.selection.noRecommendationNote ? { noRecommendationNote: input.selection.noRecommendationNote } : {}),
    search: searchSummary(input.sweep, input.records, input.selection),
    frontier: input.selection.frontier,
    ...pricingOf(input.sweep),
    candidates: input.selection.candidates.map((verdict) => {
      const record = byId.get(verdict.id);
      const { id: _id, group: _group, kind, ...configuration } = record?.candidate ?? { id: verdict.id, group: 0, kind: 'unknown' };
      return {
        ...verdict,
        kind,
        configuration,
        phases: (record?.phases ?? []).map((p) => phaseRow(p, spec.slo.percentile)),
        ...(record?.teardownError ? { teardownError: record.teardownError } : {}),
        ...(record?.notSpent ? { notSpent: record.notSpent } : {}),
        ...(verdict.monthlyCostUsd === undefined && verdict.costPerHourUsd !== undefined
          ? { oneInstanceMonthlyUsd: round(verdict.costPerHourUsd * hoursPerMonth, 2) }
          : {}),
      };
    }),
    spec: input.sweep.spec,
  };
}

const CSV_COLUMNS = [
  'candidate',
  'kind',
  'status',
  'recommended',
  'feasible',
  'on_frontier',
  'slo_latency_ms',
  'max_rps_within_slo',
  'instances',
  'monthly_cost_usd',
  'cost_per_million_inferences_usd',
  'cost_per_million_output_tokens_usd',
  'output_tokens_per_second',
  'on_demand_monthly_cost_usd',
  'price_source',
  'quality_metric',
  'quality',
  'quality_low',
  'quality_high',
  'quality_call',
  'job_rows_per_second',
  'job_rows_per_second_low',
  'job_rows_per_second_high',
  'job_knee_concurrency',
  'job_seconds',
  'job_usd',
  'job_usd_per_million_rows',
  'phase',
  'phase_mode',
  'phase_rate',
  'phase_concurrency',
  'phase_requests',
  'phase_achieved_rps',
  'phase_error_rate',
  'phase_errors',
  'phase_slo_latency_ms',
  'phase_p50_ms',
  'phase_p99_ms',
  'phase_ttft_p95_ms',
  'phase_itl_p95_ms',
  'phase_output_tokens',
  'reason',
] as const;

/** RFC 4180: quoted when it holds a comma, quote or line break. */
const csvCell = (value: unknown): string => {
  const text = value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** `results.csv`: one row per candidate and phase (a candidate with no phase has one row). */
export function resultsCsv(results: SweepResults): string {
  const rows = results.candidates.flatMap((c) => {
    const verdict = [
      c.id,
      c.kind,
      c.status,
      c.recommended,
      c.feasible,
      c.onFrontier,
      c.sloLatencyMs,
      c.maxRpsWithinSlo,
      c.instances,
      c.monthlyCostUsd,
      c.costPerMillionInferencesUsd,
      c.costPerMillionOutputTokensUsd,
      c.outputTokensPerSecond,
      c.onDemandMonthlyCostUsd,
      c.priceSources?.map(describeSource).join('; '),
      c.quality?.metric,
      c.quality?.value,
      c.quality?.interval?.[0],
      c.quality?.interval?.[1],
      c.quality?.call,
      c.job?.saturation.rowsPerSecond,
      c.job?.saturation.interval[0],
      c.job?.saturation.interval[1],
      c.job?.saturation.knee,
      c.job?.estimate?.seconds,
      c.job?.estimate?.usd,
      c.job?.estimate?.usdPerMillionRows,
    ];
    const phases = c.phases.length > 0 ? c.phases : [undefined];
    return phases.map((p) => [
      ...verdict,
      p?.name,
      p?.mode,
      p?.rate,
      p?.concurrency,
      p?.requests,
      p?.achievedRps,
      p?.errorRate,
      p ? errorKinds(p.errors) : undefined,
      p?.sloLatencyMs,
      p?.p50Ms,
      p?.p99Ms,
      p?.tokens?.ttftP95Ms,
      p?.tokens?.itlP95Ms,
      p?.tokens?.outputTokens,
      c.reason,
    ]);
  });
  return [CSV_COLUMNS, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
