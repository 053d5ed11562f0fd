import { describe, expect, it } from 'vitest';

import { LatencyHistogram } from '../../../lib/load/histogram';
import type { PhaseResult, TokenResults } from '../../../lib/load/phase';
import { phaseMeetsSlo } from '../../../lib/load/phase-verdict';
import { type CandidateOutcome, paretoFrontier, selectCandidate, type SelectionInput } from '../../../lib/select/select';
import { seededRandom } from '../../../lib/util/seeded-random';
import { accuracyResult } from '../../helpers/quality-results';

/** A measured open-loop phase whose latencies are drawn around `centreMs` (±spread). */
function phase(rps: number, centreMs: number, options: { spread?: number; n?: number; errorRate?: number; seed?: number } = {}): PhaseResult {
  const random = seededRandom(options.seed ?? Math.round(rps * 1000 + centreMs));
  const h = new LatencyHistogram();
  const n = options.n ?? 2000;
  for (let i = 0; i < n; i++) h.recordMs(centreMs * (1 - (options.spread ?? 0.2) + 2 * (options.spread ?? 0.2) * random()));
  const errors = Math.round(n * (options.errorRate ?? 0));
  return {
    name: `${rps}rps`,
    mode: 'open',
    rate: rps,
    arrivals: 'poisson',
    plannedDurationMs: 10_000,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 10_000,
    requests: n + errors,
    successes: n,
    errors: errors ? { http_500: errors } : {},
    errorCount: errors,
    errorRate: errors / (n + errors),
    achievedRps: rps,
    lateSends: 0,
    maxLatenessMs: 0,
    generatorLimited: false,
    latencyMs: h.summary(),
    histogram: h.encode(),
  };
}

const measured = (id: string, scaling: CandidateOutcome['scaling'], phases: PhaseResult[]): CandidateOutcome => ({
  id,
  status: 'measured',
  scaling,
  phases,
});

const HOURLY: Record<string, number> = { small: 0.2, large: 0.8, gpu: 1.4, twin: 0.5, twin2: 0.6 };
function input(candidates: CandidateOutcome[], overrides: Partial<SelectionInput> = {}): SelectionInput {
  return {
    slo: { percentile: 95, latencyMs: 200, maxErrorRate: 0.01 },
    traffic: { averageRps: 20, peakRps: 100 },
    strategy: { type: 'cost', weight: 0.5 },
    candidates,
    price: (c) => ({ usdPerInstanceHour: HOURLY[c.id] ?? 0.1 }),
    hoursPerMonth: 730,
    ...overrides,
  };
}

