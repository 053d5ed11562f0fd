import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { expandCandidates } from '../../../lib/spec/expand';
import { loadSpecFile, parseSpec, SpecError, type SpecIssue } from '../../../lib/spec/load-spec';

const EXAMPLES = join(__dirname, '..', '..', '..', 'examples', 'sweeps');

const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/server:1';
const ROLE = 'arn:aws:iam::123456789012:role/sagemaker';

/** A valid spec (relative paths resolve from examples/sweeps) that each case below breaks once. */
function validSpec(): any {
  return {
    name: 'demo',
    model: { name: 'demo', path: '../demo-model/build/model.onnx' },
    payloads: [{ file: '../demo-model/payloads/batch-1.json' }, { body: '{"instances": [[1]]}', weight: 2 }],
    candidates: [
      { kind: 'local', threads: [1, 2] },
      { kind: 'http', url: 'http://127.0.0.1:8080/invocations', costPerHour: 0.2 },
      { kind: 'sagemaker-realtime', instanceTypes: ['ml.c6i.xlarge', 'ml.g5.xlarge'], image: IMAGE, executionRoleArn: ROLE },
      { kind: 'sagemaker-serverless', memorySizesMb: [2048], maxConcurrency: [10], image: IMAGE, executionRoleArn: ROLE },
      { kind: 'lambda', functionName: 'fn', memorySizesMb: [1024, 2048], architectures: ['arm64', 'x86_64'] },
      {
        kind: 'azureml',
        subscriptionId: '00000000-0000-0000-0000-000000000000',
        resourceGroup: 'rg',
        workspace: 'ml-ws',
        endpointName: 'ep-sweep',
        model: 'azureml:m:1',
        skus: ['Standard_DS3_v2'],
      },
    ],
    load: { warmup: { mode: 'open', rate: 5, duration: '1s' }, phases: [{ mode: 'open', rate: 10, duration: '10s' }] },
    slo: { percentile: 95, latencyMs: 100 },
    traffic: { averageRps: 5, peakRps: 20 },
  };
}

function issuesOf(spec: unknown): SpecIssue[] {
  try {
    parseSpec(stringify(spec), 'spec.yaml', EXAMPLES);
  } catch (error) {
    if (error instanceof SpecError) return [...error.issues];
    throw error;
  }
  return [];
}

