import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { BenchmarkSweep } from '../../../constructs';
import { PriceBook } from '../../../lib/cost/price-book';
import { runSweep, type RunSweepOptions } from '../../../lib/local/run-sweep';
import { parseSpec } from '../../../lib/spec/load-spec';
import { type LocalDynamo, startLocalDynamo } from '../../../lib/store/local-dynamo';
import { ResultsStore } from '../../../lib/store/results-store';
import type { TargetAdapter } from '../../../lib/targets/adapter';
import { httpTarget } from '../../../lib/targets/http-target';
import { SWEEP_TASKS, type SweepTask } from '../../../lib/workflow/task-names';
import { testStack } from '../../helpers/cdk';
import { fixedDelayServer, type TestServer } from '../../helpers/test-servers';

const TABLE = 'results';

/** The state machine as BenchmarkSweep synthesizes it, with its function ARNs made literal. */
function synthesizedDefinition(): Record<string, unknown> {
  const stack = testStack();
  new BenchmarkSweep(stack, 'Sweep');
  const [machine] = Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine')) as any[];
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'arn:aws:lambda:us-east-1:123456789012:function:step')).join(''));
}

/** http candidates whose deployments and teardowns are counted, per candidate. */
function countingAdapter() {
  const deployed: string[] = [];
  const tornDown: string[] = [];
  const adapter: TargetAdapter<any> = {
    ...httpTarget,
    async deploy(candidate, context) {
      deployed.push(candidate.id);
      const deployment = await httpTarget.deploy(candidate, context);
      return { ...deployment, teardown: async () => void tornDown.push(candidate.id) };
    },
    // Only one process here: the workflow must find the live deployment, not rebuild it.
    attach: undefined,
  };
  return { adapter, deployed, tornDown };
}

function spec(candidates: unknown[], extra: Record<string, unknown> = {}) {
  return {
    name: 'workflow-test',
    model: { name: 'demo' },
    payloads: [{ body: '{"x":1}' }],
    candidates,
    load: {
      phases: [
        { mode: 'open', rate: 150, duration: '400ms' },
        { mode: 'open', rate: 250, duration: '400ms' },
      ],
    },
    slo: { percentile: 95, latencyMs: 40, maxErrorRate: 0.01 },
    traffic: { averageRps: 20, peakRps: 60 },
    ...extra,
  };
}

/** Throws `error` (with that name) when `task` runs for `candidateId`, `times` times. */
function failing(task: SweepTask, candidateId: string | undefined, name: string, times = Infinity): RunSweepOptions['deliver'] {
  let left = times;
  return async (t, event, handler) => {
    const candidate = (event as { candidate?: { id: string } }).candidate?.id;
    if (t === task && (candidateId === undefined || candidate === candidateId) && left-- > 0) {
      const error = new Error(`injected failure in ${SWEEP_TASKS[task]}`);
      error.name = name;
      throw error;
    }
    return handler(event);
  };
}

