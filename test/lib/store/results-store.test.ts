import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LatencyHistogram } from '../../../lib/load/histogram';
import type { PhaseResult } from '../../../lib/load/phase';
import type { Candidate } from '../../../lib/spec/expand';
import { type LocalDynamo, startLocalDynamo } from '../../../lib/store/local-dynamo';
import { ResultsStore } from '../../../lib/store/results-store';
import { RESULTS_TABLE } from '../../../lib/store/table';

const TABLE = 'modelsweep-results';
const candidate: Candidate = { id: 'local-threads1', group: 0, environment: {}, kind: 'local', threads: 1, maxBatchSize: 1, costPerHour: 0.1 };

function phase(): PhaseResult {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 500; i++) h.recordMs(i / 10);
  return {
    name: 'p',
    mode: 'open',
    rate: 50,
    arrivals: 'poisson',
    plannedDurationMs: 1000,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1000,
    requests: 500,
    successes: 500,
    errors: {},
    errorCount: 0,
    errorRate: 0,
    achievedRps: 50,
    lateSends: 0,
    maxLatenessMs: 0,
    generatorLimited: false,
    latencyMs: h.summary(),
    histogram: h.encode(),
  };
}

describe('results store on dynalite', () => {
  let dynamo: LocalDynamo;
  let store: ResultsStore;
  beforeAll(async () => {
    dynamo = await startLocalDynamo({ tableName: TABLE });
    store = new ResultsStore(dynamo.client, TABLE);
  });
  afterAll(() => dynamo.close());

  it('serves DynamoDB on 127.0.0.1 with the table as defined once in lib/store', async () => {
    expect(new URL(dynamo.endpoint).hostname).toBe('127.0.0.1');
    const { Table } = await dynamo.client.send(new DescribeTableCommand({ TableName: TABLE }));
    expect(Table?.KeySchema).toEqual([
      { AttributeName: RESULTS_TABLE.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: RESULTS_TABLE.sortKey.name, KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['ByModel']);
  });

  it('records a sweep, its candidates with histograms and its selection', async () => {
    expect(await store.createSweep({ sweepId: 's1', name: 'demo', model: 'demo', createdAt: '2026-11-20T10:00:00Z', spec: { name: 'demo' } })).toBe(
      'written',
    );
    const p = phase();
    expect(await store.putCandidateResult({ sweepId: 's1', candidate, status: 'measured', phases: [p], recordedAt: '2026-11-20T10:05:00Z' })).toBe(
      'written',
    );
    expect(
      await store.putSelection({
        sweepId: 's1',
        selection: { recommended: 'local-threads1', strategy: { type: 'cost', weight: 0.5 }, frontier: ['local-threads1'], candidates: [] },
        recordedAt: '2026-11-20T10:06:00Z',
      }),
    ).toBe('written');
    await store.markSweepFinished('s1', 'succeeded', '2026-11-20T10:06:00Z');

    const sweep = await store.getSweep('s1');
    expect(sweep).toMatchObject({ sweepId: 's1', status: 'succeeded', model: 'demo', spec: { name: 'demo' } });
    const results = await store.listCandidateResults('s1');
    expect(results).toHaveLength(1);
    expect(LatencyHistogram.decode(results[0].phases[0].histogram).summary()).toEqual(LatencyHistogram.decode(p.histogram).summary());
    expect((await store.getSelection('s1'))?.selection.recommended).toBe('local-threads1');
  });

  it('never duplicates a re-delivered write, and keeps the first', async () => {
    await store.createSweep({ sweepId: 's2', name: 'demo', model: 'demo', createdAt: '2026-11-21T10:00:00Z', spec: {} });
    const record = { sweepId: 's2', candidate, status: 'measured' as const, phases: [phase()], recordedAt: '2026-11-21T10:05:00Z' };
    expect(await store.putCandidateResult(record)).toBe('written');
    expect(await store.putCandidateResult({ ...record, recordedAt: 'later' })).toBe('already-recorded');
    const results = await store.listCandidateResults('s2');
    expect(results).toHaveLength(1);
    expect(results[0].recordedAt).toBe('2026-11-21T10:05:00Z');
    expect(await store.createSweep({ sweepId: 's2', name: 'x', model: 'demo', createdAt: 'later', spec: {} })).toBe('already-recorded');
  });

  it("lists a model's sweeps newest first", async () => {
    await store.createSweep({ sweepId: 's3', name: 'demo', model: 'demo', createdAt: '2026-11-22T10:00:00Z', spec: {} });
    await store.createSweep({ sweepId: 'other', name: 'x', model: 'resnet', createdAt: '2026-11-23T10:00:00Z', spec: {} });
    expect((await store.history('demo')).map((s) => s.sweepId)).toEqual(['s3', 's2', 's1']);
    expect((await store.history('demo', 1)).map((s) => s.sweepId)).toEqual(['s3']);
    expect((await store.history('resnet')).map((s) => s.sweepId)).toEqual(['other']);
  });

  it('reserves the budget atomically: concurrent candidates cannot overspend it, a re-delivered one is not counted twice', async () => {
    await store.createSweep({ sweepId: 'budget', name: 'b', model: 'b', createdAt: '2026-11-22T11:00:00Z', spec: {} });
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((id) => store.reserveBudget('budget', id, 4, 10)));
    expect(results.filter((r) => r.granted)).toHaveLength(2);
    const granted = Object.keys((await store.getSweep('budget'))!.reserved!);
    expect(granted).toHaveLength(2);
    expect(await store.reserveBudget('budget', granted[0]!, 4, 10)).toEqual({ granted: true, reservedUsd: 8 });
    expect(await store.reserveBudget('budget', 'e', 2, 10)).toEqual({ granted: true, reservedUsd: 10 });
  });

  it('finishes a sweep once: the same status again is harmless, another is refused', async () => {
    await store.markSweepFinished('s3', 'failed', '2026-11-22T11:00:00Z', 'every candidate failed');
    expect(await store.markSweepFinished('s3', 'failed', '2026-11-22T11:00:01Z')).toMatchObject({
      sweepId: 's3',
      status: 'failed',
      updatedAt: '2026-11-22T11:00:01Z',
    });
    await expect(store.markSweepFinished('s3', 'succeeded', '2026-11-22T11:00:02Z')).rejects.toThrow(/already finished with another status/);
    expect(await store.getSweep('s3')).toMatchObject({ status: 'failed', reason: 'every candidate failed' });
    await expect(store.markSweepFinished('nope', 'succeeded', 'x')).rejects.toThrow(/does not exist/);
  });

  it('persists under a folder across restarts', async () => {
    const path = mkdtempSync(join(tmpdir(), 'modelsweep-dynamo-'));
    const first = await startLocalDynamo({ path, tableName: TABLE });
    await new ResultsStore(first.client, TABLE).createSweep({ sweepId: 'kept', name: 'k', model: 'm', createdAt: '2026-11-22T00:00:00Z', spec: {} });
    await first.close();
    const second = await startLocalDynamo({ path, tableName: TABLE });
    try {
      expect(await new ResultsStore(second.client, TABLE).getSweep('kept')).toMatchObject({ sweepId: 'kept' });
    } finally {
      await second.close();
    }
  });
});