describe('selection', () => {
  it('keeps only candidates that meet the SLO, and says why the others fail', () => {
    const selection = selectCandidate(
      input([
        measured('small', 'instances', [phase(20, 150), phase(40, 290)]), // p95 ≈ 170 ms at 20 rps: meets; at 40 rps fails
        measured('slow', 'instances', [phase(40, 280)]),
        measured('flaky', 'instances', [phase(40, 50, { errorRate: 0.05 })]),
      ]),
    );
    const reason = (id: string) => selection.candidates.find((c) => c.id === id)!.reason;
    expect(reason('slow')).toMatch(/^fails the SLO \(p95 3\d\d ms > 200 ms at 40 rps\)$/);
    expect(reason('flaky')).toMatch(/^fails the SLO \(error rate 4\.\d% > 1\.0% at 40 rps: http_500=\d+\)$/);
    expect(selection.recommended).toBe('small');
  });

  it('sizes no instances from a phase too short to tell capacity, and says so', () => {
    // 20 requests at 20 rps, all well within the SLO: the rate is known only to about ±44%.
    const selection = selectCandidate(
      input([measured('small', 'instances', [phase(20, 50, { n: 20 })]), measured('large', 'instances', [phase(200, 50)])]),
    );
    const small = selection.candidates.find((c) => c.id === 'small')!;
    expect(small).toMatchObject({ feasible: false, tooShortToSize: true });
    expect(small.instances).toBeUndefined();
    expect(small.reason).toMatch(
      /measured too briefly to size: its busiest passing phase \(20rps\) completed 20 requests in 10\.0 s, which puts its rate only within ±44%; phases of at least 50 requests \(3 s at 20 rps\) would/,
    );
    // large is sized and recommended, with a note that small, cheaper by the hour, was not settled.
    expect(selection.recommended).toBe('large');
    expect(selection.confidenceNote).toMatch(/small met the SLO and might cost less than large, but was measured too briefly to size/);
  });

  it('leaves no doubt about one too briefly measured when a phase it failed already puts it above the best', () => {
    // small passed 20 rps too briefly to size, and failed 24 rps: under 24 rps an instance, the
    // 100 rps peak takes at least 5 of them ($730/month), more than large's $584 whatever it measures.
    const selection = selectCandidate(
      input([measured('small', 'instances', [phase(20, 50, { n: 20 }), phase(24, 400)]), measured('large', 'instances', [phase(200, 50)])]),
    );
    expect(selection.candidates.find((c) => c.id === 'small')).toMatchObject({ tooShortToSize: true });
    expect(selection.recommended).toBe('large');
    expect(selection.confidenceNote).toBeUndefined();
  });

  it('keeps only those that meet the quality SLO too, and puts quality on the frontier', () => {
    const accuracy = accuracyResult;
    const withQuality = (id: string, quality: CandidateOutcome['quality']) => ({ ...measured(id, 'instances', [phase(200, 50)]), quality });
    const quality = { metric: 'accuracy' as const, slo: { min: 0.95 } };
    const selection = selectCandidate(
      input(
        [
          withQuality('small', accuracy(0.9, [0.88, 0.917])),
          withQuality('large', accuracy(0.97, [0.958, 0.979])),
          withQuality('gpu', accuracy(0.99, [0.982, 0.995])),
          withQuality('twin', {
            metric: 'accuracy',
            examples: 3,
            scored: 2,
            failedRequests: {},
            problem: 'example 3: the response is not JSON: "oops"',
          }),
          measured('twin2', 'instances', [phase(200, 50)]),
        ],
        { quality },
      ),
    );
    const verdict = (id: string) => selection.candidates.find((c) => c.id === id)!;
    expect(selection.recommended).toBe('large');
    expect(verdict('small').reason).toBe('fails the quality SLO (accuracy 0.900 (95% interval 0.880–0.917) < 0.950); it would cost $146.00/month');
    expect(verdict('twin').reason).toBe(
      'fails the quality SLO (accuracy could not be measured: example 3: the response is not JSON: "oops"); it would cost $365.00/month',
    );
    expect(verdict('twin2').reason).toMatch(/accuracy could not be measured: no quality measurement was recorded for it/);
    // gpu is dearer and slower than large, yet more accurate: on the cost × latency × quality frontier.
    expect(selection.frontier).toEqual(['large', 'gpu']);
    expect(verdict('gpu').reason).toMatch(/^on the frontier, not chosen: better accuracy than large \(0\.990 against 0\.970\)/);
    const none = selectCandidate(input([withQuality('small', accuracy(0.9, [0.88, 0.917]))], { quality }));
    expect(none.noRecommendationNote).toBe('none of the candidates meets both SLOs: small met the latency SLO but fails the quality SLO');
  });

  it('says which case it is when nothing is recommended, each with what would settle it', () => {
    const noteOf = (candidates: CandidateOutcome[]) => {
      const selection = selectCandidate(input(candidates));
      expect(selection.recommended).toBeUndefined();
      return selection.noRecommendationNote;
    };
    const refused = { ...phase(20, 50), errors: { connection_ECONNREFUSED: 400 }, errorCount: 400, errorRate: 1, successes: 0 };
    expect(noteOf([measured('short', 'instances', [phase(20, 50, { n: 20 })])])).toBe(
      'none: short met the SLO but was measured too briefly to size; phases of at least 50 requests (load.phases[].duration) would settle it',
    );
    expect(noteOf([measured('gone', 'instances', [refused])])).toBe(
      'none: gone could not be reached: no request got an answer (connection_ECONNREFUSED=400); check the endpoint and run again',
    );
    expect(noteOf([{ id: 'broken', status: 'failed', reason: 'deploy failed: no quota', scaling: 'instances', phases: [] }])).toBe(
      'none: broken could not be measured (deploy failed: no quota); fix that and run again',
    );
    expect(noteOf([measured('slow', 'instances', [phase(20, 400)]), measured('slower', 'instances', [phase(20, 600)])])).toBe(
      'none of the candidates meets the SLO (slow, slower fail the SLO)',
    );
    // Cases together: each said once, with its candidates.
    expect(noteOf([measured('slow', 'instances', [phase(20, 400)]), measured('short', 'instances', [phase(20, 50, { n: 20 })])])).toBe(
      'none: short met the SLO but was measured too briefly to size; phases of at least 50 requests (load.phases[].duration) would settle it; slow fails the SLO',
    );
  });

  it('sizes instance-based candidates at the peak: ceil(peak / rps one instance sustains)', () => {
    const selection = selectCandidate(input([measured('small', 'instances', [phase(40, 100)])]));
    const verdict = selection.candidates[0];
    expect(verdict).toMatchObject({ maxRpsWithinSlo: 40, instances: 3, feasible: true, recommended: true });
    expect(verdict.monthlyCostUsd).toBeCloseTo(0.2 * 3 * 730, 9);
    expect(verdict.costPerHourUsd).toBe(0.2);
    expect(verdict.costPerMillionInferencesUsd).toBeCloseTo((0.2 / (40 * 3600)) * 1e6, 9);
    expect(verdict.reason).toMatch(
      /^recommended: the cheapest that meets p95 ≤ 200 ms at 100 rps peak: \$438\.00\/month on 3 instances, p95 1\d\d ms$/,
    );
  });

  it('buys a multi-instance candidate whole: its capacity is for all its instances, and each is billed', () => {
    // A 2-instance endpoint sustains 60 rps; at a 100 rps peak that is 2 deployments, 4 instances.
    const selection = selectCandidate(input([{ ...measured('twin', 'instances', [phase(60, 100)]), instancesPerUnit: 2 }]));
    const twin = selection.candidates[0]!;
    expect(twin.instances).toBe(4);
    expect(twin.monthlyCostUsd).toBeCloseTo(4 * 0.5 * 730, 6);
    // One instance's hour over the 30 rps each instance carries.
    expect(twin.costPerMillionInferencesUsd).toBeCloseTo((0.5 / (30 * 3600)) * 1e6, 6);
  });

  it('compares latency at the load one instance carries at the peak, not at its limit', () => {
    // 3 instances for a 100 rps peak (40 rps each at most): each carries ~33 rps, where p95 is ~60 ms
    const selection = selectCandidate(input([measured('small', 'instances', [phase(10, 20), phase(35, 50), phase(40, 150)])]));
    expect(selection.candidates[0]).toMatchObject({ instances: 3, maxRpsWithinSlo: 40 });
    expect(selection.candidates[0].sloLatencyMs).toBeGreaterThan(55);
    expect(selection.candidates[0].sloLatencyMs).toBeLessThan(62);
  });

  it('recommends the cheapest, the fastest or the best balance by strategy', () => {
    const candidates = [
      measured('small', 'instances', [phase(50, 150)]), // 2 instances × 0.2 = 0.4/h, ~170 ms
      measured('gpu', 'instances', [phase(200, 20)]), // 1 × 1.4/h, ~23 ms
      measured('large', 'instances', [phase(100, 80)]), // 1 × 0.8/h, ~90 ms
    ];
    expect(selectCandidate(input(candidates)).recommended).toBe('small');
    expect(selectCandidate(input(candidates, { strategy: { type: 'speed', weight: 0.5 } })).recommended).toBe('gpu');
    expect(selectCandidate(input(candidates, { strategy: { type: 'balanced', weight: 0.9 } })).recommended).toBe('small');
    expect(selectCandidate(input(candidates, { strategy: { type: 'balanced', weight: 0.1 } })).recommended).toBe('gpu');
  });

  it('computes the Pareto frontier and names the dominating candidate', () => {
    const selection = selectCandidate(
      input([
        measured('small', 'instances', [phase(50, 150)]),
        measured('gpu', 'instances', [phase(200, 20)]),
        measured('large', 'instances', [phase(100, 160)]), // costs more than small (0.8 vs 0.4) and is slower
      ]),
    );
    expect(selection.frontier.sort()).toEqual(['gpu', 'small']);
    expect(selection.candidates.find((c) => c.id === 'large')!.reason).toMatch(/^dominated by small: it costs \$292\.00 and has p95 1\d\d ms/);
    expect(selection.candidates.find((c) => c.id === 'gpu')!.reason).toMatch(
      /^on the frontier, not chosen: faster than small but \$\d+\.\d\d\/month more/,
    );
  });

  it('prefers the cheaper when the two fastest cannot be told apart', () => {
    const selection = selectCandidate(
      input(
        [
          measured('twin2', 'instances', [phase(100, 50, { seed: 1, n: 300 })]),
          measured('twin', 'instances', [phase(100, 50.5, { seed: 2, n: 300 })]),
        ],
        {
          strategy: { type: 'speed', weight: 0.5 },
        },
      ),
    );
    expect(selection.recommended).toBe('twin');
    expect(selection.confidenceNote).toMatch(/cannot be told apart: their p95 intervals overlap .*; choosing the cheaper, twin$/);
  });

  it('does not claim a tie when the intervals are apart', () => {
    const selection = selectCandidate(
      input([measured('twin2', 'instances', [phase(100, 50)]), measured('twin', 'instances', [phase(100, 90)])], {
        strategy: { type: 'speed', weight: 0.5 },
      }),
    );
    expect(selection.recommended).toBe('twin2');
    expect(selection.confidenceNote).toBeUndefined();
  });

  it('gives failed, unavailable and refused candidates their reasons, and recommends nothing when none is feasible', () => {
    const selection = selectCandidate(
      input([
        { id: 'a', status: 'failed', scaling: 'instances', phases: [], reason: 'container exited 1 (see /aws/sagemaker/Endpoints/a)' },
        { id: 'b', status: 'unavailable', scaling: 'instances', phases: [], reason: 'ResourceLimitExceeded: ml.g5.xlarge quota is 0' },
        { id: 'c', status: 'over-budget', scaling: 'instances', phases: [], reason: 'estimated $12.40 > $10.00 left' },
      ]),
    );
    expect(selection.recommended).toBeUndefined();
    expect(selection.candidates.map((c) => c.reason)).toEqual([
      'failed: container exited 1 (see /aws/sagemaker/Endpoints/a)',
      'unavailable: ResourceLimitExceeded: ml.g5.xlarge quota is 0',
      'over budget: estimated $12.40 > $10.00 left',
    ]);
  });

  it('enforces a minimum throughput on per-request candidates', () => {
    const selection = selectCandidate(
      input([measured('fn', 'per-request', [phase(12, 80)])], { slo: { percentile: 95, latencyMs: 200, maxErrorRate: 0.01, minThroughput: 20 } }),
    );
    expect(selection.candidates[0].reason).toBe('fails the SLO (highest rate within it 12.0 rps < minimum 20 rps)');
  });

  it('finds the frontier of cost and latency points', () => {
    const points = [
      { id: 'a', monthlyCostUsd: 10, sloLatencyMs: 100 },
      { id: 'b', monthlyCostUsd: 20, sloLatencyMs: 50 },
      { id: 'c', monthlyCostUsd: 20, sloLatencyMs: 100 },
      { id: 'd', monthlyCostUsd: 5, sloLatencyMs: 300 },
    ];
    expect(paretoFrontier(points)).toEqual(['a', 'b', 'd']);
  });
});