describe('the synthesized BenchmarkSweep state machine, run locally against dynalite', () => {
  const definition = synthesizedDefinition();
  let dynamo: LocalDynamo;
  let store: ResultsStore;
  let fast: TestServer;
  let slow: TestServer;
  beforeAll(async () => {
    dynamo = await startLocalDynamo({ tableName: TABLE });
    store = new ResultsStore(dynamo.client, TABLE);
    fast = await fixedDelayServer(2);
    slow = await fixedDelayServer(60);
  });
  afterAll(async () => {
    await Promise.all([fast.close(), slow.close(), dynamo.close()]);
  });

  const candidates = () => [
    { kind: 'http', name: 'fast', url: fast.url, costPerHour: 0.5 },
    { kind: 'http', name: 'cheap-slow', url: slow.url, costPerHour: 0.1 },
  ];
  const sweep = (candidateList: unknown[], options: Partial<RunSweepOptions> = {}, extra: Record<string, unknown> = {}) => {
    const counting = countingAdapter();
    const run = runSweep(parseSpec(stringify(spec(candidateList, extra)), 'spec.yaml', '/'), {
      store,
      prices: PriceBook.snapshot(),
      adapters: { http: counting.adapter },
      definition,
      maxConcurrency: 2,
      ...options,
    });
    return { run, ...counting };
  };

  it('measures, records and tears down every candidate, selects, and reports (the happy path)', async () => {
    const { run, deployed, tornDown } = sweep(candidates());
    const outcome = await run;
    expect(outcome.status).toBe('succeeded');
    expect(outcome.records.map((r) => [r.candidate.id, r.status, r.phases.length])).toEqual([
      ['fast', 'measured', 2],
      ['cheap-slow', 'measured', 2],
    ]);
    expect(deployed.sort()).toEqual(['cheap-slow', 'fast']);
    expect(tornDown.sort()).toEqual(['cheap-slow', 'fast']);
    expect(outcome.selection.recommended).toBe('fast');
    expect(outcome.summary).toMatchObject({ status: 'succeeded', recommended: 'fast', measured: 2, notMeasured: [] });
    expect(outcome.summary.report.html).toMatch(/reports\/workflow-test-.*\/report\.html$/);
    expect(await store.getSweep(outcome.sweepId)).toMatchObject({ status: 'succeeded' });
  });

  it("says whether the recommendation changed since the model's previous sweep", async () => {
    const first = await sweep(candidates()).run;
    const same = await sweep(candidates()).run;
    expect(same.summary).toMatchObject({ recommended: 'fast', changed: false, previous: { sweepId: first.sweepId, recommended: 'fast' } });
    // the fast one is gone: the slow one is all that is left and misses the SLO
    const changed = await sweep([{ kind: 'http', name: 'fast', url: slow.url, costPerHour: 0.5 }]).run;
    expect(changed.summary).toMatchObject({ changed: true, previous: { sweepId: same.sweepId, recommended: 'fast' } });
    expect(changed.summary.recommended).toBeUndefined();
  });

  it('reports a failed candidate and still succeeds when another was measured', async () => {
    const { run, tornDown } = sweep([...candidates(), { kind: 'http', name: 'gone', url: 'http://127.0.0.1:9/', costPerHour: 0.01 }]);
    const outcome = await run;
    expect(outcome.status).toBe('succeeded');
    expect(outcome.records.find((r) => r.candidate.id === 'gone')).toMatchObject({
      status: 'failed',
      reason: 'cannot reach http://127.0.0.1:9/ (ECONNREFUSED)',
    });
    expect(outcome.summary.notMeasured).toEqual([{ id: 'gone', status: 'failed', reason: 'cannot reach http://127.0.0.1:9/ (ECONNREFUSED)' }]);
    expect(tornDown.sort()).toEqual(['cheap-slow', 'fast', 'gone']);
  });

  it('ends FAILED with every reason when no candidate could be measured', async () => {
    const { run, tornDown } = sweep([
      { kind: 'http', name: 'gone', url: 'http://127.0.0.1:9/', costPerHour: 0.01 },
      { kind: 'http', name: 'also-gone', url: 'http://127.0.0.1:9/x', costPerHour: 0.01 },
    ]);
    const outcome = await run;
    expect(outcome.status).toBe('failed');
    expect(outcome.summary.reason).toBe(
      'no candidate could be measured: gone failed (cannot reach http://127.0.0.1:9/ (ECONNREFUSED)); also-gone failed (cannot reach http://127.0.0.1:9/x (ECONNREFUSED))',
    );
    expect(await store.getSweep(outcome.sweepId)).toMatchObject({ status: 'failed', reason: outcome.summary.reason });
    expect(tornDown.sort()).toEqual(['also-gone', 'gone']);
  });

  it('refuses a candidate over the budget before deploying it', async () => {
    // 0.8 s of load: the $0.5/h candidate would cost about $0.0001, the $500/h one about $0.11
    const { run, deployed } = sweep(
      [...candidates(), { kind: 'http', name: 'pricey', url: fast.url, costPerHour: 500 }],
      {},
      // Exhaustive: the search would otherwise skip pricey as unable to win, before the budget could refuse it.
      { budget: { maxUsd: 0.01 }, candidateSearch: { mode: 'exhaustive' } },
    );
    const outcome = await run;
    expect(outcome.records.find((r) => r.candidate.id === 'pricey')).toMatchObject({
      status: 'over-budget',
      reason: expect.stringMatching(/^measuring it would cost about \$0\.1\d .* of the \$0\.01 budget is left$/),
    });
    expect(deployed).not.toContain('pricey');
    expect(outcome.records.filter((r) => r.status === 'measured')).toHaveLength(2);
    expect((await store.getSweep(outcome.sweepId))?.reserved).toEqual({ fast: expect.any(Number), 'cheap-slow': expect.any(Number) });
  });

  it('retries a throttled step and then succeeds', async () => {
    const calls: SweepTask[] = [];
    const throttled = failing('deploy', 'fast', 'ThrottlingException', 2);
    const { run, deployed } = sweep(candidates(), { deliver: (task, event, handler) => (calls.push(task), throttled!(task, event, handler)) });
    const outcome = await run;
    expect(outcome.records.map((r) => r.status)).toEqual(['measured', 'measured']);
    expect(calls.filter((t) => t === 'deploy')).toHaveLength(4); // fast three times, cheap-slow once
    expect(deployed.sort()).toEqual(['cheap-slow', 'fast']);
  });

  it('records each result once when every task is delivered twice', async () => {
    const { run, deployed, tornDown } = sweep(candidates(), {
      deliver: async (_task, event, handler) => {
        await handler(event);
        return handler(event);
      },
    });
    const outcome = await run;
    expect(outcome.status).toBe('succeeded');
    expect(await store.listCandidateResults(outcome.sweepId)).toHaveLength(2);
    expect((await store.listPhases(outcome.sweepId, 'fast')).map((p) => p.name)).toEqual(['phase1', 'phase2']);
    expect(deployed.sort()).toEqual(['cheap-slow', 'fast']); // the second deploy finds the first
    expect(new Set(tornDown)).toEqual(new Set(['cheap-slow', 'fast']));
    expect(outcome.selection.recommended).toBe('fast');
  });

  const BRANCH_STEPS: SweepTask[] = ['budget', 'deploy', 'checkReady', 'warmup', 'generate', 'recordPhase', 'record', 'teardown'];
  it.each(BRANCH_STEPS)('tears down and records a failure when %s fails', async (task) => {
    const { run, deployed, tornDown } = sweep(candidates(), { deliver: failing(task, 'fast', 'Error') });
    const outcome = await run;
    const fastRecord = outcome.records.find((r) => r.candidate.id === 'fast')!;
    // whatever was deployed is gone, and the other candidate was measured
    expect(tornDown.filter((id) => id === 'fast').length).toBe(deployed.filter((id) => id === 'fast').length);
    expect(outcome.records.find((r) => r.candidate.id === 'cheap-slow')?.status).toBe('measured');
    if (task === 'teardown') {
      // recorded as measured; the failed teardown was retried by the failure path
      expect(fastRecord.status).toBe('measured');
      expect(tornDown).toContain('fast');
    } else {
      expect(fastRecord).toMatchObject({ status: 'failed', reason: `Error: injected failure in ${SWEEP_TASKS[task]}` });
      // a failure injected at budget or deploy comes before anything was deployed
      expect(deployed.includes('fast')).toBe(task !== 'budget' && task !== 'deploy');
    }
  });

  it('splits a phase above the per-generator rate among generators run side by side, merged into one phase', async () => {
    const { run } = sweep([{ kind: 'http', name: 'fast', url: fast.url, costPerHour: 0.5 }], { maxRatePerGenerator: 100 });
    const outcome = await run;
    const [first, second] = outcome.records[0]!.phases;
    // 150 rps in 2 generators of 75, 250 rps in 3 of 83.3: each phase recorded once, at its whole rate
    expect([first!.name, first!.rate, second!.name, second!.rate]).toEqual(['phase1', 150, 'phase2', 250]);
    expect(second!.successes).toBe(second!.latencyMs.count);
    expect(second!.requests).toBeGreaterThan(0);
  });

  it('runs the rate search as a loop of probes, each recorded as a phase', async () => {
    const { run } = sweep(
      [{ kind: 'http', name: 'fast', url: fast.url, costPerHour: 0.5 }],
      {},
      { load: { phases: [{ mode: 'open', rate: 20, duration: '200ms' }], search: { from: 20, to: 80, stepDuration: '200ms', precision: 0.5 } } },
    );
    const outcome = await run;
    const names = outcome.records[0]!.phases.map((p) => p.name);
    expect(names[0]).toBe('phase1');
    expect(names.slice(1, 3)).toEqual(['search-20rps', 'search-80rps']);
  });
});
