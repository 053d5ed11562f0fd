/**
 * Whether a phase met the SLO: what the measuring steps ask mid-measurement (to measure again, to
 * bisect the rate search) and what selection reads every phase by.
 */
import { type PhaseResult, phaseSample } from './phase';
import { type PhaseSlo, sloBounds } from './slo-bounds';

/**
 * A phase meets the SLO when every bounded percentile (latency; with token bounds, time to first
 * token and inter-token latency too) and its error rate are within bounds; a token bound with no
 * token measured is not met. A phase whose generator fell behind still counts when it passes:
 * latency is timed from the intended send, so generator lateness can only make it look slower.
 */
export function phaseMeetsSlo(phase: PhaseResult, slo: PhaseSlo): boolean {
  if (phase.successes === 0 || phase.errorRate > slo.maxErrorRate) return false;
  return sloBounds(slo).every((bound) => {
    const { histogram } = phaseSample(phase, bound);
    return histogram.count > 0 && histogram.percentileMs(bound.percentile) <= bound.ms;
  });
}

/**
 * A phase passes, fails, or is inconclusive: a phase that misses the SLO while the generator
 * struggled (or, for a local target, the machine was busy) says nothing reliable about the target
 * and is never charged to it.
 */
export function phaseVerdict(phase: PhaseResult, slo: PhaseSlo): 'pass' | 'fail' | 'inconclusive' {
  // A phase within the SLO is invalid only when the generator refused sends, whose latencies would have been the longest.
  if (phase.validity?.valid === false) return 'inconclusive';
  return phaseMeetsSlo(phase, slo) ? 'pass' : 'fail';
}
