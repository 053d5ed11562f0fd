import { ModelsweepError } from '../errors';
import { busiestOf } from './busy-processes';
import type { GeneratorHealth, PhaseValidity } from './generator-health';
import { LatencyHistogram, type LatencySummary } from './histogram';
import { GENERATOR_LIMIT_FRACTION, type PhaseResult, type TokenResults, tokenResults } from './phase';

/**
 * One phase's result from the results of several generators that ran it side by side (each at
 * its share of the rate or concurrency). Counts add up and the latency histograms merge exactly,
 * so percentiles are those of every request, not an average of percentiles. Cold-start and billed
 * summaries are kept as a count-weighted mean of the shards' (they carry no histogram).
 */
export function mergePhaseResults(shards: readonly PhaseResult[]): PhaseResult {
  if (shards.length === 0) throw new ModelsweepError('invalid-input', 'no generator results to merge');
  if (shards.length === 1) return shards[0]!;
  const first = shards[0]!;
  const sum = (f: (p: PhaseResult) => number) => shards.reduce((total, p) => total + f(p), 0);
  const histogram = LatencyHistogram.merge(shards.map((s) => s.histogram));
  const errors: Record<string, number> = {};
  for (const shard of shards) for (const [key, n] of Object.entries(shard.errors)) errors[key] = (errors[key] ?? 0) + n;
  const requests = sum((p) => p.requests);
  const completed = sum((p) => p.successes + p.errorCount);
  const errorCount = sum((p) => p.errorCount);
  const refused = sum((p) => p.refusedByGenerator ?? 0);
  const lateSends = sum((p) => p.lateSends);
  const startedAt = shards.map((s) => s.startedAt).sort()[0]!;
  const stopped = shards.find((s) => s.stoppedEarly)?.stoppedEarly;
  const coldShards = shards.filter((s) => s.coldStarts);
  const billedShards = shards.filter((s) => s.billedDurationMs);
  return {
    name: first.name,
    mode: first.mode,
    ...(first.mode === 'open' ? { rate: sum((p) => p.rate ?? 0), arrivals: first.arrivals } : { concurrency: sum((p) => p.concurrency ?? 0) }),
    plannedDurationMs: first.plannedDurationMs,
    startedAt,
    durationMs: Math.max(...shards.map((s) => s.durationMs)),
    requests,
    ...(refused > 0 ? { refusedByGenerator: refused } : {}),
    successes: histogram.count,
    errors: Object.fromEntries(Object.entries(errors).sort(([a], [b]) => a.localeCompare(b))),
    errorCount,
    errorRate: completed === 0 ? 0 : errorCount / completed,
    // Each generator's rate over its own time: side by side, they add up.
    achievedRps: sum((p) => p.achievedRps),
    lateSends,
    maxLatenessMs: Math.max(...shards.map((s) => s.maxLatenessMs)),
    generatorLimited: first.mode === 'open' && requests > 0 && lateSends / requests > GENERATOR_LIMIT_FRACTION,
    ...(stopped ? { stoppedEarly: stopped } : {}),
    ...(shards.some((s) => s.extended) ? { extended: true } : {}),
    ...optional('sloWindowsMs', mergedWindows(shards.map((s) => s.sloWindowsMs))),
    ...optional('windowSuccesses', summedWindows(shards.map((s) => s.windowSuccesses))),
    latencyMs: histogram.summary(),
    histogram: histogram.encode(),
    ...(coldShards.length > 0
      ? {
          coldStarts: {
            count: coldShards.reduce((n, s) => n + s.coldStarts!.count, 0),
            latencyMs: weightedSummary(coldShards.map((s) => s.coldStarts!.latencyMs)),
            initMs: weightedSummary(coldShards.map((s) => s.coldStarts!.initMs)),
            warmLatencyMs: weightedSummary(coldShards.map((s) => s.coldStarts!.warmLatencyMs)),
          },
        }
      : {}),
    ...(billedShards.length > 0 ? { billedDurationMs: weightedSummary(billedShards.map((s) => s.billedDurationMs!)) } : {}),
    ...mergedTokens(shards),
    ...mergedHealth(shards),
  };
}

/**
 * The generators ran side by side, so their windows cover the same stretches of the target's time:
 * a window's percentile is the mean of theirs (counting each generator's windows as batches of
 * their own would take a stall that all of them saw for several independent ones). Where their
 * windows do not line up, the generator with the most windows speaks for the phase.
 */
function mergedWindows(perShard: readonly (readonly number[] | undefined)[]): number[] | undefined {
  const windowed = perShard.flatMap((w) => (w ? [w] : []));
  if (windowed.length === 0) return undefined;
  const length = windowed[0]!.length;
  if (windowed.length === perShard.length && windowed.every((w) => w.length === length))
    return windowed[0]!.map((_, i) => windowed.reduce((sum, w) => sum + w[i]!, 0) / windowed.length);
  return [...windowed.reduce((a, b) => (b.length > a.length ? b : a))];
}

