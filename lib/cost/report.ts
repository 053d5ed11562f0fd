import { roundUpToCent, type CostEstimate } from './estimate';

const usd = (n: number) => `$${roundUpToCent(n).toFixed(2)}`;
const qty = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 2 }));

/** A cost estimate as text: one line per charge, rounded up to the cent, with where each price came from. */
export function formatCostEstimate(estimate: CostEstimate): string {
  const rows = estimate.lines.map((l) => [l.item, `${qty(l.quantity)} ${l.unit}`, `× $${l.unitPriceUsd}`, usd(l.usd)]);
  rows.push(['total per month', '', '', usd(estimate.monthlyUsd)]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => [r[0].padEnd(widths[0]), r[1].padStart(widths[1]), r[2].padEnd(widths[2]), r[3].padStart(widths[3])].join('  ').trimEnd());
  lines.splice(lines.length - 1, 0, '-'.repeat(Math.max(...lines.map((l) => l.length))));
  const sources = [...new Set(estimate.lines.map((l) => `${l.source.source}, ${l.source.region}, prices as of ${l.source.asOf}`))];
  return [...lines, ...estimate.notes.map((n) => `note: ${n}`), ...sources.map((s) => `prices: ${s}`)].join('\n');
}

/** The estimate as JSON-ready data, with the rounded amounts beside the exact ones. */
export function costEstimateJson(estimate: CostEstimate) {
  return {
    ...estimate,
    lines: estimate.lines.map((l) => ({ ...l, usdRoundedUp: roundUpToCent(l.usd) })),
    monthlyUsdRoundedUp: roundUpToCent(estimate.monthlyUsd),
  };
}
