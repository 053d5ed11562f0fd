import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { findSageMakerInstance } from '../../../lib/catalog/sagemaker-instances';
import { PriceBook, specPrices } from '../../../lib/cost/price-book';
import { imagePlatform } from '../../../lib/spec/catalog-selection';
import { type LoadedSpec, parseSpec, SpecError } from '../../../lib/spec/load-spec';

const ROLE = 'arn:aws:iam::123456789012:role/sagemaker';
const image = (tag: string) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/${tag}`;

function spec(candidates: unknown[], extra: Record<string, unknown> = {}) {
  return {
    name: 'catalog',
    model: { name: 'm' },
    payloads: [{ body: '{}' }],
    candidates,
    load: { phases: [{ mode: 'open', rate: 10, duration: '10s' }] },
    slo: { percentile: 95, latencyMs: 100 },
    traffic: { averageRps: 5, peakRps: 20 },
    ...extra,
  };
}

const realtime = (instanceTypes: unknown, fields: Record<string, unknown> = {}) => ({
  kind: 'sagemaker-realtime',
  region: 'us-east-1',
  instanceTypes,
  image: image('server:1'),
  executionRoleArn: ROLE,
  ...fields,
});

function load(s: unknown, prices?: PriceBook): LoadedSpec {
  return parseSpec(stringify(s), 'spec.yaml', '.', { checkFiles: false, catalogPrices: (spec) => specPrices(spec, prices ?? PriceBook.snapshot()) });
}

function problems(s: unknown, prices?: PriceBook): string[] {
  try {
    load(s, prices);
  } catch (error) {
    if (error instanceof SpecError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

const types = (loaded: LoadedSpec) => loaded.candidates.flatMap((c) => (c.kind === 'sagemaker-realtime' ? [c.instanceType] : []));

describe('catalog selections', () => {
  it('selects families and sizes among the types priced in the region, cheapest first, and records the selection resolved', () => {
    const loaded = load(spec([realtime({ families: ['c6i', 'g5'], sizes: ['xlarge', '2xlarge'] })]));
    expect(types(loaded)).toEqual(['ml.c6i.xlarge', 'ml.c6i.2xlarge', 'ml.g5.xlarge', 'ml.g5.2xlarge']);
    expect(loaded.spec.candidates[0]).toMatchObject({ instanceTypes: types(loaded) });
    expect(loaded.selections).toEqual([expect.objectContaining({ group: 0, field: 'instanceTypes', region: 'us-east-1' })]);
    const prices = loaded.selections[0]!.types.map((t) => t.usdPerHour);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
  });

  it('selects by constraints, and each selected type meets every one', () => {
    const loaded = load(spec([realtime({ minVcpus: 4, minMemoryGiB: 16, maxPricePerHour: 1, gpu: 'none' })]));
    expect(types(loaded).length).toBeGreaterThan(2);
    for (const [i, type] of types(loaded).entries()) {
      const facts = findSageMakerInstance(type)!;
      expect(facts.vcpus).toBeGreaterThanOrEqual(4);
      expect(facts.memoryGiB).toBeGreaterThanOrEqual(16);
      expect(facts.accelerator).toBeUndefined();
      expect(facts.burstable).toBeFalsy();
      expect(loaded.selections[0]!.types[i]!.usdPerHour).toBeLessThanOrEqual(1);
    }
  });

  it('selects only what the region prices: another region, or a price the spec adds, changes the grid', () => {
    const east = types(load(spec([realtime({ families: ['c6i', 'c7i'] })])));
    const west = types(load(spec([realtime({ families: ['c6i', 'c7i'] }, { region: 'us-west-2' })])));
    expect(east).not.toEqual(west);
    const added = load(
      spec([realtime({ families: ['c7i'] })], {
        pricing: { prices: { sagemakerRealtime: { 'us-east-1': { perInstanceHour: { 'ml.c7i.large': 0.11 } } } } },
      }),
    );
    expect(types(added)).toContain('ml.c7i.large');
  });

  it('keeps to what the image runs on: a CUDA image gets GPUs, a Neuron image Inferentia, a Graviton image arm64', () => {
    const book = PriceBook.snapshot().with({
      layers: [
        {
          origin: 'override',
          label: 'test',
          prices: {
            sagemakerRealtime: { 'us-east-1': { perInstanceHour: { 'ml.c7g.xlarge': 0.14, 'ml.inf2.xlarge': 0.99, 'ml.c6g.xlarge': 0.16 } } },
          },
        },
      ],
    });
    const kindsOf = (tag: string) =>
      types(load(spec([realtime({ sizes: ['xlarge'] }, { image: image(tag) })]), book)).map((t) => findSageMakerInstance(t)!);
    expect(kindsOf('pytorch-inference:2.3-gpu-py311-cu121').every((f) => f.accelerator?.kind === 'nvidia-gpu')).toBe(true);
    expect(kindsOf('pytorch-inference-neuronx:2.1').every((f) => f.accelerator?.kind === 'aws-inferentia')).toBe(true);
    const graviton = kindsOf('pytorch-inference-graviton:2.3-cpu-py311');
    expect(graviton.length).toBeGreaterThan(0);
    expect(graviton.every((f) => f.architecture === 'arm64' && !f.accelerator)).toBe(true);
    expect(kindsOf('server:1').every((f) => f.architecture === 'x86_64' && f.accelerator?.kind !== 'aws-inferentia')).toBe(true);
    expect(imagePlatform(image('tensorflow-inference:2.14-cpu-py310'))).toMatchObject({ architecture: 'x86_64', accelerator: 'none' });
  });

  it('says which filter left nothing, naming the field', () => {
    expect(problems(spec([realtime({ families: ['c6i'], minMemoryGiB: 5000 })]))).toEqual([
      expect.stringMatching(
        /^candidates\[0\]\.instanceTypes: selects nothing: \d+ SageMaker instance types priced in us-east-1, \d+ after families c6i, .*0 after minMemoryGiB 5000; loosen the selection, or fetch more prices$/,
      ),
    ]);
    const graviton = { pricing: { prices: { sagemakerRealtime: { 'us-east-1': { perInstanceHour: { 'ml.c6g.xlarge': 0.16 } } } } } };
    expect(problems(spec([realtime({ families: ['c6g'] })], graviton))[0]).toMatch(
      /1 after families c6g, 1 after not burstable .*, 0 after what the image runs on \(its tag names no accelerator: x86_64/,
    );
    expect(problems(spec([realtime({ sizes: 'huge' })]))).toEqual([
      expect.stringMatching(/^candidates\[0\]\.instanceTypes\.sizes: a size is like large/),
    ]);
    expect(problems(spec([realtime({ gpu: 'sometimes' })]))).toEqual([
      expect.stringMatching(/^candidates\[0\]\.instanceTypes\.gpu: gpu is required, none, any/),
    ]);
  });

  it('refuses a selection where no prices are given to pick from', () => {
    expect(() => parseSpec(stringify(spec([realtime({ families: ['c6i'] })])), 'spec.yaml', '.', { checkFiles: false })).toThrow(
      /candidates\[0\]\.instanceTypes \(line \d+\): a catalog selection needs the price catalog to pick from; list the types instead/,
    );
  });

  it('bounds the grid a selection makes (the candidate limit)', () => {
    const counts = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(problems(spec([realtime({ gpu: 'any' }, { instanceCounts: counts })]))).toEqual([
      expect.stringMatching(/^candidates: expands to \d+ candidates, more than the 200 one sweep may run/),
    ]);
  });

  it('selects Azure SKUs by constraints in the group location, and needs that location', () => {
    const azure = (skus: unknown, fields: Record<string, unknown> = {}) => ({
      kind: 'azureml',
      subscriptionId: '00000000-0000-0000-0000-000000000000',
      resourceGroup: 'rg',
      workspace: 'ml-ws',
      endpointName: 'ep-sweep',
      model: 'azureml:m:1',
      skus,
      ...fields,
    });
    const loaded = load(spec([azure({ gpu: 'required' }, { location: 'eastus' })]));
    expect(loaded.candidates.map((c) => (c.kind === 'azureml' ? c.sku : ''))).toEqual(['Standard_NC4as_T4_v3', 'Standard_NC6s_v3']);
    expect(problems(spec([azure({ gpu: 'required' })]))).toEqual([
      'candidates[0].location: a selection over skus needs location: the region whose prices it selects from',
    ]);
  });

  it('expands Lambda and serverless memory ranges, and refuses a range that is too fine or out of bounds', () => {
    const lambda = (memorySizesMb: unknown) => ({ kind: 'lambda', functionName: 'fn', memorySizesMb });
    const loaded = load(spec([lambda({ from: 512, to: 2048, step: 512 })]));
    expect(loaded.candidates.map((c) => c.id)).toEqual(['lambda-512mb-arm64', 'lambda-1024mb-arm64', 'lambda-1536mb-arm64', 'lambda-2048mb-arm64']);
    const serverless = {
      kind: 'sagemaker-serverless',
      memorySizesMb: { from: 2048, to: 6144, step: 2048 },
      image: image('server:1'),
      executionRoleArn: ROLE,
    };
    expect(load(spec([serverless])).candidates.map((c) => (c.kind === 'sagemaker-serverless' ? c.memorySizeMb : 0))).toEqual([2048, 4096, 6144]);
    expect(problems(spec([lambda({ from: 128, to: 10240, step: 1 })]))).toEqual([
      'candidates[0].memorySizesMb.step: makes more than 200 sizes; take a larger step',
    ]);
    expect(problems(spec([lambda({ from: 64, to: 1024, step: 64 })]))).toEqual([
      expect.stringMatching(/^candidates\[0\]\.memorySizesMb\.from: Lambda memory is 128 to 10240 MB/),
    ]);
    expect(problems(spec([{ ...serverless, memorySizesMb: { from: 1024, to: 6144, step: 512 } }]))).toEqual([
      expect.stringMatching(/^candidates\[0\]\.memorySizesMb\.step: step must be a multiple of 1024 MB/),
    ]);
  });
});
