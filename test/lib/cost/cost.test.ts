import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { bundledPrices } from '../../../lib/catalog/price-catalog';
import {
  costPerMillionInferences,
  instanceMonthlyCost,
  instancesFor,
  lambdaMonthlyCost,
  requestsPerMonth,
  roundUpToCent,
  serverlessMonthlyCost,
} from '../../../lib/cost/estimate';
import { overrideLayer, PriceBook } from '../../../lib/cost/price-book';
import { runCliInProcess } from '../../helpers/cli-in-process';

const prices = PriceBook.snapshot();
const ROOT = join(__dirname, '..', '..', '..');

describe('Lambda cost', () => {
  it("gives the Lambda pricing page's worked example: $18.34 compute + $0.40 requests = $18.74", () => {
    const estimate = lambdaMonthlyCost(
      { region: 'us-east-1', architecture: 'x86_64', memoryMb: 512, billedDurationMs: 1000, requestsPerMonth: 3_000_000, freeTier: true },
      prices,
    );
    const [compute, requests] = estimate.lines;
    expect(compute.quantity).toBe(1_100_000);
    expect(roundUpToCent(compute.usd)).toBe(18.34);
    expect(requests.quantity).toBe(2);
    expect(roundUpToCent(requests.usd)).toBe(0.4);
    expect(roundUpToCent(estimate.monthlyUsd)).toBe(18.74);
  });

  it('prices 540,000 GB-s at $9.00 on x86 and $7.20 on arm64, plus $0.60 of requests (no free tier)', () => {
    const usage = { region: 'us-east-1', memoryMb: 1536, billedDurationMs: 120, requestsPerMonth: 3_000_000 } as const;
    const x86 = lambdaMonthlyCost({ ...usage, architecture: 'x86_64' }, prices);
    const arm = lambdaMonthlyCost({ ...usage, architecture: 'arm64' }, prices);
    expect(x86.lines[0].quantity).toBeCloseTo(540_000, 6);
    expect(x86.lines[0].usd).toBeCloseTo(9.0, 2);
    expect(arm.lines[0].usd).toBeCloseTo(7.2, 2);
    expect(x86.lines[1].usd).toBeCloseTo(0.6, 10);
  });

  it('moves through the volume tiers', () => {
    // 8 billion GB-s: 6 B at the first price, 2 B at the second
    const estimate = lambdaMonthlyCost(
      { region: 'us-east-1', architecture: 'x86_64', memoryMb: 1024, billedDurationMs: 1000, requestsPerMonth: 8e9 },
      prices,
    );
    const compute = estimate.lines.filter((l) => l.item.startsWith('compute'));
    expect(compute.map((l) => l.quantity)).toEqual([6e9, 2e9]);
    expect(compute.map((l) => l.unitPriceUsd)).toEqual([0.0000166667, 0.000015]);
  });

  it('bills ephemeral storage over 512 MB and provisioned concurrency', () => {
    const estimate = lambdaMonthlyCost(
      {
        region: 'us-east-1',
        architecture: 'arm64',
        memoryMb: 2048,
        billedDurationMs: 50,
        requestsPerMonth: 1_000_000,
        ephemeralStorageMb: 1536,
        provisionedConcurrency: 2,
      },
      prices,
    );
    const items = estimate.lines.map((l) => l.item);
    expect(items).toEqual([
      'provisioned concurrency (2 × 2048 MB, all month)',
      'duration on provisioned concurrency',
      'requests',
      'ephemeral storage over 512 MB',
    ]);
    expect(estimate.lines[0].quantity).toBe(2 * 2 * 730 * 3600);
    expect(estimate.lines[3].quantity).toBeCloseTo(1 * 50_000, 6); // 1 GB over the free 512 MB × 50,000 s
  });
});