/** Side by side, the generators' successes in one window add up (over the windows all of them have whole). */
function summedWindows(perShard: readonly (readonly number[] | undefined)[]): number[] | undefined {
  if (perShard.some((w) => w === undefined)) return undefined;
  const length = Math.min(...perShard.map((w) => w!.length));
  return Array.from({ length }, (_, i) => perShard.reduce((sum, w) => sum + w![i]!, 0));
}

const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));

/** Token histograms merge exactly, as latencies do; counts and rates add up (the generators ran side by side). */
function mergedTokens(shards: readonly PhaseResult[]): Pick<PhaseResult, 'tokens'> {
  const streamed = shards.flatMap((s) => (s.tokens ? [s.tokens] : []));
  if (streamed.length === 0) return {};
  const merged = tokenResults({
    ttft: LatencyHistogram.merge(streamed.map((t) => t.timeToFirstTokenHistogram)),
    itl: LatencyHistogram.merge(streamed.map((t) => t.interTokenHistogram)),
    outputTokens: streamed.reduce((n, t) => n + t.outputTokens, 0),
    outputTokensPerSecond: streamed.reduce((n, t) => n + t.outputTokensPerSecond, 0),
    countedBy: streamed.map((t) => t.countedBy),
  });
  const windows = (f: (t: TokenResults) => number[] | undefined) => mergedWindows(shards.map((s) => (s.tokens ? f(s.tokens) : undefined)));
  return {
    tokens: {
      ...merged,
      ...optional(
        'timeToFirstTokenWindowsMs',
        windows((t) => t.timeToFirstTokenWindowsMs),
      ),
      ...optional(
        'interTokenWindowsMs',
        windows((t) => t.interTokenWindowsMs),
      ),
    },
  };
}

/** The worst any generator saw: one struggling generator's share of the requests is enough to skew a percentile. */
function mergedHealth(shards: readonly PhaseResult[]): Pick<PhaseResult, 'health' | 'validity'> {
  const healths = shards.flatMap((s) => (s.health ? [s.health] : []));
  const worst = (f: (h: GeneratorHealth) => number) => Math.max(...healths.map(f));
  const others = healths.filter((h) => h.otherProcessesCores !== undefined);
  const waits = healths.flatMap((h) => (h.targetRunQueueWaitMs !== undefined ? [h.targetRunQueueWaitMs] : []));
  const generatorWaits = healths.flatMap((h) => (h.generatorWaitShare !== undefined ? [h.generatorWaitShare] : []));
  const health: GeneratorHealth | undefined =
    healths.length === 0
      ? undefined
      : {
          latenessP99Ms: worst((h) => h.latenessP99Ms),
          eventLoopDelayP99Ms: worst((h) => h.eventLoopDelayP99Ms),
          generatorCores: worst((h) => h.generatorCores),
          ...(others.length > 0 ? { otherProcessesCores: Math.max(...others.map((h) => h.otherProcessesCores!)) } : {}),
          ...(others[0]?.targetCores ? { targetCores: others[0].targetCores } : {}),
          machineCores: worst((h) => h.machineCores),
          ...optional('targetRunQueueWaitMs', waits.length > 0 ? Math.max(...waits) : undefined),
          ...optional('generatorWaitShare', generatorWaits.length > 0 ? Math.max(...generatorWaits) : undefined),
          ...optional('busyProcesses', busiestOf(healths.flatMap((h) => h.busyProcesses ?? []))),
        };
  const validities = shards.flatMap((s) => (s.validity ? [s.validity] : []));
  const reasons = [...new Set(validities.flatMap((v) => (v.valid ? [] : [v.reason ?? 'inconclusive'])))];
  // One generator's share of the requests that missed even less the noise is the target's miss, whatever the others saw.
  const note = validities.find((v) => v.note)?.note;
  const validity: PhaseValidity | undefined =
    validities.length === 0
      ? undefined
      : note
        ? { valid: true, note }
        : reasons.length === 0
          ? { valid: true }
          : { valid: false, reason: reasons.join('; ') };
  return { ...(health ? { health } : {}), ...(validity ? { validity } : {}) };
}

function weightedSummary(summaries: readonly LatencySummary[]): LatencySummary {
  const count = summaries.reduce((n, s) => n + s.count, 0);
  const mean = (f: (s: LatencySummary) => number) => (count === 0 ? 0 : summaries.reduce((total, s) => total + f(s) * s.count, 0) / count);
  return {
    count,
    min: Math.min(...summaries.map((s) => s.min)),
    mean: mean((s) => s.mean),
    p50: mean((s) => s.p50),
    p90: mean((s) => s.p90),
    p95: mean((s) => s.p95),
    p99: mean((s) => s.p99),
    p999: mean((s) => s.p999),
    max: Math.max(...summaries.map((s) => s.max)),
  };
}
