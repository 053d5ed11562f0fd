import { describe, expect, it } from 'vitest';

import { bestUpperBound, planWave, predictFromSiblings, type SearchItem, searchOrder } from '../../../lib/select/candidate-search';
import type { CandidateVerdict } from '../../../lib/select/select';
import { HOURS_PER_MONTH, type Landscape, randomLandscape, searchLandscape } from '../../helpers/search-landscape';

const PRUNE = { mode: 'prune', margin: 2 } as const;
const EXHAUSTIVE = { mode: 'exhaustive', margin: 2 } as const;
const COST = { type: 'cost', weight: 0.5 } as const;

const item = (id: string, usd: number): SearchItem => ({ id, floor: { usd, basis: 'even on one instance' } });

describe('the candidate search', () => {
  it('measures cheapest floor first, ties in the order given; guided puts a prediction above the floor, a predicted miss last', () => {
    expect(searchOrder([item('b', 300), item('a', 100), item('c', 100)]).map((i) => i.id)).toEqual(['a', 'c', 'b']);
    const predicted = [
      { ...item('a', 100), predicted: { usd: 400, basis: '' } },
      { ...item('miss', 50), predicted: { usd: Infinity, basis: '' } },
      item('b', 300),
    ];
    expect(searchOrder(predicted, 'guided').map((i) => i.id)).toEqual(['b', 'a', 'miss']);
    expect(searchOrder(predicted).map((i) => i.id)).toEqual(['miss', 'a', 'b']);
  });

  it('over random landscapes, pruning recommends exactly what the exhaustive search does, and never skips what could win', () => {
    let deployedShare = 0;
    const landscapes = 60;
    for (let seed = 1; seed <= landscapes; seed++) {
      const landscape = randomLandscape(seed);
      const exhaustive = searchLandscape(landscape, EXHAUSTIVE);
      const pruned = searchLandscape(landscape, PRUNE);
      expect(exhaustive.skipped.size, `seed ${seed}`).toBe(0);
      expect(pruned.selection.recommended, `seed ${seed}`).toBe(exhaustive.selection.recommended);
      const best = exhaustive.selection.candidates.find((c) => c.recommended);
      for (const [id, reason] of pruned.skipped) {
        expect(reason, `seed ${seed} ${id}`).toMatch(
          /^\$[\d,.]+\/month even on one instance, more than the best measured, c\d+ at \$[\d,.]+\/month at most$/,
        );
        // Its floor is above what the exhaustive pick costs: it could not have been chosen.
        const floor = landscape.candidates.find((c) => c.id === id)!.usdPerHour * HOURS_PER_MONTH;
        if (best) expect(floor, `seed ${seed} ${id}`).toBeGreaterThan(best.monthlyCostUsd!);
        expect(pruned.selection.candidates.find((c) => c.id === id)!.reason).toBe(`skipped: ${reason}`);
      }
      deployedShare += pruned.deployed.length / landscape.candidates.length;
    }
    // Not a goal, a sanity check that pruning prunes: the grid is not deployed whole on average.
    expect(deployedShare / landscapes).toBeLessThan(0.9);
  });

  it('prunes under the cost strategy only: a faster candidate can be worth its price under speed and balanced', () => {
    const landscape = randomLandscape(7);
    for (const strategy of [
      { type: 'speed', weight: 0.5 },
      { type: 'balanced', weight: 0.7 },
    ] as const) {
      const outcome = searchLandscape(landscape, PRUNE, strategy);
      expect(outcome.skipped.size).toBe(0);
      expect(outcome.selection.recommended).toBe(searchLandscape(landscape, EXHAUSTIVE, strategy).selection.recommended);
    }
  });

  it('deploys no more than maxDeployments, and says why the rest were not deployed', () => {
    const landscape: Landscape = {
      search: { from: 5, to: 400, precision: 0.1 },
      peakRps: 60,
      sloMs: 100,
      // All cost the same on one instance: none can be ruled out, only capped.
      candidates: ['a', 'b', 'c', 'd'].map((id, i) => ({ id, capacityRps: 30 + 10 * i, usdPerHour: 0.1 })),
    };
    const outcome = searchLandscape(landscape, { ...PRUNE, maxDeployments: 2 });
    expect(outcome.deployed).toEqual(['a', 'b']);
    expect([...outcome.skipped.values()]).toEqual([
      "the sweep's cap of 2 deployments (candidateSearch.maxDeployments) was reached; it could cost as little as $73.00/month even on one instance",
      "the sweep's cap of 2 deployments (candidateSearch.maxDeployments) was reached; it could cost as little as $73.00/month even on one instance",
    ]);
  });

  it('skips a candidate only when its floor is strictly above the best upper bound: an equal cost can still win on latency', () => {
    const selection = {
      strategy: COST,
      frontier: ['m'],
      candidates: [
        {
          id: 'm',
          status: 'measured',
          feasible: true,
          monthlyCostUsd: 73,
          monthlyCostRangeUsd: [73, 146],
          onFrontier: true,
          recommended: true,
          reason: '',
        },
      ],
    } as const;
    expect(bestUpperBound(selection as never)).toEqual({ usd: 146, id: 'm' });
    const plan = planWave({
      pending: [item('same', 146), item('above', 146.01)],
      selection: selection as never,
      strategy: COST,
      settings: PRUNE,
      deployed: 1,
      waveSize: 4,
    });
    expect(plan.wave).toEqual(['same']);
    expect(plan.skipped.map((s) => [s.id, s.why])).toEqual([['above', 'cannot-win']]);
  });

  it('takes one candidate a lane into a wave, up to the wave size; the rest wait for the next plan', () => {
    const lanes: Record<string, string> = { a: 'local', b: 'local', c: 'x', d: 'y', e: 'z' };
    const plan = planWave({
      pending: ['a', 'b', 'c', 'd', 'e'].map((id, i) => item(id, 10 + i)),
      selection: undefined,
      strategy: COST,
      settings: PRUNE,
      deployed: 0,
      waveSize: 3,
      laneOf: (id) => lanes[id]!,
    });
    expect(plan).toEqual({ wave: ['a', 'c', 'd'], skipped: [] });
  });

  it("deploys the cheapest candidate others' verdicts wait on first, ahead of the cheaper ones and of the cap", () => {
    const plan = planWave({
      pending: [item('int8', 10), item('fp32-big', 90), item('fp32', 50), item('small', 5)],
      selection: undefined,
      strategy: COST,
      settings: { ...PRUNE, maxDeployments: 2 },
      deployed: 0,
      waveSize: 4,
      needed: new Set(['fp32', 'fp32-big']),
    });
    // The cap counts the reference: one more may join it, the cheapest.
    expect(plan.wave).toEqual(['fp32', 'small']);
    expect(plan.skipped.map((s) => [s.id, s.why])).toEqual([
      ['int8', 'cap'],
      ['fp32-big', 'cap'],
    ]);
  });

  describe('guided prediction from siblings', () => {
    const measured = (id: string, units: number, range?: [number, number]) => ({
      size: { family: 'c6i', units },
      verdict: (range
        ? { id, status: 'measured', feasible: true, maxRpsWithinSlo: range[0], maxRpsWithinSloRange: range }
        : { id, status: 'measured', feasible: false }) as unknown as CandidateVerdict,
    });
    const eight = { size: { family: 'c6i', units: 8 }, floor: { usd: 300, basis: 'even on one instance' } };

    it('scales the nearest measured size by the size ratio and the margin, at the top of its range', () => {
      // 4 units: 100 rps at most; at 8 units, ×2 for size and ×1.5 margin: 300 rps; 700 rps at the peak takes 3.
      const fromFour = predictFromSiblings(eight, [measured('xl', 4, [95, 100])], 700, 1.5);
      expect(fromFour?.usd).toBe(900);
      expect(fromFour?.basis).toBe('xl sustained up to 100 rps; at 8/4 its size and ×1.5, 300 rps: 3 instances');
      // The nearest wins over a farther, more optimistic one: 2 units at 60 rps would say 360 rps at 8 (2 instances).
      const nearest = predictFromSiblings(eight, [measured('l', 2, [55, 60]), measured('xl', 4, [95, 100])], 700, 1.5);
      expect(nearest?.usd).toBe(900);
      // Two as near (4 and 16 units): the more optimistic.
      const between = predictFromSiblings(eight, [measured('xl', 4, [95, 100]), measured('4xl', 16, [940, 960])], 700, 1.5);
      expect(between?.usd).toBe(300);
    });

    it('predicts a miss from a sibling as large that misses at its lightest rate, unless some sibling met the SLO', () => {
      expect(predictFromSiblings(eight, [measured('4xl', 16)], 700, 1.5)?.usd).toBe(Infinity);
      expect(predictFromSiblings(eight, [measured('l', 2)], 700, 1.5)).toBeUndefined();
      expect(predictFromSiblings(eight, [measured('4xl', 16), measured('xl', 4, [95, 100])], 700, 1.5)?.usd).toBe(900);
      // Another family predicts nothing.
      expect(predictFromSiblings({ ...eight, size: { family: 'm6i', units: 8 } }, [measured('xl', 4, [95, 100])], 700, 1.5)).toBeUndefined();
    });
  });
});
