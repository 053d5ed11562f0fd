import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { PriceBook } from '../../../lib/cost/price-book';
import { parseSpec } from '../../../lib/spec/load-spec';
import { type LocalDynamo, startLocalDynamo } from '../../../lib/store/local-dynamo';
import { ResultsStore } from '../../../lib/store/results-store';
import { httpTarget } from '../../../lib/targets/http-target';
import { folderBlobStore } from '../../../lib/workflow/blob-store';
import { cloudWorkflowEnv, notification } from '../../../lib/workflow/cloud-env';
import { CLOUD_ENV } from '../../../lib/workflow/cloud-names';
import type { WorkflowEnv } from '../../../lib/workflow/env';
import { stageSpec } from '../../../lib/workflow/stage-spec';
import { sweepSteps, type SweepSummary } from '../../../lib/workflow/steps';

describe('workflow steps', () => {
  let dynamo: LocalDynamo;
  let env: WorkflowEnv;
  beforeAll(async () => {
    dynamo = await startLocalDynamo({ tableName: 'results' });
    env = {
      store: new ResultsStore(dynamo.client, 'results'),
      blobs: folderBlobStore(mkdtempSync(join(tmpdir(), 'steps-'))),
      adapters: { http: httpTarget },
      prices: PriceBook.snapshot(),
    };
  });
  afterAll(() => dynamo.close());

  const staged = (candidates: unknown[], phaseDuration = '1s') =>
    stageSpec(
      parseSpec(
        stringify({
          name: 'steps',
          model: { name: 'm' },
          payloads: [{ body: '{}' }],
          candidates,
          load: { phases: [{ mode: 'open', rate: 5, duration: phaseDuration }] },
          slo: { percentile: 95, latencyMs: 50 },
          traffic: { averageRps: 1, peakRps: 2 },
        }),
        'spec.yaml',
        '/',
        { checkFiles: false },
      ),
      env.blobs,
      `sweeps/s-${Math.random().toString(36).slice(2, 8)}`,
    );

  it('validate refuses what the cloud workflow cannot run, naming the field, before recording anything', async () => {
    const cloud = {
      ...env,
      unsupportedKinds: cloudWorkflowEnv({ [CLOUD_ENV.table]: 't', [CLOUD_ENV.bucket]: 'b', [CLOUD_ENV.kinds]: 'http' }).unsupportedKinds,
      maxPhaseMs: 600_000,
    };
    const specKey = await staged(
      [
        { kind: 'http', url: 'http://127.0.0.1:1/', costPerHour: 1 },
        { kind: 'local', threads: 1, modelPath: 'm.onnx' },
        { kind: 'lambda', functionName: 'f', memorySizesMb: 1024 },
      ],
      '11m',
    );
    const validate = sweepSteps(cloud).validate({ request: { specKey, sweepId: 'refused' }, defaultMaxConcurrency: 4 });
    await expect(validate).rejects.toThrow(
      /: 3 problems\n {2}candidates\[1\]\.kind: local candidates start model servers .*\n {2}candidates\[2\]\.kind: this BenchmarkSweep was not given the permissions for lambda candidates \(see its lambdaFunctions prop\)\n {2}load\.phases\[0\]\.duration: 660 s is longer than the 600 s one load step may run/,
    );
    await expect(validate).rejects.toMatchObject({ name: 'SpecError' });
    expect(await env.store.getSweep('refused')).toBeUndefined();
  });

  it("plans waves of one candidate a lane, cheapest possible first: local candidates and one Lambda function's take turns", async () => {
    const specKey = await staged([
      { kind: 'http', name: 'a', url: 'http://127.0.0.1:1/', costPerHour: 2 },
      { kind: 'http', name: 'b', url: 'http://127.0.0.1:2/', costPerHour: 1 },
      { kind: 'local', threads: [1, 2], modelPath: 'm.onnx', costPerHour: 0.5 },
      { kind: 'lambda', functionName: 'f', memorySizesMb: [1024, 2048] },
    ]);
    const steps = sweepSteps(env);
    const validated = (await steps.validate({ request: { specKey, maxConcurrency: 3 }, defaultMaxConcurrency: 4 })) as any;
    expect(validated.maxConcurrency).toBe(3);
    expect(await env.store.getSweep(validated.sweepId)).toMatchObject({ status: 'running', model: 'm' });
    const wave = (await steps.planWave({ sweepId: validated.sweepId, maxConcurrency: 3 })) as any;
    // Only http has an adapter here: the others have no floor (so they come first, in the spec's
    // order), then b ($1/h) before a ($2/h). Three lanes, one candidate each.
    expect(wave.done).toBe(false);
    expect(wave.lanes.map((l: any) => l.candidates.map((c: any) => c.candidate.id))).toEqual([['local-threads1'], ['lambda-1024mb-arm64'], ['b']]);
    expect(wave.lanes.map((l: any) => l.candidates[0].position)).toEqual([
      { index: 0, total: 6 },
      { index: 1, total: 6 },
      { index: 2, total: 6 },
    ]);
    // Planned from the records alone: delivered twice, the same wave.
    expect(await steps.planWave({ sweepId: validated.sweepId, maxConcurrency: 3 })).toEqual(wave);
  });

  it('a step given bad input fails naming the field', async () => {
    await expect(sweepSteps(env).deploy({ sweepId: 'x' })).rejects.toThrow(/^Deploy candidate: candidate: /);
    await expect(sweepSteps(env).validate({ request: {} })).rejects.toThrow(/^Validate spec: request\.specKey: /);
  });
});

describe('the notification of a finished sweep', () => {
  const summary = (over: Partial<SweepSummary>): SweepSummary => ({
    sweepId: 's2',
    model: 'demo',
    status: 'succeeded',
    changed: false,
    measured: 2,
    notMeasured: [],
    report: { html: 's3://b/r.html', json: '', csv: '' },
    ...over,
  });

  it('says the winner and whether it changed, as attributes a subscription can filter on', () => {
    const changed = notification('arn:topic', summary({ recommended: 'b', previous: { sweepId: 's1', recommended: 'a' }, changed: true }));
    expect(changed).toMatchObject({
      TopicArn: 'arn:topic',
      Subject: 'modelsweep demo: b (changed from a)',
      MessageAttributes: { changed: { DataType: 'String', StringValue: 'true' }, status: { StringValue: 'succeeded' } },
    });
    expect(JSON.parse(changed.Message)).toMatchObject({ recommended: 'b', report: { html: 's3://b/r.html' } });
    expect(notification('arn:topic', summary({ recommended: 'a', previous: { sweepId: 's1', recommended: 'a' } })).Subject).toBe(
      'modelsweep demo: a (unchanged)',
    );
    expect(notification('arn:topic', summary({ status: 'failed' })).Subject).toBe('modelsweep demo: sweep failed');
  });
});