describe('instance-based cost', () => {
  it('needs ceil(peak rps / rps one instance sustains) instances', () => {
    expect(instancesFor(100, 40)).toBe(3);
    expect(instancesFor(80, 40)).toBe(2);
    expect(instancesFor(1, 40, 2)).toBe(2);
    expect(() => instancesFor(1, 0)).toThrow(/rpsPerInstance must be above 0/);
  });

  it('prices a SageMaker real-time endpoint by instance-hours at the peak', () => {
    const estimate = instanceMonthlyCost(
      'sagemaker-realtime',
      { region: 'us-east-1', instanceType: 'ml.c5.xlarge', peakRps: 100, rpsPerInstance: 40 },
      prices,
    );
    expect(estimate.instances).toBe(3);
    expect(estimate.monthlyUsd).toBeCloseTo(3 * 730 * 0.204, 9);
    expect(estimate.lines[0].source).toMatchObject({ region: 'us-east-1', asOf: '2025-10' });
  });

  it('pays for each hour what the hourly profile needs when autoscaling', () => {
    const profile = [...new Array(12).fill(10), ...new Array(12).fill(100)]; // half the day quiet
    const estimate = instanceMonthlyCost(
      'sagemaker-realtime',
      { region: 'us-east-1', instanceType: 'ml.g5.xlarge', hourlyProfile: profile, rpsPerInstance: 40 },
      prices,
    );
    expect(estimate.instances).toBe(3);
    expect(estimate.lines[0].quantity).toBeCloseTo(((12 * 1 + 12 * 3) / 24) * 730, 9);
  });

  it('prices Azure ML SKUs and refuses unknown instance types and regions', () => {
    expect(instanceMonthlyCost('azureml', { region: 'eastus', instanceType: 'Standard_DS3_v2', instances: 1 }, prices).monthlyUsd).toBeCloseTo(
      0.229 * 730,
      9,
    );
    expect(() => instanceMonthlyCost('sagemaker-realtime', { region: 'us-east-1', instanceType: 'ml.zz.large', instances: 1 }, prices)).toThrow(
      /no price for ml\.zz\.large \(SageMaker real-time\) in us-east-1 in bundled snapshot \(2025-10\); nearest priced: .*; fetch current prices with `modelsweep prices update --service sagemaker --region us-east-1`/,
    );
    expect(() => instanceMonthlyCost('sagemaker-realtime', { region: 'mars-1', instanceType: 'ml.c5.xlarge', instances: 1 }, prices)).toThrow(
      /no SageMaker real-time prices for region mars-1 \(prices at hand: eu-west-1, us-east-1, us-west-2\); fetch them with `modelsweep prices update --service sagemaker --region mars-1`/,
    );
    // The nearest priced types are the same family's first.
    expect(() => instanceMonthlyCost('sagemaker-realtime', { region: 'us-east-1', instanceType: 'ml.g6e.xlarge', instances: 1 }, prices)).toThrow(
      /nearest priced: ml\.g6\.xlarge, /,
    );
  });
});

describe('SageMaker serverless cost', () => {
  it('prices compute seconds by memory and the data processed', () => {
    const estimate = serverlessMonthlyCost(
      { region: 'us-east-1', memoryMb: 2048, durationMs: 100, requestsPerMonth: 10_000_000, bytesPerRequest: 10 * 1024 },
      prices,
    );
    expect(estimate.lines[0]).toMatchObject({ quantity: 1_000_000, unitPriceUsd: 0.00004 });
    expect(estimate.lines[0].usd).toBeCloseTo(40, 9);
    expect(estimate.lines[1].quantity).toBeCloseTo((10_000_000 * 10 * 1024) / 1024 ** 3, 9);
    expect(() => serverlessMonthlyCost({ region: 'us-east-1', memoryMb: 3000, durationMs: 1, requestsPerMonth: 1 }, prices)).toThrow(
      /no serverless price for 3000 MB/,
    );
  });
});