describe('sweep spec', () => {
  it('accepts the example specs and expands them into candidates with stable ids', () => {
    const local = loadSpecFile(join(EXAMPLES, 'demo-local.yaml'));
    expect(local.candidates.map((c) => c.id)).toEqual(['local-threads1', 'local-threads2']);
    expect(local.spec.load.phases[0]).toMatchObject({ duration: 3000 });
    expect(local.spec.strategy).toEqual({ type: 'cost', weight: 0.5 });
    const all = loadSpecFile(join(EXAMPLES, 'aws-all-kinds.json'));
    expect(all.candidates).toHaveLength(17);
    expect(all.spec.strategy).toEqual({ type: 'balanced', weight: 0.7 });
    expect(all.warnings).toEqual([]);
    const batching = parseSpec(
      stringify({ ...validSpec(), candidates: [{ kind: 'local', threads: [1, 2], maxBatchSize: [1, 8], batchDelay: '5ms' }] }),
      'spec.yaml',
      EXAMPLES,
    );
    expect(batching.candidates.map((c) => c.kind === 'local' && [c.id, c.threads, c.maxBatchSize, c.batchDelayMs])).toEqual([
      ['local-threads1', 1, 1, 5],
      ['local-threads1-batch8', 1, 8, 5],
      ['local-threads2', 2, 1, 5],
      ['local-threads2-batch8', 2, 8, 5],
    ]);
    const azure = loadSpecFile(join(EXAMPLES, 'azureml.yaml'));
    expect(azure.candidates.map((c) => c.kind === 'azureml' && [c.id, c.sku, c.maxConcurrentRequestsPerInstance])).toEqual([
      ['azureml-standard-ds3-v2-x1', 'Standard_DS3_v2', 4],
      ['azureml-standard-f4s-v2-x1', 'Standard_F4s_v2', 4],
      ['azureml-standard-nc4as-t4-v3-x1', 'Standard_NC4as_T4_v3', 4],
    ]);
  });

  it('fills in defaults', () => {
    const { spec, candidates } = parseSpec(stringify(validSpec()), 'spec.yaml', EXAMPLES);
    expect(spec.seed).toBe(1);
    expect(spec.slo.maxErrorRate).toBe(0.01);
    expect(spec.payloads[0]).toMatchObject({ contentType: 'application/json', weight: 1 });
    expect(spec.load.timeout).toBe(30_000);
    expect(candidates.find((c) => c.kind === 'sagemaker-realtime')).toMatchObject({ instanceCount: 1 });
  });

  it('expands list-valued fields as a grid', () => {
    const { candidates } = parseSpec(stringify(validSpec()), 'spec.yaml', EXAMPLES);
    expect(candidates.filter((c) => c.kind === 'lambda').map((c) => c.id)).toEqual([
      'lambda-1024mb-arm64',
      'lambda-1024mb-x86_64',
      'lambda-2048mb-arm64',
      'lambda-2048mb-x86_64',
    ]);
    expect(candidates.map((c) => c.id)).toContain('sagemaker-realtime-ml.g5.xlarge-x1');
    expect(candidates.map((c) => c.id)).toContain('azureml-standard-ds3-v2-x1');
  });

  it('sweeps model variants as a dimension, each candidate named by its variant and serving its artifact', () => {
    const spec = validSpec();
    spec.candidates[0].models = [
      { name: 'fp32', path: '../demo-model/build/model.onnx' },
      { name: 'int8', path: '../demo-model/build/model.onnx' },
    ];
    spec.candidates[2].models = [{ name: 'fp16', modelDataUrl: 's3://bucket/fp16.tar.gz' }];
    const { candidates } = parseSpec(stringify(spec), 'spec.yaml', EXAMPLES);
    const local = candidates.filter((c) => c.kind === 'local');
    expect(local.map((c) => [c.id, c.variant])).toEqual([
      ['local-threads1-fp32', 'fp32'],
      ['local-threads1-int8', 'int8'],
      ['local-threads2-fp32', 'fp32'],
      ['local-threads2-int8', 'int8'],
    ]);
    expect(local[0]).toMatchObject({ modelPath: '../demo-model/build/model.onnx' });
    expect(candidates.find((c) => c.id === 'sagemaker-realtime-ml.g5.xlarge-x1-fp16')).toMatchObject({ modelDataUrl: 's3://bucket/fp16.tar.gz' });
  });

  it('gives the same ids whatever the order of the groups', () => {
    const spec = parseSpec(stringify(validSpec()), 'spec.yaml', EXAMPLES).spec;
    const reversed = { ...spec, candidates: [...spec.candidates].reverse() };
    expect(new Set(expandCandidates(reversed).map((c) => c.id))).toEqual(new Set(expandCandidates(spec).map((c) => c.id)));
  });

  it('warns about instance types the catalog does not know, with the line', () => {
    const spec = validSpec();
    spec.candidates[2].instanceTypes = ['ml.g99.xlarge'];
    const { warnings } = parseSpec(stringify(spec), 'spec.yaml', EXAMPLES);
    expect(warnings).toEqual([
      expect.objectContaining({ path: 'candidates[2].instanceTypes[0]', message: expect.stringMatching(/not in modelsweep's instance catalog/) }),
    ]);
    expect(warnings[0].line).toBeGreaterThan(1);
  });

  const cases: Array<[string, (s: any) => void, string, RegExp]> = [
    [
      'a name with capitals',
      (s) => (s.name = 'My Sweep'),
      'name',
      /lowercase letters, digits and hyphens, starting with a letter or digit, got "My Sweep"/,
    ],
    ['an unknown top-level field', (s) => (s.budgetUsd = 5), 'budgetUsd', /unknown field; allowed: name, model, payloads/],
    ['a model without a name', (s) => delete s.model.name, 'model.name', /./],
    ['no payloads', (s) => (s.payloads = []), 'payloads', /needs at least one payload/],
    ['a payload with neither file nor body', (s) => (s.payloads[0] = { weight: 1 }), 'payloads[0]', /either "file".*or "body"/],
    ['a payload with a zero weight', (s) => (s.payloads[1].weight = 0), 'payloads[1].weight', /weight must be above 0, got 0/],
    ['a payload file that does not exist', (s) => (s.payloads[0].file = 'missing.json'), 'payloads[0].file', /no such file: .*missing\.json/],
    ['no candidates', (s) => (s.candidates = []), 'candidates', /needs at least one candidate/],
    [
      'an unknown kind',
      (s) => (s.candidates[0].kind = 'ec2'),
      'candidates[0].kind',
      /kind must be one of sagemaker-realtime, sagemaker-serverless, sagemaker-async, sagemaker-batch-transform, lambda, azureml, http, local/,
    ],
    [
      'a typo in a candidate field',
      (s) => (s.candidates[4].memorySize = 1024),
      'candidates[4].memorySize',
      /unknown field; allowed: kind, name, environment, functionName, models, memorySizesMb, architectures/,
    ],
    [
      'Lambda memory below 128 MB',
      (s) => (s.candidates[4].memorySizesMb = [1024, 64]),
      'candidates[4].memorySizesMb[1]',
      /Lambda memory is 128 to 10240 MB, got 64/,
    ],
    [
      'Lambda memory above 10240 MB',
      (s) => (s.candidates[4].memorySizesMb = 20480),
      'candidates[4].memorySizesMb',
      /Lambda memory is 128 to 10240 MB/,
    ],
    ['an empty list', (s) => (s.candidates[4].memorySizesMb = []), 'candidates[4].memorySizesMb', /needs at least one value/],
    [
      'an unknown architecture',
      (s) => (s.candidates[4].architectures = ['arm64', 'riscv']),
      'candidates[4].architectures[1]',
      /must be arm64 or x86_64/,
    ],
    ['a Lambda candidate without a function', (s) => delete s.candidates[4].functionName, 'candidates[4].functionName', /./],
    [
      'serverless memory not a multiple of 1024',
      (s) => (s.candidates[3].memorySizesMb = [3000]),
      'candidates[3].memorySizesMb[0]',
      /1024, 2048, 3072, 4096, 5120 or 6144 MB, got 3000/,
    ],
    [
      'serverless max concurrency over 200',
      (s) => (s.candidates[3].maxConcurrency = 500),
      'candidates[3].maxConcurrency',
      /max concurrency is 1 to 200/,
    ],
    [
      'provisioned above max concurrency',
      (s) => (s.candidates[3].provisionedConcurrency = 20),
      'candidates[3].provisionedConcurrency',
      /20 is above maxConcurrency 10/,
    ],
    [
      'a malformed instance type',
      (s) => (s.candidates[2].instanceTypes = ['g5.xlarge']),
      'candidates[2].instanceTypes[0]',
      /must be a SageMaker instance type like ml\.g5\.xlarge, got "g5\.xlarge"/,
    ],
    [
      'a zero instance count',
      (s) => (s.candidates[2].instanceCounts = [0]),
      'candidates[2].instanceCounts[0]',
      /an instance count must be at least 1, got 0/,
    ],
    [
      'a model data URL that is not S3',
      (s) => (s.candidates[2].modelDataUrl = 'https://x/model.tar.gz'),
      'candidates[2].modelDataUrl',
      /must be an s3:\/\/ URL/,
    ],
    ['a SageMaker image that is not an ECR URI', (s) => (s.candidates[2].image = 'nginx:latest'), 'candidates[2].image', /must be an ECR image URI/],
    ['a SageMaker group without an execution role', (s) => delete s.candidates[3].executionRoleArn, 'candidates[3].executionRoleArn', /./],
    [
      'an execution role that is not a role ARN',
      (s) => (s.candidates[2].executionRoleArn = 'arn:aws:iam::123456789012:user/me'),
      'candidates[2].executionRoleArn',
      /must be an IAM role ARN/,
    ],
    [
      'a region that is not an AWS region',
      (s) => (s.candidates[4].region = 'europe'),
      'candidates[4].region',
      /must be an AWS region like us-east-1/,
    ],
    [
      'maxParallelInvocations out of range',
      (s) => (s.candidates[4].maxParallelInvocations = 0),
      'candidates[4].maxParallelInvocations',
      /maxParallelInvocations is 1 to 1000/,
    ],
    [
      'an Azure subscription that is not a GUID',
      (s) => (s.candidates[5].subscriptionId = 'my-sub'),
      'candidates[5].subscriptionId',
      /must be an Azure subscription id/,
    ],
    [
      'an Azure codeId without its scoringScript',
      (s) => (s.candidates[5].codeId = 'azureml:code:1'),
      'candidates[5].scoringScript',
      /codeId and scoringScript go together/,
    ],
    [
      'an Azure SKU of the wrong shape',
      (s) => (s.candidates[5].skus = ['DS3']),
      'candidates[5].skus[0]',
      /must be an Azure VM SKU like Standard_DS3_v2, got "DS3"/,
    ],
    [
      'an http candidate with a bad URL',
      (s) => (s.candidates[1].url = 'localhost:8080'),
      'candidates[1].url',
      /must be an http:\/\/ or https:\/\/ URL/,
    ],
    ['an http candidate without a cost', (s) => delete s.candidates[1].costPerHour, 'candidates[1].costPerHour', /./],
    ['a negative cost', (s) => (s.candidates[1].costPerHour = -1), 'candidates[1].costPerHour', /must be 0 or more/],
    ['negative threads', (s) => (s.candidates[0].threads = [-1]), 'candidates[0].threads[0]', /threads is 0 \(one per core\) or more/],
    [
      'a local candidate with a missing model file',
      (s) => (s.candidates[0].modelPath = 'nope.onnx'),
      'candidates[0].modelPath',
      /no such model file/,
    ],
    ['a local candidate with no model at all', (s) => delete s.model.path, 'candidates[0]', /needs a model: set modelPath here or model.path/],
    [
      'two groups producing the same id',
      (s) => s.candidates.push({ kind: 'local', threads: 2 }),
      'candidates[6]',
      /candidate id "local-threads2" is also produced by candidates\[0\]/,
    ],
    [
      'a bad environment variable name',
      (s) => (s.candidates[2].environment = { 'BAD-NAME': 'x' }),
      'candidates[2].environment.BAD-NAME',
      /environment variable names take letters, digits and _/,
    ],
    ['no phases', (s) => (s.load.phases = []), 'load.phases', /needs at least one phase/],
    [
      'an unknown phase mode',
      (s) => (s.load.phases[0].mode = 'burst'),
      'load.phases[0].mode',
      /mode must be open \(a rate\), closed \(a concurrency\) or stairs/,
    ],
    ['a zero rate', (s) => (s.load.phases[0].rate = 0), 'load.phases[0].rate', /rate \(requests\/s\) must be above 0, got 0/],
    [
      'a duration without a unit',
      (s) => (s.load.phases[0].duration = '60'),
      'load.phases[0].duration',
      /must be a duration: a number and a unit, e\.g\. 500ms, 60s, 2m, 1h, got "60"/,
    ],
    ['unknown arrivals', (s) => (s.load.phases[0].arrivals = 'bursty'), 'load.phases[0].arrivals', /must be poisson or constant/],
    [
      'a fractional concurrency',
      (s) => (s.load.phases[0] = { mode: 'closed', concurrency: 2.5, duration: '5s' }),
      'load.phases[0].concurrency',
      /concurrency must be a whole number/,
    ],
    [
      'stairs going down',
      (s) => (s.load.phases[0] = { mode: 'stairs', from: 100, to: 10, step: 10, stepDuration: '5s' }),
      'load.phases[0].to',
      /to must be at least from/,
    ],
    [
      'too many stairs',
      (s) => (s.load.phases[0] = { mode: 'stairs', from: 1, to: 1000, step: 1, stepDuration: '5s' }),
      'load.phases[0].step',
      /makes 1000 steps; at most 100/,
    ],
    ['a search with to below from', (s) => (s.load.search = { from: 100, to: 50, stepDuration: '5s' }), 'load.search.to', /to must be above from/],
    ['a percentile over 99.9', (s) => (s.slo.percentile = 99.99), 'slo.percentile', /percentile is 50 to 99\.9, got 99\.99/],
    ['a percentile under 50', (s) => (s.slo.percentile = 10), 'slo.percentile', /percentile is 50 to 99\.9/],
    ['a zero latency target', (s) => (s.slo.latencyMs = 0), 'slo.latencyMs', /latencyMs must be above 0/],
    ['an error rate as a percentage', (s) => (s.slo.maxErrorRate = 5), 'slo.maxErrorRate', /maxErrorRate is a fraction from 0 to 1, got 5/],
    ['a peak below the average', (s) => (s.traffic.peakRps = 1), 'traffic.peakRps', /peakRps must be at least averageRps/],
    [
      'an hourly profile of 12 values',
      (s) => (s.traffic.hourlyProfile = new Array(12).fill(1)),
      'traffic.hourlyProfile',
      /hourlyProfile needs 24 values, one per hour/,
    ],
    [
      'an unknown strategy',
      (s) => (s.strategy = 'cheapest'),
      'strategy',
      /strategy is cost, speed, balanced, or \{ type: balanced, weight: 0\.\.1 \}/,
    ],
    ['a balanced weight over 1', (s) => (s.strategy = { type: 'balanced', weight: 2 }), 'strategy.weight', /weight is 0 to 1, got 2/],
    ['a zero budget', (s) => (s.budget = { maxUsd: 0 }), 'budget.maxUsd', /maxUsd must be above 0/],
    ['a fractional seed', (s) => (s.seed = 1.5), 'seed', /seed must be a whole number/],
    [
      'a model variant named twice',
      (s) =>
        (s.candidates[0].models = [
          { name: 'fp32', path: '../demo-model/build/model.onnx' },
          { name: 'fp32', path: '../demo-model/build/model.onnx' },
        ]),
      'candidates[0].models[1].name',
      /variant "fp32" is named twice/,
    ],
    [
      'a local variant with no such model file',
      (s) => (s.candidates[0].models = [{ name: 'int8', path: 'missing.onnx' }]),
      'candidates[0].models[0].path',
      /no such model file: .*missing\.onnx/,
    ],
    ['a Lambda variant without its function', (s) => (s.candidates[4].models = [{ name: 'a' }]), 'candidates[4].models[0].functionName', /./],
    ['a SageMaker variant without model data', (s) => (s.candidates[2].models = [{ name: 'int8' }]), 'candidates[2].models[0].modelDataUrl', /./],
  ];

  it(`has a corpus of at least 30 invalid specs (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('rejects %s, naming %s', (_what, breakIt, path, message) => {
    const spec = validSpec();
    breakIt(spec);
    const issues = issuesOf(spec);
    expect(issues.length, 'expected the spec to be rejected').toBeGreaterThan(0);
    const issue = issues.find((i) => i.path === path);
    expect(issue, `no issue at ${path}; got ${JSON.stringify(issues)}`).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it('reports every problem at once, each with its line', () => {
    const text = [
      'name: x',
      'model: {name: m}',
      'payloads: [{body: "{}"}]',
      'candidates:',
      '  - kind: http',
      '    url: nope',
      '    costPerHour: -2',
      'load: {phases: [{mode: open, rate: 1, duration: 1s}]}',
      'slo: {percentile: 95, latencyMs: 10}',
      'traffic: {averageRps: 1, peakRps: 2}',
    ].join('\n');
    const issues = (() => {
      try {
        parseSpec(text, 's.yaml', EXAMPLES);
        return [];
      } catch (e) {
        return (e as SpecError).issues;
      }
    })();
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['candidates[0].url', 6],
      ['candidates[0].costPerHour', 7],
    ]);
  });

  it('says so when the file is not YAML or cannot be read', () => {
    expect(() => parseSpec('name: [unclosed', 's.yaml', EXAMPLES)).toThrow(/not valid YAML or JSON/);
    expect(() => loadSpecFile('/nonexistent/spec.yaml')).toThrow(/no such file: \/nonexistent\/spec.yaml/);
  });
});
