import { rule, textTable } from '../format/text-table';
import { type CostEstimate, roundUpToCent } from './estimate';
import { describeSource } from './price-book';

const usd = (n: number) => `$${roundUpToCent(n).toFixed(2)}`;
const qty = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 2 }));

/** A cost estimate as text: one line per charge, rounded up to the cent, with where each price came from. */
export function formatCostEstimate(estimate: CostEstimate): string {
  const rows = estimate.lines.map((l) => [l.item, `${qty(l.quantity)} ${l.unit}`, `× $${l.unitPriceUsd}`, usd(l.usd)]);
  rows.push(['total per month', '', '', usd(estimate.monthlyUsd)]);
  const lines = textTable(rows, { align: ['left', 'right', 'left', 'right'] });
  lines.splice(lines.length - 1, 0, rule(lines));
  const sources = [...new Set(estimate.lines.map((l) => describeSource(l.source)))];
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
