import { formatDurationMs } from '../format/format';
import { type Align, textTable } from '../format/text-table';
import type { PhaseResult } from './phase';
import type { LoadResult } from './run-load';

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** A plain-text table of a load result, one row per phase, with notes on what to distrust. */
export function formatLoadTable(result: LoadResult): string {
  const header = ['phase', 'load', 'duration', 'requests', 'rps', 'errors', 'late', 'p50 ms', 'p90 ms', 'p95 ms', 'p99 ms', 'p99.9 ms', 'max ms'];
  const rows = result.phases.map((p) => [
    p.name,
    p.mode === 'open' ? `${p.rate}/s ${p.arrivals}` : `${p.concurrency} concurrent`,
    formatDurationMs(p.durationMs),
    String(p.requests),
    p.achievedRps.toFixed(1),
    p.errorCount === 0 ? '0' : `${p.errorCount} (${(p.errorRate * 100).toFixed(1)}%)`,
    p.mode === 'open' ? String(p.lateSends) : '-',
    // With no success there is no latency: a dash, never 0.00.
    ...[p.latencyMs.p50, p.latencyMs.p90, p.latencyMs.p95, p.latencyMs.p99, p.latencyMs.p999, p.latencyMs.max].map((v) =>
      p.successes > 0 ? ms(v) : '-',
    ),
  ]);
  const align = header.map((_, i): Align => (i < 3 ? 'left' : 'right'));
  const out = textTable([header, ...rows], { align, headerRule: true });
  for (const p of result.phases) out.push(...phaseNotes(p));
  return out.join('\n');
}

function phaseNotes(p: PhaseResult): string[] {
  const notes: string[] = [];
  if (p.errorCount > 0) {
    notes.push(
      `${p.name}: errors ${Object.entries(p.errors)
        .map(([k, n]) => `${k}=${n}`)
        .join(', ')}`,
    );
  }
  if (p.generatorLimited) {
    notes.push(
      `${p.name}: ${p.lateSends} of ${p.requests} sends were over 1 ms late (max ${p.maxLatenessMs.toFixed(1)} ms): the load generator, not the target, limited this phase`,
    );
  }
  if (p.refusedByGenerator) {
    notes.push(
      `${p.name}: the load generator refused ${p.refusedByGenerator} sends because too many requests were in flight; they are not counted as requests or errors, and the latencies above leave them out`,
    );
  }
  if (p.stoppedEarly) notes.push(`${p.name}: stopped early (${p.stoppedEarly})`);
  return notes;
}
