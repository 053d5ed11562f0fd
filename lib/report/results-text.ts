import { describeSource } from '../cost/price-book';
import { formatDurationMs, formatQuality, formatUsd, formatUsdPrecise, percentileLabel } from '../format/format';
import { type Align, textTable } from '../format/text-table';
import { tokenBounds } from '../load/slo-bounds';
import type { CandidateQuality } from '../select/select';
import type { SweepResults } from './sweep-results';

/** A measured range, or one number when the measurements pin it down. */
const range = ([low, high]: readonly [number, number], digits: number) =>
  low.toFixed(digits) === high.toFixed(digits) ? low.toFixed(digits) : `${low.toFixed(digits)}–${high.toFixed(digits)}`;

const fixed = (value: number | undefined, digits: number) => (value !== undefined ? value.toFixed(digits) : '-');

/** A quality figure with its interval: `0.912 (0.897–0.925)`. */
const qualityCell = (q: CandidateQuality | undefined) =>
  q?.value === undefined
    ? '-'
    : q.interval && q.interval[0] !== q.interval[1]
      ? `${formatQuality(q.value)} (${formatQuality(q.interval[0])}–${formatQuality(q.interval[1])})`
      : formatQuality(q.value);

/** An offline sweep's table: each candidate's throughput at saturation, and the job on it. */
function offlineTable(results: SweepResults): { header: string[]; rows: string[][] } {
  const seconds = (s: number) => formatDurationMs(s * 1000);
  const header = ['candidate', 'kind', 'status', 'rows/s (95% interval)', 'knee', 'instances', 'job time', 'job $', '$/M rows'];
  const rows = results.candidates.map((c) => {
    const sat = c.job?.saturation;
    const job = c.job?.estimate;
    return [
      `${c.recommended ? '* ' : '  '}${c.id}`,
      c.kind,
      c.status,
      sat ? `${sat.rowsPerSecond.toFixed(0)} (${range(sat.interval, 0)})` : '-',
      sat ? `${sat.knee}${c.job?.batch ? ` (batch ${c.job.batch})` : ''}` : '-',
      job?.unit === 'invocations' ? `${job.instances} at once` : c.instances !== undefined ? String(c.instances) : '-',
      job ? `${seconds(job.seconds)} (${seconds(job.secondsRange[0])}–${seconds(job.secondsRange[1])})` : '-',
      job ? `${formatUsdPrecise(job.usdRange[0])}–${formatUsdPrecise(job.usdRange[1])}` : '-',
      job ? formatUsdPrecise(job.usdPerMillionRows) : '-',
    ];
  });
  return { header, rows };
}

/** A sweep's results as the CLI prints them: one row per candidate, then the recommendation. */
export function resultsText(results: SweepResults): string {
  if (results.offline) return withVerdicts(results, offlineTable(results));
  // Token columns where the SLO bounds tokens or something streamed them.
  const bounded = tokenBounds(results.slo).map((b) => ({
    metric: b.metric,
    title: `${percentileLabel(b.percentile)} ${b.metric === 'timeToFirstToken' ? 'TTFT' : 'ITL'} ms`,
  }));
  const streamed = results.candidates.some((c) => c.phases.some((p) => p.tokens));
  const qualityMetric = results.candidates.find((c) => c.quality)?.quality?.metric;
  const header = [
    'candidate',
    'kind',
    'status',
    `p${results.slo.percentile} ms`,
    ...bounded.map((b) => b.title),
    'rps within SLO',
    'instances',
    '$/month',
    '$/month range',
    '$/M inferences',
    ...(streamed ? ['tokens/s', '$/M out tokens'] : []),
    ...(qualityMetric ? [`${qualityMetric} (95% interval)`] : []),
  ];
  const rows = results.candidates.map((c) => [
    `${c.recommended ? '* ' : '  '}${c.id}`,
    c.kind,
    c.status,
    fixed(c.sloLatencyMs, 1),
    ...bounded.map((b) => fixed(c.tokenLatenciesMs?.[b.metric], 1)),
    c.maxRpsWithinSlo !== undefined ? range(c.maxRpsWithinSloRange ?? [c.maxRpsWithinSlo, c.maxRpsWithinSlo], 0) : '-',
    c.instances !== undefined ? range(c.instancesRange ?? [c.instances, c.instances], 0) : '-',
    fixed(c.monthlyCostUsd, 2),
    c.monthlyCostRangeUsd !== undefined ? range(c.monthlyCostRangeUsd, 2) : '-',
    fixed(c.costPerMillionInferencesUsd, 3),
    ...(streamed ? [fixed(c.outputTokensPerSecond, 0), fixed(c.costPerMillionOutputTokensUsd, 3)] : []),
    ...(qualityMetric ? [qualityCell(c.quality)] : []),
  ]);
  return withVerdicts(results, { header, rows });
}

