import type { PhaseResult } from '../load/phase';
import { PHASE_WINDOWS } from '../load/phase';

/** A throughput in rows per second, with its 95% interval. */
export interface Throughput {
  readonly rowsPerSecond: number;
  readonly interval: readonly [number, number];
}

/** Student's t at 97.5% for 1 to 10 degrees of freedom (a phase has at most 10 windows: 9). */
const T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];
/** Student's t at 97.5% for `dof` degrees of freedom (1 or more); past 10, 2.228 (a little wide, never narrow). */
export const studentT975 = (dof: number): number => T_975[Math.min(dof, T_975.length) - 1]!;

/** Fewer whole windows than this, and the interval is the Poisson one of the whole count. */
const MIN_WINDOWS = 4;

/**
 * A closed-loop phase's throughput in rows a second (successes × `rowsPerRequest` over its time),
 * with a 95% interval by batch means: each whole time window's throughput is one observation, and
 * their spread, not an assumed distribution, sets the interval, so a target whose speed drifts
 * within the phase gets the wider interval it deserves. A phase with too few whole windows falls
 * back on a Poisson interval of its count.
 */
export function throughputOf(phase: PhaseResult, rowsPerRequest: number): Throughput {
  const seconds = phase.durationMs / 1000;
  const rowsPerSecond = seconds > 0 ? (phase.successes * rowsPerRequest) / seconds : 0;
  const windows = phase.windowSuccesses ?? [];
  const windowSeconds = phase.plannedDurationMs / PHASE_WINDOWS / 1000;
  if (windows.length >= MIN_WINDOWS && windowSeconds > 0) {
    const rates = windows.map((n) => (n * rowsPerRequest) / windowSeconds);
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
    const variance = rates.reduce((a, r) => a + (r - mean) ** 2, 0) / (rates.length - 1);
    const half = studentT975(rates.length - 1) * Math.sqrt(variance / rates.length);
    return { rowsPerSecond, interval: [Math.max(0, rowsPerSecond - half), rowsPerSecond + half] };
  }
  const half = seconds > 0 ? (1.96 * Math.sqrt(phase.successes) * rowsPerRequest) / seconds : 0;
  return { rowsPerSecond, interval: [Math.max(0, rowsPerSecond - half), rowsPerSecond + half] };
}