describe('price catalog', () => {
  it('dates every block and names its source', () => {
    const snapshot = bundledPrices();
    for (const table of [snapshot.lambda, snapshot.sagemakerRealtime, snapshot.sagemakerServerless, snapshot.azureml]) {
      for (const block of Object.values(table)) {
        expect(block.source).toMatch(/^https:\/\//);
        expect(block.asOf).toMatch(/^\d{4}-\d{2}/);
      }
    }
    expect(Object.keys(snapshot.sagemakerRealtime)).toEqual(expect.arrayContaining(['us-east-1', 'us-west-2', 'eu-west-1']));
  });

  it('lets users override any price', () => {
    const custom = prices.with({
      layers: [overrideLayer({ sagemakerRealtime: { 'us-east-1': { perInstanceHour: { 'ml.c5.xlarge': 0.1 } } } }, 'mine.json')],
    });
    expect(custom.instanceHour('sagemaker-realtime', 'us-east-1', 'ml.c5.xlarge')).toMatchObject({
      usd: 0.1,
      source: { origin: 'override', label: 'mine.json' },
    });
    expect(custom.instanceHour('sagemaker-realtime', 'us-east-1', 'ml.g5.xlarge')).toMatchObject({ usd: 1.408, source: { origin: 'snapshot' } });
    expect(() => overrideLayer({ lambda: { 'us-east-1': { requestsPerMillion: -1 } } }, 'mine.json')).toThrow(
      /mine\.json: lambda\.us-east-1\.requestsPerMillion/,
    );
  });

  it('turns hourly cost and throughput into cost per million inferences', () => {
    expect(costPerMillionInferences(3.6, 100)).toBeCloseTo(10, 9);
    expect(requestsPerMonth(1, prices)).toBe(730 * 3600);
  });
});

describe('modelsweep cost', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'modelsweep.cjs'), 'cost', ...args], { encoding: 'utf8' });

  it('prints the worked example as JSON', () => {
    const { status, stdout } = cli([
      'lambda',
      '--memory',
      '512',
      '--duration-ms',
      '1000',
      '--requests-per-month',
      '3000000',
      '--free-tier',
      '--json',
    ]);
    expect(status).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.lines.map((l: any) => l.usdRoundedUp)).toEqual([18.34, 0.4]);
    expect(result.monthlyUsdRoundedUp).toBe(18.74);
  });

  it('prints a table with the price sources', async () => {
    const { code: status, stdout } = await inProcess([
      'sagemaker-realtime',
      '--instance-type',
      'ml.c5.xlarge',
      '--peak-rps',
      '100',
      '--rps-per-instance',
      '40',
    ]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/total per month\s+\$446\.76/);
    expect(stdout).toMatch(/note: ceil\(100 peak rps \/ 40 rps per instance\) = 3 instances/);
    expect(stdout).toMatch(/prices: bundled snapshot, https:\/\/aws\.amazon\.com\/sagemaker\/pricing\/.*us-east-1, as of 2025-10/);
  });

  it('uses a prices file that overrides the catalog', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'prices-')), 'p.json');
    writeFileSync(file, JSON.stringify({ sagemakerRealtime: { 'us-east-1': { perInstanceHour: { 'ml.c5.xlarge': 1 } } } }));
    const { stdout } = await inProcess(['sagemaker-realtime', '--instance-type', 'ml.c5.xlarge', '--instances', '1', '--prices', file, '--json']);
    expect(JSON.parse(stdout).monthlyUsd).toBe(730);
  });

  const inProcess = (args: string[]) => runCliInProcess(['cost', ...args]);

  it.each([
    [['lambda', '--memory', '64', '--duration-ms', '1', '--requests-per-month', '1'], /--memory must be a whole number of at least 128/],
    [['lambda', '--memory', '512', '--duration-ms', 'x', '--requests-per-month', '1'], /--duration-ms must be a number/],
    [['sagemaker-realtime', '--instance-type', 'ml.c5.xlarge'], /give --instances, or --peak-rps with --rps-per-instance/],
    [
      ['sagemaker-realtime', '--instance-type', 'ml.c5.xlarge', '--instances', '1', '--region', 'mars-1'],
      /no SageMaker real-time prices for region mars-1/,
    ],
    [['sagemaker-serverless', '--memory', '3000', '--duration-ms', '1', '--requests-per-month', '1'], /no serverless price for 3000 MB/],
    [['lambda', '--memory', '512'], /required option '--duration-ms <ms>' not specified/],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    const { code, stderr } = await inProcess(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});