describe('selection under uncertainty', () => {
  const PRICE: Record<string, number> = { coarse: 0.1, pinned: 0.15, dear: 0.3 };
  const ranged = (candidates: CandidateOutcome[]) =>
    selectCandidate(input(candidates, { price: (c) => ({ usdPerInstanceHour: PRICE[c.id] ?? 0.1 }), traffic: { averageRps: 20, peakRps: 100 } }));
  // passes at 20 rps and misses at 60: capacity somewhere in 20–60 rps, so 2 to 5 instances at the 100 rps peak
  const coarse = measured('coarse', 'instances', [phase(20, 100, { n: 4000 }), phase(60, 400, { n: 4000 })]);

  it('says "too close to call", naming both, when the best two could each be the cheaper', () => {
    const selection = ranged([coarse, measured('pinned', 'instances', [phase(50, 100, { n: 4000 })])]);
    const verdict = selection.candidates.find((c) => c.id === 'coarse')!;
    expect(verdict.maxRpsWithinSloRange).toEqual([20, 60]);
    expect(verdict.instancesRange).toEqual([2, 5]);
    expect(verdict.monthlyCostRangeUsd![0]).toBeCloseTo(0.1 * 2 * 730, 6);
    expect(verdict.monthlyCostRangeUsd![1]).toBeCloseTo(0.1 * 5 * 730, 6);
    expect(selection.recommended).toBe('pinned');
    expect(selection.confidenceNote).toMatch(
      /^too close to call: pinned \(\$219\.00\/month\) and coarse \(\$146\.00–\$365\.00\/month\) could each be the cheaper; recommending pinned/,
    );
    expect(selection.confidenceNote).toMatch(/a rate search \(load\.search\) of coarse between 20 and 60 rps would settle it/);
  });

  it('a rate probed twice counts as passed only if it passed both times (a rate search confirming its bracket)', () => {
    const flaky = measured('coarse', 'instances', [
      phase(20, 100, { n: 4000 }),
      phase(50, 100, { n: 4000 }),
      phase(50, 400, { n: 4000, seed: 9 }),
      phase(80, 400, { n: 4000 }),
    ]);
    const verdict = ranged([flaky]).candidates[0]!;
    expect(verdict.maxRpsWithinSlo).toBe(20);
    expect(verdict.maxRpsWithinSloRange).toEqual([20, 50]);
  });

  it('bounds capacity by the rate a failing phase offered, not what it completed while overloaded', () => {
    // Offered 150 rps, it completed only 90 (the rest still queued at its end): capacity is under 150, not under 90.
    const overloaded = { ...phase(150, 400, { n: 4000 }), achievedRps: 90 };
    const verdict = ranged([measured('coarse', 'instances', [phase(20, 100, { n: 4000 }), phase(103, 100, { n: 4000 }), overloaded])]).candidates[0]!;
    expect(verdict.maxRpsWithinSlo).toBe(103);
    expect(verdict.maxRpsWithinSloRange![1]).toBe(150);
    // The point estimate lies within its own range, so its cost does too.
    expect(verdict.monthlyCostUsd).toBeGreaterThanOrEqual(verdict.monthlyCostRangeUsd![0]);
    expect(verdict.monthlyCostUsd).toBeLessThanOrEqual(verdict.monthlyCostRangeUsd![1]);
  });

  it('recommends plainly when the cost ranges are apart', () => {
    const selection = ranged([coarse, measured('dear', 'instances', [phase(50, 100, { n: 4000 })])]);
    expect(selection.recommended).toBe('coarse');
    expect(selection.confidenceNote).toBeUndefined();
  });

  it('says a candidate whose only phase straddles the SLO is too close to call, and that it might undercut the recommendation', () => {
    // p95 about 200 ms against a 200 ms SLO, and the windows swing either side of it.
    const straddling = { ...phase(20, 185), sloWindowsMs: [150, 250, 160, 240, 170, 230, 150, 250, 165, 235], extended: true };
    const selection = ranged([measured('coarse', 'instances', [straddling]), measured('dear', 'instances', [phase(50, 100, { n: 4000 })])]);
    const verdict = selection.candidates.find((c) => c.id === 'coarse')!;
    expect(verdict).toMatchObject({ feasible: false, tooCloseToCall: true });
    expect(verdict.reason).toMatch(
      /^too close to call whether it meets the SLO: p95 2\d\d ms \(95% interval 1\d\d ms–2\d\d ms\) against 200 ms at 20 rps after 10\.0 s, run on past its plan; a longer phase/,
    );
    expect(selection.recommended).toBe('dear');
    expect(selection.confidenceNote).toMatch(/^coarse might meet the SLO too and cost less than dear/);
  });

  it('gives a candidate that could not be measured reliably its reason, and recommends nothing it might undercut', () => {
    const starved = { ...phase(20, 400), validity: { valid: false, reason: 'the load generator sent 30.0 ms late' } };
    const selection = ranged([measured('coarse', 'instances', [starved]), measured('dear', 'instances', [phase(50, 100, { n: 4000 })])]);
    const verdict = selection.candidates.find((c) => c.id === 'coarse')!;
    expect(verdict).toMatchObject({ feasible: false, inconclusive: 'the load generator sent 30.0 ms late' });
    expect(verdict.reason).toBe('could not be measured reliably on this machine: the load generator sent 30.0 ms late');
    expect(selection.recommended).toBeUndefined();
    expect(selection.measurementNote).toMatch(
      /^no recommendation: this machine was too busy to measure coarse .*might cost less than the best measured, dear/,
    );
  });
});

