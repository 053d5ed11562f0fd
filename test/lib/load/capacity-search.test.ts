import { describe, expect, it } from 'vitest';

import { type CapacitySearchRange, type CapacitySearchState, firstProbe, maxProbes, nextProbe, probeRate } from '../../../lib/load/capacity-search';

/** Runs a search against a target that passes every rate up to `capacity`; returns the probed rates and the final state. */
function search(range: CapacitySearchRange, capacity: number): { rates: number[]; state: CapacitySearchState } {
  let state = firstProbe(range);
  const rates: number[] = [];
  while (!state.done) {
    const rate = probeRate(range, state);
    rates.push(rate);
    state = nextProbe(range, state, rate <= capacity);
    if (rates.length > 100) throw new Error('the search did not end');
  }
  return { rates, state };
}

describe('rate search', () => {
  const range = { from: 10, to: 1000, precision: 0.1 };

  it('probes the bottom, then the top, then the geometric middle of the bracket', () => {
    const { rates } = search(range, 137);
    expect(rates.slice(0, 3)).toEqual([10, 1000, 100]);
    // 100 passed: the next is between 100 and 1000
    expect(rates[3]).toBeCloseTo(Math.sqrt(100 * 1000), 9);
  });

  it('brackets the true capacity within the precision asked', () => {
    for (const capacity of [10.5, 37, 137, 420, 999]) {
      const { state } = search(range, capacity);
      expect(state.low, `capacity ${capacity}`).toBeLessThanOrEqual(capacity);
      expect(state.high, `capacity ${capacity}`).toBeGreaterThan(capacity);
      expect((state.high - state.low) / state.low).toBeLessThanOrEqual(range.precision);
    }
  });

  it('stops after one probe when the bottom fails, and after two when the top passes', () => {
    expect(search(range, 5)).toMatchObject({ rates: [10], state: { done: true, probes: 1 } });
    expect(search(range, 5000)).toMatchObject({ rates: [10, 1000], state: { done: true, probes: 2 } });
  });

  it('never runs more probes than maxProbes says (the budget estimate counts with it)', () => {
    for (const r of [range, { from: 1, to: 2, precision: 0.5 }, { from: 5, to: 50_000, precision: 0.02 }, { from: 100, to: 101, precision: 0.001 }]) {
      for (let i = 0; i <= 50; i++) {
        const capacity = r.from * Math.pow(r.to / r.from, i / 50) * 1.0001;
        expect(search(r, capacity).rates.length).toBeLessThanOrEqual(maxProbes(r));
      }
    }
  });

  it('confirms a narrow bracket by probing its passing end, then its failing end, once more', () => {
    const { rates, state } = search(range, 137);
    expect(rates.slice(-2)).toEqual([state.low, state.high]);
    expect(state.unconfirmed).toEqual([]);
  });

  it('reports an end whose second probe disagrees with its first as unconfirmed', () => {
    // A target that passes every rate up to 137 the first time it sees it, and fails anything it sees again.
    const seen = new Set<number>();
    let state = firstProbe(range);
    while (!state.done) {
      const rate = probeRate(range, state);
      const passed = rate <= 137 && !seen.has(rate);
      seen.add(rate);
      state = nextProbe(range, state, passed);
    }
    expect(state.unconfirmed).toEqual(['low']);
  });

  it('a spec without a search is done before it starts', () => {
    expect(firstProbe(undefined).done).toBe(true);
    expect(firstProbe(range)).toEqual({ done: false, low: 10, high: 1000, probes: 0 });
  });
});
