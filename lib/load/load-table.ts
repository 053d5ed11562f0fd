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
  const streamed = result.phases.filter((p) => p.tokens);
  if (streamed.length > 0) out.push('', ...tokenTable(streamed));
  for (const p of result.phases) out.push(...phaseNotes(p));
  return out.join('\n');
}

/** Streamed phases: time to first token (from the intended send) and inter-token latency percentiles, and the token counts. */
function tokenTable(phases: readonly PhaseResult[]): string[] {
  const header = [
    'phase',
    'output tokens',
    'tokens/s',
    'counted by',
    'TTFT p50',
    'TTFT p90',
    'TTFT p99',
    'TTFT max',
    'ITL p50',
    'ITL p90',
    'ITL p99',
    'ITL max',
  ];
  const rows = phases.map((p) => {
    const t = p.tokens!;
    const itl =
      t.interTokenMs.count > 0 ? [t.interTokenMs.p50, t.interTokenMs.p90, t.interTokenMs.p99, t.interTokenMs.max].map(ms) : ['-', '-', '-', '-'];
    return [
      p.name,
      String(t.outputTokens),
      t.outputTokensPerSecond.toFixed(1),
      t.countedBy === 'usage' ? 'server' : t.countedBy === 'chunks' ? 'chunks (≈)' : 'mixed (≈)',
      ...[t.timeToFirstTokenMs.p50, t.timeToFirstTokenMs.p90, t.timeToFirstTokenMs.p99, t.timeToFirstTokenMs.max].map(ms),
      ...itl,
    ];
  });
  const align = header.map((_, i): Align => (i === 0 || i === 3 ? 'left' : 'right'));
  const out = textTable([header, ...rows], { align, headerRule: true });
  out.push('times in ms; TTFT: time to first token, from the intended send; ITL: inter-token latency');
  if (phases.some((p) => p.tokens!.countedBy !== 'usage')) {
    out.push('counted by chunks (≈): the server sent no token count, so each chunk of text counts as one token');
  }
  return out;
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
  if (p.generatorLimited)
    notes.push(`${p.name}: ${p.lateSends} of ${p.requests} sends were over 1 ms late (max ${p.maxLatenessMs.toFixed(1)} ms)${lateness(p)}`);
  if (p.refusedByGenerator) {
    notes.push(
      `${p.name}: the load generator refused ${p.refusedByGenerator} sends because too many requests were in flight; they are not counted as requests or errors, and the latencies above leave them out`,
    );
  }
  if (p.stoppedEarly) notes.push(`${p.name}: stopped early (${p.stoppedEarly})`);
  return notes;
}

/**
 * What late sends mean for a phase's numbers. Latencies count from the intended send, so lateness
 * could explain them only where it is a real share of them; the generator limited the phase only
 * when, besides, it did not send the planned rate.
 */
function lateness(p: PhaseResult): string {
  if (p.successes === 0) return '';
  if (p.maxLatenessMs < EXPLAINING_SHARE * p.latencyMs.p99) return `, too little to change these latencies (p99 ${p.latencyMs.p99.toFixed(1)} ms)`;
  const shortOfRate = p.rate !== undefined && !p.stoppedEarly && p.requests < SHORT_OF_RATE * p.rate * (p.plannedDurationMs / 1000);
  return shortOfRate
    ? ': the load generator could not keep the planned rate; it, not the target, limited this phase'
    : ': the load generator fell behind its schedule, and its delay may account for some of these latencies';
}

/** Lateness under this share of the p99 latency cannot explain it. */
const EXPLAINING_SHARE = 0.1;
/** Sending under this share of the planned rate is falling short of it. */
const SHORT_OF_RATE = 0.9;
