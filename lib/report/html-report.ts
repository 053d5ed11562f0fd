import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { describeSource } from '../cost/price-book';
import { errorKinds, formatDurationMs, formatMs, formatQuality, formatUsd, formatUsdPrecise, percentileLabel } from '../format/format';
import { boundText, sloCall, tokenBounds } from '../load/slo-bounds';
import { qualitySloText } from '../quality/quality-verdict';
import { pricingLines, searchLine } from './results-text';
import type { CandidateResult, SweepResults } from './sweep-results';

/** Chart.js's UMD build, inlined so the report opens anywhere, offline, with no CDN. */
let chartLibrary: string | undefined;
// The package exports only its module builds; the UMD file sits beside the CommonJS one.
const chartJs = () => (chartLibrary ??= readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8'));

const escapeHtml = (text: unknown) =>
  String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** JSON inside a <script> element: nothing in it can close the element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
const usd = (n: number | undefined) => (n === undefined ? '–' : formatUsd(n));
const msText = (n: number | undefined) => (n === undefined ? '–' : formatMs(n));

/** The forecast as sized, and as given when it was in output tokens. */
function forecast(results: SweepResults): string {
  if (!results.traffic) {
    const job = results.offline!;
    return `an offline job of ${job.rows.toLocaleString('en-US')} rows within ${formatDurationMs(job.deadlineMs)}, on at most ${job.maxInstances} instances`;
  }
  const { averageRps, peakRps, outputTokens } = results.traffic;
  const rps = `${+averageRps.toFixed(2)} rps average, ${+peakRps.toFixed(2)} rps peak`;
  return outputTokens
    ? `${outputTokens.averagePerSecond} output tokens/s average, ${outputTokens.peakPerSecond} peak (${rps}, at ${+outputTokens.perRequest.toFixed(1)} tokens a request)`
    : rps;
}

/** What the charts plot, computed here so the page's script only draws. */
export function chartData(results: SweepResults) {
  const plotted = (c: CandidateResult) => c.sloLatencyMs !== undefined && (c.monthlyCostUsd ?? c.oneInstanceMonthlyUsd) !== undefined;
  const point = (c: CandidateResult) => ({
    x: c.sloLatencyMs!,
    y: (c.monthlyCostUsd ?? c.oneInstanceMonthlyUsd)!,
    id: c.id,
    recommended: c.recommended,
  });
  const frontier = results.candidates
    .filter((c) => c.onFrontier && plotted(c))
    .map(point)
    .sort((a, b) => a.x - b.x);
  return {
    pareto: {
      feasible: results.candidates.filter((c) => c.feasible && plotted(c)).map(point),
      infeasible: results.candidates.filter((c) => !c.feasible && plotted(c)).map(point),
      frontier,
      notPlotted: results.candidates.filter((c) => !plotted(c)).map((c) => ({ id: c.id, why: c.reason })),
    },
    percentiles: results.candidates
      .filter((c) => c.phases.length > 0)
      .map((c) => ({
        id: c.id,
        phase: c.phases[0].name,
        p50: c.phases[0].p50Ms,
        p90: c.phases[0].p90Ms,
        p99: c.phases[0].p99Ms,
        p999: c.phases[0].p999Ms,
      })),
    throughput: results.candidates
      .filter((c) => c.phases.length > 0)
      .map((c) => ({
        id: c.id,
        points: [...c.phases].sort((a, b) => a.achievedRps - b.achievedRps).map((p) => ({ x: p.achievedRps, y: p.sloLatencyMs, phase: p.name })),
      })),
    cost: results.candidates
      .filter((c) => c.monthlyCostUsd !== undefined)
      .map((c) => ({ id: c.id, monthlyCostUsd: c.monthlyCostUsd!, instances: c.instances ?? 1 })),
    quality: {
      metric: results.quality?.metric,
      bound: qualityBound(results),
      points: results.candidates
        .filter((c) => c.quality?.value !== undefined && (c.monthlyCostUsd ?? c.oneInstanceMonthlyUsd) !== undefined)
        .map((c) => ({
          id: c.id,
          x: c.quality!.value!,
          low: c.quality!.interval?.[0] ?? c.quality!.value!,
          high: c.quality!.interval?.[1] ?? c.quality!.value!,
          y: (c.monthlyCostUsd ?? c.oneInstanceMonthlyUsd)!,
          call: c.quality!.call,
          recommended: c.recommended,
        })),
    },
    offline: {
      deadlineMinutes: results.offline ? results.offline.deadlineMs / 60_000 : undefined,
      curves: results.candidates
        .filter((c) => c.job)
        .map((c) => ({
          id: c.id,
          points: c.job!.saturation.curve.map((p) => ({ x: p.concurrency, y: p.rowsPerSecond, low: p.interval[0], high: p.interval[1] })),
        })),
      jobs: results.candidates
        .filter((c) => c.job?.estimate)
        .map((c) => ({
          id: c.id,
          x: c.job!.estimate!.seconds / 60,
          y: c.job!.estimate!.usdPerMillionRows,
          usd: c.job!.estimate!.usd,
          instances: c.job!.estimate!.unit === 'invocations' ? `${c.job!.estimate!.instances} at once` : c.instances,
          recommended: c.recommended,
        })),
    },
    tokens: results.candidates
      .filter((c) => c.outputTokensPerSecond !== undefined && c.costPerMillionOutputTokensUsd !== undefined)
      .map((c) => ({ id: c.id, x: c.outputTokensPerSecond!, y: c.costPerMillionOutputTokensUsd!, recommended: c.recommended })),
    sloLatencyMs: results.slo.latencyMs,
    percentile: results.slo.percentile,
  };
}

function phaseRows(results: SweepResults): string {
  const slo = results.slo.latencyMs;
  return results.candidates
    .flatMap((c) =>
      c.phases.map((p) => {
        const [low, high] = p.sloLatencyIntervalMs ?? [p.sloLatencyMs, p.sloLatencyMs];
        const call = sloCall([low, high], slo);
        const others = p.generator?.otherProcessesCores;
        const where = p.generator?.targetCores ? ` on core ${p.generator.targetCores.join(',')}` : '';
        return (
          `<tr><td>${escapeHtml(c.id)}</td><td>${escapeHtml(p.name)}</td><td class="num">${p.achievedRps.toFixed(1)}</td>` +
          `<td class="num">${(p.durationMs / 1000).toFixed(1)} s${p.extended ? ' (run on)' : ''}</td>` +
          `<td class="num">${p.sloLatencyMs.toFixed(1)}</td><td class="num">${low.toFixed(1)}–${high.toFixed(1)}: ${call}</td>` +
          `<td class="num">${(p.errorRate * 100).toFixed(2)}%${p.errorRate > 0 ? ` (${escapeHtml(errorKinds(p.errors))})` : ''}</td>` +
          `<td class="num">${p.generator ? `${p.generator.latenessP99Ms.toFixed(1)} / ${p.generator.eventLoopDelayP99Ms.toFixed(1)}${p.generator.waitShare !== undefined ? `; waited ${(p.generator.waitShare * 100).toFixed(0)}%` : ''}` : '–'}</td>` +
          `<td class="num">${others !== undefined ? `${others.toFixed(2)}${where}` : '–'}${p.generator?.busyProcesses ? `<br>${escapeHtml(p.generator.busyProcesses)}` : ''}</td>` +
          `<td>${p.validity === 'inconclusive' ? `inconclusive: ${escapeHtml(p.inconclusiveReason ?? '')}` : `${p.validity}${p.validityNote ? `: ${escapeHtml(p.validityNote)}` : ''}`}</td></tr>`
        );
      }),
    )
    .join('\n');
}

function candidateRows(results: SweepResults): string {
  return results.candidates
    .map(
      (c) => `<tr class="${c.recommended ? 'recommended' : c.feasible ? '' : 'infeasible'}">
  <td>${c.recommended ? '★ ' : ''}${escapeHtml(c.id)}</td><td>${escapeHtml(c.kind)}</td><td>${escapeHtml(c.status)}</td>
  <td class="num">${msText(c.sloLatencyMs)}</td><td class="num">${c.maxRpsWithinSlo === undefined ? '–' : c.maxRpsWithinSlo.toFixed(0)}</td>
  <td class="num">${c.instances ?? '–'}</td><td class="num">${usd(c.monthlyCostUsd)}</td>
  <td class="num">${c.costPerMillionInferencesUsd === undefined ? '–' : `$${c.costPerMillionInferencesUsd.toFixed(3)}`}</td>${
    results.quality ? `<td class="num">${c.quality?.value === undefined ? '–' : formatQuality(c.quality.value)}</td>` : ''
  }
  <td>${escapeHtml(c.reason)}${c.teardownError ? `<br><em>teardown: ${escapeHtml(c.teardownError)}</em>` : ''}</td></tr>`,
    )
    .join('\n');
}

function costRows(results: SweepResults): string {
  const committed = results.pricing !== undefined && results.pricing.commitment !== 'on-demand';
  return results.candidates
    .filter((c) => c.monthlyCostUsd !== undefined)
    .map(
      (c) => `<tr><td>${escapeHtml(c.id)}</td><td class="num">${c.instances ?? 1}</td>
  <td class="num">${c.costPerHourUsd === undefined ? 'per request' : `$${c.costPerHourUsd.toFixed(3)}`}</td>
  <td class="num">${usd(c.monthlyCostUsd)}</td>${committed ? `<td class="num">${usd(c.onDemandMonthlyCostUsd)}</td>` : ''}
  <td class="num">${c.costPerMillionInferencesUsd === undefined ? '–' : `$${c.costPerMillionInferencesUsd.toFixed(3)}`}</td>
  <td class="num">${c.costPerMillionOutputTokensUsd === undefined ? '–' : `$${c.costPerMillionOutputTokensUsd.toFixed(3)}`}</td>
  <td>${c.priceSources?.length ? escapeHtml(c.priceSources.map(describeSource).join('; ')) : 'given in the spec'}</td></tr>`,
    )
    .join('\n');
}

/** The commitment and the warnings about prices, under the cost table (the sources are in it). */
function pricingNotes(results: SweepResults): string {
  const notes = pricingLines(results).filter((line) => !line.startsWith('prices: '));
  return notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('');
}

/** Streamed phases (generative endpoints): time to first token, inter-token latency and tokens; nothing when no phase streamed. */
/** A real-time sweep's charts and cost table: cost against latency, percentiles, throughput against latency. */
function realtimeSections(results: SweepResults): string {
  return `<h2>Monthly cost against ${percentileLabel(results.slo.percentile)} latency</h2>
<p class="meta">Each candidate at the load each instance carries at the forecast peak. The line is the cost/latency frontier; crosses miss the SLO (placed at one instance for a month); the dashed line is the SLO.</p>
<div class="chart"><canvas id="pareto" role="img" aria-label="Pareto chart of monthly cost against SLO latency"></canvas></div>
<p id="not-plotted" class="meta"></p>

<h2>Latency percentiles</h2>
<div class="chart"><canvas id="percentiles" role="img" aria-label="Latency percentiles per candidate"></canvas></div>

<h2>Throughput against ${percentileLabel(results.slo.percentile)} latency, across phases</h2>
<div class="chart"><canvas id="throughput" role="img" aria-label="Throughput against latency"></canvas></div>

<h2>Cost</h2>
<table><thead><tr><th>candidate</th><th class="num">instances at peak</th><th class="num">$/instance-hour</th><th class="num">$/month${results.pricing && results.pricing.commitment !== 'on-demand' ? ` (${escapeHtml(results.pricing.commitment)})</th><th class="num">$/month on demand` : ''}</th><th class="num">$/M inferences</th><th class="num">$/M output tokens</th><th>prices from</th></tr></thead>
<tbody>${costRows(results)}</tbody></table>${pricingNotes(results)}
`;
}

/** An offline sweep's section: throughput against concurrency, cost per million rows against the job's time, and a table. */
function offlineSection(results: SweepResults): string {
  const job = results.offline!;
  const time = (seconds: number) => formatDurationMs(seconds * 1000);
  const rows = results.candidates
    .filter((c) => c.job)
    .map((c) => {
      const { saturation, estimate } = c.job!;
      const rate = (r: number) => r.toFixed(0);
      return `<tr class="${c.recommended ? 'recommended' : c.feasible ? '' : 'infeasible'}"><td>${escapeHtml(c.id)}</td><td class="num">${rate(saturation.rowsPerSecond)}</td><td class="num">${rate(saturation.interval[0])}–${rate(saturation.interval[1])}</td><td class="num">${saturation.knee}${c.job!.batch ? ` (batch ${c.job!.batch})` : ''}</td><td>${escapeHtml(saturation.stoppedBecause)}${saturation.remeasured ? ` (${saturation.remeasured} measured again, longer, for a narrower interval)` : ''}</td><td class="num">${estimate?.unit === 'invocations' ? `${estimate.instances} at once` : (c.instances ?? '–')}</td><td class="num">${estimate ? `${time(estimate.seconds)} (${time(estimate.secondsRange[0])}–${time(estimate.secondsRange[1])})` : '–'}</td><td class="num">${estimate ? formatUsdPrecise(estimate.usd) : '–'}</td><td class="num">${estimate ? formatUsdPrecise(estimate.usdPerMillionRows) : '–'}</td></tr>`;
    })
    .join('\n');
  return `<h2>Throughput against concurrency</h2>
<p class="meta">Each candidate closed-loop at doubling concurrency, ${job.batch ? `at each batch size (${job.batch.sizes ? `${job.batch.sizes.join(', ')} rows a request` : `doubling from 1 row a request, up to ${job.batch.upTo}, until throughput stopped growing`}; its cheapest shown)` : `${job.rowsPerRequest} row${job.rowsPerRequest === 1 ? '' : 's'} a request`}, until doubling added under its minimum gain: the knee is where throughput stops growing. Bars are 95% intervals (batch means over each step's time windows).</p>
<div class="chart"><canvas id="offline-throughput" role="img" aria-label="Rows per second against concurrency"></canvas></div>
<h2>Cost per million rows against the job's time</h2>
<p class="meta">${job.rows.toLocaleString('en-US')} rows on the fewest instances that end by the deadline (the dashed line) at the low end of the throughput's interval, start-up included.</p>
<div class="chart"><canvas id="offline-jobs" role="img" aria-label="Cost per million rows against job time"></canvas></div>
<table id="offline"><thead><tr><th>candidate</th><th class="num">rows/s</th><th class="num">95% interval</th><th class="num">knee</th><th>stopped because</th><th class="num">instances</th><th class="num">job time</th><th class="num">job $</th><th class="num">$/M rows</th></tr></thead>
<tbody>${rows}</tbody></table>
`;
}

/** The quality section: each candidate's score with its interval against the bound, and cost against quality. */
function qualitySection(results: SweepResults): string {
  const q = results.quality;
  if (!q) return '';
  const rows = results.candidates
    .filter((c) => c.quality)
    .map((c) => {
      const v = c.quality!;
      const interval = v.interval && v.interval[0] !== v.interval[1] ? `${formatQuality(v.interval[0])}–${formatQuality(v.interval[1])}` : '–';
      return `<tr class="${v.call === 'meets' ? '' : 'infeasible'}"><td>${escapeHtml(c.id)}</td><td class="num">${v.value === undefined ? '–' : formatQuality(v.value)}</td><td class="num">${interval}</td><td class="num">${v.examples}</td><td>${escapeHtml(v.call)}</td><td class="num">${usd(c.monthlyCostUsd ?? c.oneInstanceMonthlyUsd)}</td><td>${escapeHtml(v.text)}</td></tr>`;
    })
    .join('\n');
  return `
<h2>Quality</h2>
<p class="meta">Each candidate's answers to the quality dataset, sent through its endpoint apart from the load phases and scored: ${escapeHtml(qualitySloText(q))}, with its whole 95% interval; an interval astride the bound is too close to call.</p>
<h3>Cost against ${escapeHtml(q.metric)}</h3>
<div class="chart"><canvas id="quality-cost" role="img" aria-label="Monthly cost against ${escapeHtml(q.metric)}"></canvas></div>
<table id="quality"><thead><tr><th>candidate</th><th class="num">${escapeHtml(q.metric)}</th><th class="num">95% interval</th><th class="num">examples</th><th>call</th><th class="num">$/month</th><th>in words</th></tr></thead>
<tbody>${rows}</tbody></table>
`;
}

function tokenSection(results: SweepResults): string {
  const rows = results.candidates.flatMap((c) =>
    c.phases.flatMap((p) => {
      const t = p.tokens;
      if (!t) return [];
      const countedBy = t.countedBy === 'usage' ? 'the server' : t.countedBy === 'chunks' ? 'chunks (≈ one token each)' : 'mixed (partly ≈)';
      const cells = [t.ttftP50Ms, t.ttftP95Ms, t.ttftP99Ms, t.itlP50Ms, t.itlP95Ms, t.itlP99Ms]
        .map((v) => `<td class="num">${v.toFixed(1)}</td>`)
        .join('');
      return [
        `<tr><td>${escapeHtml(c.id)}</td><td>${escapeHtml(p.name)}</td><td class="num">${t.outputTokens}</td><td class="num">${t.outputTokensPerSecond.toFixed(1)}</td><td>${countedBy}</td>${cells}</tr>`,
      ];
    }),
  );
  if (rows.length === 0) return '';
  const priced = results.candidates.some((c) => c.costPerMillionOutputTokensUsd !== undefined && c.outputTokensPerSecond !== undefined);
  return `
<h2>Tokens</h2>
${
  priced
    ? `<h3>Output tokens per second against cost per million output tokens</h3>
<p class="meta">Each candidate that meets the SLO, at the highest rate one unit (an instance, or the whole endpoint for per-request kinds) sustained within it: further right serves more tokens, lower costs less per token.</p>
<div class="chart"><canvas id="tokens-cost" role="img" aria-label="Output tokens per second against cost per million output tokens"></canvas></div>`
    : ''
}
<p class="meta">Streamed responses, timed chunk by chunk. Time to first token (TTFT) is from the intended send, as every latency in this report; inter-token latency (ITL) is the gap between chunks over the tokens a chunk carries on average. Tokens are the server's own count where it sent one, else one per chunk of text.</p>
<table id="tokens"><thead><tr><th>candidate</th><th>phase</th><th class="num">output tokens</th><th class="num">tokens/s</th><th>counted by</th><th class="num">TTFT p50 ms</th><th class="num">TTFT p95 ms</th><th class="num">TTFT p99 ms</th><th class="num">ITL p50 ms</th><th class="num">ITL p95 ms</th><th class="num">ITL p99 ms</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
`;
}

/**
 * One self-contained HTML page: the recommendation and why, the cost/latency Pareto chart
 * (frontier highlighted, candidates that miss the SLO marked), latency percentiles, throughput
 * against latency across phases, the cost of each, every candidate with the reason it won, lost or
 * failed, and the spec that produced it.
 */
export function htmlReport(results: SweepResults): string {
  const best = results.candidates.find((c) => c.recommended);
  // An offline job's requests are bounded by their timeout only: its SLO is its error rate.
  const slo = [
    ...(results.offline
      ? []
      : [`${percentileLabel(results.slo.percentile)} ≤ ${results.slo.latencyMs} ms`, ...tokenBounds(results.slo).map(boundText)]),
    `errors ≤ ${(results.slo.maxErrorRate * 100).toFixed(2)}%`,
  ].join(', ');
  const headline = best
    ? `<p class="winner">Recommended: <strong>${escapeHtml(best.id)}</strong></p><p>${escapeHtml(best.reason.replace(/^recommended: /, ''))}</p>`
    : results.measurementNote
      ? `<p class="winner none">No recommendation: this machine was too busy to measure reliably.</p><p>${escapeHtml(results.measurementNote)}</p>`
      : results.incompleteNote
        ? `<p class="winner none">No recommendation: the sweep was interrupted.</p>`
        : `<p class="winner none">No recommendation (SLO: ${escapeHtml(slo)}).</p><p>${escapeHtml(results.noRecommendationNote ?? 'none of the candidates meets the SLO')}</p>`;
  const incomplete = results.incompleteNote ? `<p class="meta">${escapeHtml(results.incompleteNote)}</p>` : '';
  const searched = searchLine(results);
  const predictions = results.search?.predictions ?? [];
  const predicted =
    predictions.length > 0
      ? `<table id="predictions"><thead><tr><th>guided search: candidate</th><th>predicted from</th><th class="num">predicted rps</th><th class="num">measured rps</th></tr></thead><tbody>${predictions
          .map(
            (p) =>
              `<tr><td>${escapeHtml(p.id)}</td><td>${escapeHtml(p.from)}</td><td class="num">${p.predictedRps.toFixed(0)}</td><td class="num">${p.measuredRps.toFixed(0)}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '';
  const search = searched ? `<p class="meta" id="search">${escapeHtml(searched.replace(/^search: /, 'Search: '))}</p>${predicted}` : predicted;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>modelsweep report: ${escapeHtml(results.name)} (${escapeHtml(results.sweepId)})</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #1f2328; }
  h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
  .meta { color: #59636e; } .winner { font-size: 1.2rem; margin-bottom: .2rem; } .winner.none { color: #b35900; }
  .note { background: #fff8c5; padding: .5rem .75rem; border-radius: 6px; }
  table { border-collapse: collapse; width: 100%; margin-top: .5rem; } th, td { border-bottom: 1px solid #d8dee4; padding: .35rem .5rem; text-align: left; vertical-align: top; }
  th { background: #f6f8fa; } td.num, th.num { text-align: right; white-space: nowrap; } tr.recommended { background: #dafbe1; } tr.infeasible td { color: #6e7781; }
  .chart { position: relative; height: 360px; } pre { background: #f6f8fa; padding: .75rem; overflow: auto; border-radius: 6px; }
</style>
</head>
<body>
<h1>${escapeHtml(results.name)}</h1>
<p class="meta">Sweep ${escapeHtml(results.sweepId)} of model ${escapeHtml(results.model)}, ${escapeHtml(results.status)}; ${escapeHtml(results.createdAt)} – ${escapeHtml(results.finishedAt)}.
SLO: ${escapeHtml(slo)}. ${results.traffic ? 'Traffic forecast' : 'Sized for'}: ${forecast(results)}.</p>
<section id="recommendation">${headline}${results.confidenceNote ? `<p class="note">${escapeHtml(results.confidenceNote)}</p>` : ''}${incomplete}${search}</section>

${results.offline ? offlineSection(results) : realtimeSections(results)}
<h2>All candidates</h2>
<table id="candidates"><thead><tr><th>candidate</th><th>kind</th><th>status</th><th class="num">${percentileLabel(results.slo.percentile)}</th><th class="num">rps within SLO</th><th class="num">instances</th><th class="num">$/month</th><th class="num">$/M inferences</th>${results.quality ? `<th class="num">${escapeHtml(results.quality.metric)}</th>` : ''}<th>verdict</th></tr></thead>
<tbody>${candidateRows(results)}</tbody></table>

<h2>Phases</h2>
<p class="meta">A phase is within the SLO when its whole 95% interval is, over it when the whole interval is over; astride, it runs on past its plan (up to three times as long) and, still astride, is too close to call. It is inconclusive when the load generator could not keep its schedule or other processes used the target's cores: a miss of the SLO there is not charged to the candidate.</p>
<table id="phases"><thead><tr><th>candidate</th><th>phase</th><th class="num">achieved rps</th><th class="num">ran</th><th class="num">${percentileLabel(results.slo.percentile)} ms</th><th class="num">95% interval (ms) vs the SLO</th><th class="num">errors</th><th class="num">generator late / loop delay (p99 ms); waited for a core</th><th class="num">others' CPU beside the target (cores)</th><th>validity</th></tr></thead>
<tbody>${phaseRows(results)}</tbody></table>
${qualitySection(results)}${tokenSection(results)}
<h2>The spec</h2>
<pre>${escapeHtml(JSON.stringify(results.spec, null, 2))}</pre>

<script>${chartJs()}</script>
<script type="application/json" id="report-data">${scriptJson(chartData(results))}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var palette = ['#0969da', '#1a7f37', '#8250df', '#bf3989', '#b35900', '#0a7f8f', '#57606a', '#cf222e'];
  var label = function (ctx) { var p = ctx.raw; return p.id + ': ' + p.x.toFixed(1) + ' ms, $' + p.y.toFixed(2) + '/month'; };
  var p = data.pareto;
  if (document.getElementById('pareto')) {
  new Chart(document.getElementById('pareto'), {
    type: 'scatter',
    data: { datasets: [
      { label: 'meets the SLO', data: p.feasible, backgroundColor: '#1a7f37', pointRadius: p.feasible.map(function (d) { return d.recommended ? 10 : 6; }), pointStyle: p.feasible.map(function (d) { return d.recommended ? 'star' : 'circle'; }), borderColor: '#1a7f37', borderWidth: 2 },
      { label: 'misses the SLO', data: p.infeasible, pointStyle: 'crossRot', pointRadius: 8, borderColor: '#cf222e', borderWidth: 2 },
      { label: 'frontier', data: p.frontier, showLine: true, borderColor: '#0969da', pointRadius: 0, fill: false }
    ] },
    options: { maintainAspectRatio: false, animation: false,
      // The SLO is always in view, so how far each candidate is from it shows.
      scales: { x: { title: { display: true, text: 'p' + data.percentile + ' latency (ms)' }, suggestedMin: 0, suggestedMax: data.sloLatencyMs * 1.15 }, y: { title: { display: true, text: 'monthly cost ($)' }, beginAtZero: true } },
      plugins: { tooltip: { callbacks: { label: label } } } },
    plugins: [{ id: 'slo', afterDraw: function (chart) {
      var x = chart.scales.x.getPixelForValue(data.sloLatencyMs), area = chart.chartArea, ctx = chart.ctx;
      if (x < area.left || x > area.right) return;
      ctx.save(); ctx.setLineDash([6, 4]); ctx.strokeStyle = '#b35900'; ctx.beginPath(); ctx.moveTo(x, area.top); ctx.lineTo(x, area.bottom); ctx.stroke(); ctx.restore();
    } }]
  });
  if (p.notPlotted.length) document.getElementById('not-plotted').textContent = 'Not plotted (nothing measured to place them): ' + p.notPlotted.map(function (n) { return n.id + ' (' + n.why + ')'; }).join('; ');
  new Chart(document.getElementById('percentiles'), {
    type: 'bar',
    data: { labels: data.percentiles.map(function (c) { return c.id; }), datasets: ['p50', 'p90', 'p99', 'p999'].map(function (k, i) {
      return { label: k === 'p999' ? 'p99.9' : k, data: data.percentiles.map(function (c) { return c[k]; }), backgroundColor: palette[i] };
    }) },
    options: { maintainAspectRatio: false, animation: false, scales: { y: { title: { display: true, text: 'latency (ms) in ' + (data.percentiles[0] ? data.percentiles[0].phase : 'the first phase') }, beginAtZero: true } } }
  });
  new Chart(document.getElementById('throughput'), {
    type: 'scatter',
    data: { datasets: data.throughput.map(function (c, i) { return { label: c.id, data: c.points, showLine: true, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length] }; }) },
    options: { maintainAspectRatio: false, animation: false,
      scales: { x: { title: { display: true, text: 'achieved rps' } }, y: { title: { display: true, text: 'p' + data.percentile + ' latency (ms)' }, beginAtZero: true } },
      plugins: { tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ' ' + ctx.raw.phase + ': ' + ctx.raw.x + ' rps, ' + ctx.raw.y.toFixed(1) + ' ms'; } } } } }
  });
  }
  var o = data.offline;
  var offlineCanvas = document.getElementById('offline-throughput');
  if (offlineCanvas) {
    new Chart(offlineCanvas, {
      type: 'scatter',
      data: { datasets: o.curves.map(function (c, i) { return { label: c.id, data: c.points, showLine: true, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length] }; }) },
      options: { maintainAspectRatio: false, animation: false,
        scales: { x: { type: 'logarithmic', title: { display: true, text: 'concurrency' } }, y: { title: { display: true, text: 'rows/s' }, beginAtZero: true } },
        plugins: { tooltip: { callbacks: { label: function (ctx) { var d = ctx.raw; return ctx.dataset.label + ' at ' + d.x + ': ' + d.y.toFixed(0) + ' rows/s (' + d.low.toFixed(0) + '–' + d.high.toFixed(0) + ')'; } } } } },
      plugins: [{ id: 'intervals', afterDatasetsDraw: function (chart) {
        var x = chart.scales.x, y = chart.scales.y, ctx = chart.ctx;
        ctx.save(); ctx.strokeStyle = '#57606a';
        o.curves.forEach(function (c) { c.points.forEach(function (d) { var px = x.getPixelForValue(d.x); ctx.beginPath(); ctx.moveTo(px, y.getPixelForValue(d.low)); ctx.lineTo(px, y.getPixelForValue(d.high)); ctx.stroke(); }); });
        ctx.restore();
      } }]
    });
    new Chart(document.getElementById('offline-jobs'), {
      type: 'scatter',
      data: { datasets: [{ label: 'ends by the deadline', data: o.jobs, backgroundColor: '#1a7f37', pointRadius: o.jobs.map(function (d) { return d.recommended ? 10 : 6; }), pointStyle: o.jobs.map(function (d) { return d.recommended ? 'star' : 'circle'; }) }] },
      options: { maintainAspectRatio: false, animation: false,
        scales: { x: { title: { display: true, text: 'job time (minutes)' }, beginAtZero: true, suggestedMax: o.deadlineMinutes * 1.1 }, y: { title: { display: true, text: '$ per million rows' }, beginAtZero: true } },
        plugins: { tooltip: { callbacks: { label: function (ctx) { var d = ctx.raw; return d.id + ': ' + d.x.toFixed(1) + ' min on ' + d.instances + ', $' + d.usd.toPrecision(2) + ' ($' + d.y.toPrecision(2) + ' per million rows)'; } } } } },
      plugins: [{ id: 'deadline', afterDraw: function (chart) {
        var x = chart.scales.x.getPixelForValue(o.deadlineMinutes), area = chart.chartArea, ctx = chart.ctx;
        if (x < area.left || x > area.right) return;
        ctx.save(); ctx.setLineDash([6, 4]); ctx.strokeStyle = '#b35900'; ctx.beginPath(); ctx.moveTo(x, area.top); ctx.lineTo(x, area.bottom); ctx.stroke(); ctx.restore();
      } }]
    });
  }
  var tokensCanvas = document.getElementById('tokens-cost');
  if (tokensCanvas) new Chart(tokensCanvas, {
    type: 'scatter',
    data: { datasets: [{ label: 'meets the SLO', data: data.tokens, backgroundColor: '#8250df', pointRadius: data.tokens.map(function (d) { return d.recommended ? 10 : 6; }), pointStyle: data.tokens.map(function (d) { return d.recommended ? 'star' : 'circle'; }) }] },
    options: { maintainAspectRatio: false, animation: false,
      scales: { x: { title: { display: true, text: 'output tokens/s per unit' }, beginAtZero: true }, y: { title: { display: true, text: '$ per million output tokens' }, beginAtZero: true } },
      plugins: { tooltip: { callbacks: { label: function (ctx) { return ctx.raw.id + ': ' + ctx.raw.x.toFixed(0) + ' tokens/s, $' + ctx.raw.y.toFixed(3) + ' per million'; } } } } }
  });
  var qualityCanvas = document.getElementById('quality-cost');
  if (qualityCanvas) {
    var q = data.quality;
    new Chart(qualityCanvas, {
      type: 'scatter',
      data: { datasets: [
        { label: 'meets the quality SLO', data: q.points.filter(function (d) { return d.call === 'meets'; }), backgroundColor: '#1a7f37', pointRadius: 6 },
        { label: 'misses it, or too close to call', data: q.points.filter(function (d) { return d.call !== 'meets'; }), pointStyle: 'crossRot', pointRadius: 8, borderColor: '#cf222e', borderWidth: 2 }
      ] },
      options: { maintainAspectRatio: false, animation: false,
        scales: { x: { title: { display: true, text: q.metric } }, y: { title: { display: true, text: 'monthly cost ($)' }, beginAtZero: true } },
        plugins: { tooltip: { callbacks: { label: function (ctx) { var d = ctx.raw; return d.id + ': ' + d.x.toFixed(3) + ' (' + d.low.toFixed(3) + '–' + d.high.toFixed(3) + '), $' + d.y.toFixed(2) + '/month'; } } } } },
      // Each interval as a bar through its point, and the bound as a dashed line.
      plugins: [{ id: 'intervals', afterDatasetsDraw: function (chart) {
        var x = chart.scales.x, y = chart.scales.y, ctx = chart.ctx, area = chart.chartArea;
        ctx.save(); ctx.strokeStyle = '#57606a';
        q.points.forEach(function (d) { var py = y.getPixelForValue(d.y); ctx.beginPath(); ctx.moveTo(x.getPixelForValue(d.low), py); ctx.lineTo(x.getPixelForValue(d.high), py); ctx.stroke(); });
        if (q.bound !== undefined) { var bx = x.getPixelForValue(q.bound); if (bx >= area.left && bx <= area.right) { ctx.setLineDash([6, 4]); ctx.strokeStyle = '#b35900'; ctx.beginPath(); ctx.moveTo(bx, area.top); ctx.lineTo(bx, area.bottom); ctx.stroke(); } }
        ctx.restore();
      } }]
    });
  }
  // Tells a reader (and the browser test) that every chart was drawn.
  document.body.dataset.ready = 'true';
})();
</script>
</body>
</html>
`;
}

/**
 * Where the quality chart draws its bound: `min` or `max`, or for `maxDropFromReference` that share
 * of the reference's measured score (the reference's own interval aside).
 */
function qualityBound(results: SweepResults): number | undefined {
  const q = results.quality;
  if (q?.maxDropFromReference === undefined) return q?.min ?? q?.max;
  const referenceValue = results.candidates.find((c) => c.quality?.relative)?.quality?.relative?.referenceValue;
  return referenceValue === undefined ? undefined : (1 - q.maxDropFromReference) * referenceValue;
}