describe('selection on token bounds (streamed responses)', () => {
  /** Latencies drawn uniformly within ±20% of `centreMs`. */
  const drawn = (centreMs: number, n: number, seed: number) => {
    const random = seededRandom(seed);
    const h = new LatencyHistogram();
    for (let i = 0; i < n; i++) h.recordMs(centreMs * (0.8 + 0.4 * random()));
    return h;
  };
  /** A phase whose 2000 streams' first tokens centre on `ttftMs` and whose 8 gaps each centre on `itlMs`: 10 tokens a request. */
  function streamed(rps: number, ttftMs: number, itlMs: number, extra: Partial<TokenResults> = {}): PhaseResult {
    const base = phase(rps, 400);
    const ttft = drawn(ttftMs, 2000, rps);
    const itl = drawn(itlMs, 16_000, rps + 1);
    return {
      ...base,
      tokens: {
        streams: 2000,
        outputTokens: 20_000,
        outputTokensPerSecond: rps * 10,
        countedBy: 'usage',
        timeToFirstTokenMs: ttft.summary(),
        timeToFirstTokenHistogram: ttft.encode(),
        interTokenMs: itl.summary(),
        interTokenHistogram: itl.encode(),
        ...extra,
      },
    };
  }
  const slo = {
    percentile: 95,
    latencyMs: 1000,
    maxErrorRate: 0.01,
    timeToFirstToken: { percentile: 95, ms: 200 },
    interTokenLatency: { percentile: 95, ms: 50 },
  };
  const select = (candidates: CandidateOutcome[]) =>
    selectCandidate(
      input(candidates, { slo, price: (c) => ({ usdPerInstanceHour: c.id === 'gpu' ? 1.2 : 0.6 }), traffic: { averageRps: 10, peakRps: 40 } }),
    );

  it('caps capacity at the highest rate that meets every token bound, and prices a million output tokens there', () => {
    // 20 rps meets both; at 40 rps the gaps between tokens grow to about 70 ms at p95.
    const selection = select([measured('gpu', 'instances', [streamed(20, 100, 20), streamed(40, 120, 60)])]);
    const gpu = selection.candidates[0]!;
    expect(gpu).toMatchObject({ feasible: true, maxRpsWithinSlo: 20, instances: 2, outputTokensPerSecond: 200 });
    expect(gpu.tokenLatenciesMs!.timeToFirstToken).toBeGreaterThan(100);
    expect(gpu.tokenLatenciesMs!.timeToFirstToken).toBeLessThan(120);
    // $1.2 an hour for 20 rps × 10 tokens: 720,000 tokens an hour, $1.67 per million
    expect(gpu.costPerMillionOutputTokensUsd).toBeCloseTo((1.2 / (20 * 10 * 3600)) * 1e6, 9);
    expect(gpu.reason).toMatch(/p95 time to first token 1\d\d ms, p95 inter-token latency 2\d\.\d ms, \$1\.67 per million output tokens$/);
  });

  it('a phase meets the SLO only when every token bound is met, which is what the rate search probes by', () => {
    expect(phaseMeetsSlo(streamed(20, 100, 20), slo)).toBe(true);
    // Latency and gaps within, first token not: the rate search takes this probe as over capacity.
    expect(phaseMeetsSlo(streamed(20, 400, 20), slo)).toBe(false);
    expect(phaseMeetsSlo(streamed(20, 100, 60), slo)).toBe(false);
    // No token measured cannot meet a token bound; without token bounds, the same phase meets the SLO.
    expect(phaseMeetsSlo({ ...phase(20, 400), tokens: undefined }, slo)).toBe(false);
    expect(phaseMeetsSlo({ ...phase(20, 400), tokens: undefined }, { percentile: 95, latencyMs: 1000, maxErrorRate: 0.01 })).toBe(true);
  });

  it('names the token bound a candidate misses, and one it could not measure', () => {
    const selection = select([
      measured('slow-start', 'instances', [streamed(20, 400, 20)]),
      measured('silent', 'instances', [{ ...phase(20, 400), tokens: undefined }]),
    ]);
    const reason = (id: string) => selection.candidates.find((c) => c.id === id)!.reason;
    expect(reason('slow-start')).toMatch(/^fails the SLO \(p95 time to first token 4\d\d ms > 200 ms at 20 rps\)$/);
    expect(reason('silent')).toBe(
      'fails the SLO (p95 time to first token not measured: no response streamed a token, p95 inter-token latency not measured: no response streamed a token at 20 rps)',
    );
  });

  it('calls a token bound too close to call when its windows straddle it, as it does latency', () => {
    // p95 of the gaps about 51 ms against 50, windows swinging either side
    const straddling = streamed(20, 100, 43.5, { interTokenWindowsMs: [40, 61, 42, 60, 41, 59, 40, 62, 43, 58] });
    const verdict = select([measured('gpu', 'instances', [straddling])]).candidates[0]!;
    expect(verdict).toMatchObject({ feasible: false, tooCloseToCall: true });
    expect(verdict.reason).toMatch(
      /^too close to call whether it meets the SLO: p95 inter-token latency 5\d\.\d ms \(95% interval \d+\.\d ms–\d+\.\d ms\) against 50\.0 ms/,
    );
  });
});