/** The table, each row ending in its verdict, then the recommendation and the notes. */
function withVerdicts(results: SweepResults, table: { header: string[]; rows: string[][] }): string {
  const header = [...table.header, 'verdict'];
  const rows = table.rows.map((row, i) => {
    const c = results.candidates[i]!;
    return [...row, c.reason + (c.teardownError ? ` (teardown left something behind: ${c.teardownError})` : '')];
  });
  const align = header.map((_, i): Align => (i < 3 || i === header.length - 1 ? 'left' : 'right'));
  const out = [`sweep ${results.sweepId} (model ${results.model}): ${results.status}`, '', ...textTable([header, ...rows], { align }), ''];
  const best = results.candidates.find((c) => c.recommended);
  out.push(
    best
      ? `recommendation: ${best.id} — ${best.reason.replace(/^recommended: /, '')}`
      : `recommendation: ${results.measurementNote ?? (results.incompleteNote ? `none: ${results.incompleteNote}` : (results.noRecommendationNote ?? 'none of the candidates meets the SLO'))}`,
  );
  if (results.confidenceNote) out.push(`note: ${results.confidenceNote}`);
  const search = searchLine(results);
  if (search) out.push(search);
  for (const p of results.search?.predictions ?? [])
    out.push(
      `guided: ${p.id} was predicted ${p.predictedRps.toFixed(0)} rps from ${p.from}, measured ${p.measuredRps.toFixed(0)} rps (${p.measuredRps >= p.predictedRps ? '+' : ''}${((p.measuredRps / p.predictedRps - 1) * 100).toFixed(0)}%)`,
    );
  out.push(...pricingLines(results));
  const tokensNote = forecastTokensNote(results);
  if (tokensNote) out.push(`note: ${tokensNote}`);
  if (best && results.incompleteNote) out.push(`note: ${results.incompleteNote}`);
  return out.join('\n');
}

/**
 * Where the prices came from (each source once), the commitment with what it saves against on
 * demand, and what was wrong with the prices.
 */
export function pricingLines(results: SweepResults): string[] {
  const sources = [...new Set(results.candidates.flatMap((c) => (c.priceSources ?? []).map(describeSource)))];
  const lines = sources.map((s) => `prices: ${s}`);
  const given = results.candidates.filter((c) => !c.priceSources?.length && c.costPerHourUsd !== undefined).map((c) => c.id);
  if (given.length > 0) lines.push(`prices: costPerHour given in the spec (${given.join(', ')})`);
  const commitment = results.pricing?.commitment;
  if (commitment && commitment !== 'on-demand') {
    const best = results.candidates.find((c) => c.recommended) ?? results.candidates.find((c) => c.onDemandMonthlyCostUsd !== undefined);
    lines.push(
      best?.onDemandMonthlyCostUsd !== undefined && best.monthlyCostUsd !== undefined
        ? `commitment: ${commitment}; ${best.id} costs $${best.monthlyCostUsd.toFixed(2)}/month under it, $${best.onDemandMonthlyCostUsd.toFixed(2)} on demand`
        : `commitment: ${commitment}`,
    );
  }
  return [...lines, ...(results.pricing?.warnings ?? []).map((w) => `warning: ${w}`)];
}

/**
 * A forecast given in output tokens is sized in requests at the prompts' maxTokens a request: when a
 * candidate streamed fewer (a model that stops before maxTokens), its real request rate at that
 * forecast is higher than it was sized for, and the results say so.
 */
function forecastTokensNote(results: SweepResults): string | undefined {
  const tokens = results.traffic?.outputTokens;
  if (!tokens || !results.traffic) return undefined;
  const off = results.candidates.flatMap((c) => {
    const streamed = c.phases.reduce((n, p) => n + (p.tokens?.outputTokens ?? 0), 0);
    const answered = c.phases.reduce((n, p) => n + (p.tokens ? p.requests - Object.values(p.errors).reduce((a, b) => a + b, 0) : 0), 0);
    if (answered === 0) return [];
    const perRequest = streamed / answered;
    return Math.abs(perRequest - tokens.perRequest) > 0.1 * tokens.perRequest ? [`${c.id} streamed ${perRequest.toFixed(1)}`] : [];
  });
  const sized = `the forecast of ${tokens.peakPerSecond.toLocaleString('en-US')} output tokens/s at peak is sized as ${results.traffic.peakRps.toFixed(1)} rps, at ${tokens.perRequest.toFixed(1)} tokens a request (the prompts' maxTokens)`;
  return off.length > 0
    ? `${sized}; but ${off.join(', ')} tokens a request on average, so ${off.length > 1 ? 'they' : 'it'} would see more requests (or fewer) than sized for`
    : sized;
}

/** What the candidate search saved, when it skipped anything: `search: deployed 4 of 8 candidates (prune); …`. */
export function searchLine(results: SweepResults): string | undefined {
  const s = results.search;
  if (!s || s.skipped === 0) return undefined;
  const usd = s.notSpentUsd >= 0.01 ? `${formatUsd(s.notSpentUsd)} and ` : '';
  return `search: deployed ${s.deployed} of ${s.grid} candidates (${s.mode}); skipping ${s.skipped} saved about ${usd}${formatDurationMs(s.notSpentHours * 3_600_000)} of deploying and load`;
}
