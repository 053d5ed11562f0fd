import { type Align, textTable } from '../format/text-table';
import type { SweepResults } from './sweep-results';

/** A sweep's results as the CLI prints them: one row per candidate, then the recommendation. */
export function resultsText(results: SweepResults): string {
  const header = [
    'candidate',
    'kind',
    'status',
    `p${results.slo.percentile} ms`,
    'rps within SLO',
    'instances',
    '$/month',
    '$/M inferences',
    'verdict',
  ];
  const rows = results.candidates.map((c) => [
    `${c.recommended ? '* ' : '  '}${c.id}`,
    c.kind,
    c.status,
    c.sloLatencyMs !== undefined ? c.sloLatencyMs.toFixed(1) : '-',
    c.maxRpsWithinSlo !== undefined ? c.maxRpsWithinSlo.toFixed(0) : '-',
    c.instances !== undefined ? String(c.instances) : '-',
    c.monthlyCostUsd !== undefined ? c.monthlyCostUsd.toFixed(2) : '-',
    c.costPerMillionInferencesUsd !== undefined ? c.costPerMillionInferencesUsd.toFixed(3) : '-',
    c.reason + (c.teardownError ? ` (teardown left something behind: ${c.teardownError})` : ''),
  ]);
  const align = header.map((_, i): Align => (i < 3 || i === header.length - 1 ? 'left' : 'right'));
  const out = [`sweep ${results.sweepId} (model ${results.model}): ${results.status}`, '', ...textTable([header, ...rows], { align }), ''];
  const best = results.candidates.find((c) => c.recommended);
  out.push(
    best
      ? `recommendation: ${best.id} — ${best.reason.replace(/^recommended: /, '')}`
      : `recommendation: ${results.measurementNote ?? 'none of the candidates meets the SLO'}`,
  );
  if (results.confidenceNote) out.push(`note: ${results.confidenceNote}`);
  return out.join('\n');
}
