import { describe, expect, it } from 'vitest';

import type { PhaseResult } from '../../../lib/load/phase';
import type { CandidateOutcome } from '../../../lib/select/select';
import { selectOffline } from '../../../lib/select/select-offline';

/** Saturation probes of 10 s at concurrency 1, 2, 4, …, each with the throughput given, spread evenly over its windows. */
const probes = (rates: number[], validity?: PhaseResult['validity']): PhaseResult[] =>
  rates.map(
    (rate, i) =>
      ({
        name: `saturation-c${2 ** i}`,
        concurrency: 2 ** i,
        successes: rate * 10,
        durationMs: 10_000,
        plannedDurationMs: 10_000,
        windowSuccesses: Array(10).fill(rate),
        errorRate: 0,
        ...(validity ? { validity } : {}),
      }) as unknown as PhaseResult,
  );

const candidate = (id: string, phases: PhaseResult[]): CandidateOutcome => ({ id, status: 'measured', scaling: 'instances', phases });

const select = (candidates: CandidateOutcome[], prices: Record<string, number>) =>
  selectOffline({
    job: { rows: 3_600_000, deadlineSeconds: 3600, maxInstances: 10 },
    rowsPerRequest: 1,
    saturation: { from: 1, to: 64, minGain: 0.1, stepDuration: 10_000, precision: 0.05 },
    maxErrorRate: 0.01,
    strategy: { type: 'cost', weight: 0.5 },
    candidates,
    billing: (c) => ({ usdPerInstanceHour: prices[c.id]!, startupSeconds: 0, billedStartupSeconds: 0 }),
  });

describe('the offline selection', () => {
  it('recommends the cheapest job, and says when the next one cannot be told apart from it', () => {
    // 1,000 rows/s a second without spread: 3,600,000 rows in an hour on 1 instance; 1 h at $1, against 2,000 rows/s at $2.10 for half an hour.
    const clear = select([candidate('a', probes([500, 1000, 1000, 1000])), candidate('b', probes([1000, 2000, 2000, 2000]))], { a: 1, b: 2.1 });
    expect(clear.recommended).toBe('a');
    expect(clear.candidates.find((c) => c.id === 'a')).toMatchObject({ instances: 1, job: { estimate: { usd: 1, seconds: 3600 } } });
    expect(clear.confidenceNote).toBeUndefined();
    // At $2.00 b's job costs $1.00 too: the two cannot be told apart, and the note says so.
    const close = select([candidate('a', probes([500, 1000, 1000, 1000])), candidate('b', probes([1000, 2000, 2000, 2000]))], { a: 1, b: 2.0 });
    expect(close.recommended).toBe('a');
    expect(close.confidenceNote).toMatch(/^a and b cannot be told apart by the job's cost: \$1\.00–\$1\.00 against \$1\.00–\$1\.00/);
  });

  it('says when its probes were measured on a busy machine, so the throughput may be understated', () => {
    const selection = select(
      [candidate('a', probes([500, 1000, 1000, 1000], { valid: false, reason: 'other processes used 0.8 cores beside the target' }))],
      { a: 1 },
    );
    expect(selection.candidates[0]!.reason).toMatch(
      /; measured on a busy machine \(other processes used 0\.8 cores beside the target\), so its throughput may be understated$/,
    );
  });

  it('counts each instance of a candidate of several (its instanceCount) in its instances and its reason', () => {
    // 1,000 rows/s a unit of 2 instances, at $1 an instance-hour: 3,600,000 rows in an hour on one unit, $2.
    const pair = { ...candidate('pair', probes([500, 1000, 1000, 1000])), instancesPerUnit: 2 };

    const [verdict] = select([pair], { pair: 1 }).candidates;

    expect(verdict).toMatchObject({ instances: 2, job: { estimate: { instances: 1, usd: 2 } } });
    expect(verdict!.reason).toMatch(/: \$2\.00 on 2 instances, /);
  });

  it("judges each batch size a candidate's search ran at, keeps the cheapest per row, and names the others", () => {
    const batched = (batch: number, rates: number[]) =>
      probes(rates).map((p) => ({ ...p, name: p.name.replace('saturation-', `saturation-b${batch}-`) }));
    // In requests a second: 1,000 of 1 row, 150 of 10 (1,500 rows/s): batch 10 is cheaper per row.
    const c = candidate('a', [...batched(1, [500, 1000, 1000, 1000]), ...batched(10, [100, 150, 150, 150])]);

    const [verdict] = select([c], { a: 1 }).candidates;

    expect(verdict!.job).toMatchObject({ batch: 10, saturation: { rowsPerSecond: 1500 } });
    expect(verdict!.reason).toMatch(/; at batch 10 \(batch 1: 1000 rows\/s, \$1\.00\)$/);
  });
});
