import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { PriceBook, type PriceLayer, snapshotLayer } from '../../../lib/cost/price-book';
import { readPriceCache } from '../../../lib/cost/price-cache';
import { linkOnBase } from '../../../lib/cost/price-list/download';
import { snapshotFrom } from '../../../lib/cost/price-list/snapshot';
import { fetchPriceLists } from '../../../lib/cost/price-list/update-prices';
import { runCliInProcess } from '../../helpers/cli-in-process';
import { FAKE, type FakePriceLists, type Fault, startFakePriceLists } from '../../helpers/fake-price-lists';

let fake: FakePriceLists;
const urls = () => ({ aws: fake.base, azure: fake.base });
const now = () => new Date('2026-12-05T12:00:00Z');
const limits = { maxBytes: 8 * 1024 * 1024, stallMs: 2000, deadlineMs: 20_000 };

beforeAll(async () => {
  fake = await startFakePriceLists();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.clearFaults();
  fake.setPriceFactor(1);
});

const layerOf = (prices: PriceLayer['prices']): PriceLayer => ({ origin: 'price-list', label: 'price list (cached)', prices });

describe('reading the AWS Price List', () => {
  it('prices a real-time candidate from its Hosting SKU, never Training, Notebook, AsyncInf, BatchTransform or Outposts; asynchronous and batch hours from their own SKUs', async () => {
    const { prices, fetches } = await fetchPriceLists(
      { services: ['sagemaker'], regions: ['eu-central-1'], commitments: false, limits, now },
      urls(),
    );

    const hosting = prices.sagemakerRealtime!['eu-central-1']!;
    expect(hosting.perInstanceHour).toEqual(FAKE.hosting);
    expect(hosting).toMatchObject({ asOf: '2026-12-01', fetchedAt: '2026-12-05T12:00:00.000Z', version: FAKE.version });
    expect(hosting.source).toBe(`${fake.base}/offers/v1.0/aws/AmazonSageMaker/${FAKE.version}/eu-central-1/index.json`);
    expect(fetches).toEqual([
      expect.objectContaining({ service: 'sagemaker', region: 'eu-central-1', what: 'on-demand', publicationDate: FAKE.publicationDate }),
    ]);
    const everyType = (usd: number) => Object.fromEntries(Object.keys(FAKE.hosting).map((type) => [type, usd]));
    expect(prices.sagemakerAsync!['eu-central-1']!.perInstanceHour).toEqual(everyType(FAKE.otherComponents.AsyncInf));
    expect(prices.sagemakerBatchTransform!['eu-central-1']!.perInstanceHour).toEqual(everyType(FAKE.otherComponents.BatchTransform));
    // No Savings Plans rates are read for asynchronous hours: under a commitment they are priced on demand, saying so.
    const committed = new PriceBook([layerOf(prices)], '1y-no-upfront').instanceHour('sagemaker-async', 'eu-central-1', 'ml.g5.xlarge');
    expect(committed).toMatchObject({ usd: FAKE.otherComponents.AsyncInf, source: { note: expect.stringMatching(/priced on demand/) } });
    expect(() => new PriceBook([layerOf(prices)]).instanceHour('sagemaker-batch-transform', 'eu-central-1', 'ml.m5.large')).toThrow(
      /no price for ml\.m5\.large \(SageMaker Batch Transform\) in eu-central-1.*nearest priced: /,
    );
  });

  it('prices serverless inference per second by memory size, and the data processed', async () => {
    const { prices } = await fetchPriceLists({ services: ['sagemaker'], regions: ['eu-central-1'], commitments: false, limits, now }, urls());

    const serverless = prices.sagemakerServerless!['eu-central-1']!;
    expect(serverless.computePerSecondByMemoryMb).toEqual(
      Object.fromEntries(Object.entries(FAKE.serverlessPerSecondByGb).map(([gb, usd]) => [String(Number(gb) * 1024), usd])),
    );
    expect(serverless.dataProcessingPerGb).toBe(FAKE.serverlessDataPerGb);
  });

  it("prices Lambda's duration through its volume tiers per architecture, skipping Lambda@Edge and the global free-tier row", async () => {
    const { prices } = await fetchPriceLists({ services: ['lambda'], regions: ['eu-central-1'], commitments: false, limits, now }, urls());

    const lambda = prices.lambda!['eu-central-1']!;
    expect(lambda.computePerGbSecond).toEqual({
      x86_64: [
        { upToGbSecondsPerMonth: 6e9, price: 0.0000166667 },
        { upToGbSecondsPerMonth: 15e9, price: 0.000015 },
        { upToGbSecondsPerMonth: null, price: 0.0000133334 },
      ],
      arm64: [
        { upToGbSecondsPerMonth: 7.5e9, price: 0.0000133334 },
        { upToGbSecondsPerMonth: 18.75e9, price: 0.0000120001 },
        { upToGbSecondsPerMonth: null, price: 0.0000106667 },
      ],
    });
    expect(lambda.requestsPerMillion).toBe(0.2);
    expect(lambda.provisionedConcurrency).toEqual({
      x86_64: { perGbSecond: 0.0000041667, durationPerGbSecond: 0.0000097222 },
      arm64: { perGbSecond: 0.0000033334, durationPerGbSecond: 0.0000077778 },
    });
    // Fetched Lambda prices stand on their own: the pricing page's worked example in a region the snapshot lacks.
    const book = new PriceBook([layerOf(prices), snapshotLayer()]);
    expect(book.lambda('eu-central-1').source).toMatchObject({ origin: 'price-list', asOf: '2026-12-01' });
  });

  it('reads Savings Plans rates for hosting and Lambda duration, not Training or EC2', async () => {
    const { prices } = await fetchPriceLists({ services: ['sagemaker', 'lambda'], regions: ['eu-central-1'], limits, now }, urls());

    expect(prices.sagemakerRealtime!['eu-central-1']!.committedPerInstanceHour).toEqual({
      '1y-no-upfront': { 'ml.g6e.xlarge': 1.8502 },
      '1y-all-upfront': { 'ml.g6e.xlarge': 1.6651 },
      '3y-no-upfront': { 'ml.g6e.xlarge': 1.3216 },
    });
    expect(prices.lambda!['eu-central-1']!.committedComputePerGbSecond).toEqual({ '1y-no-upfront': FAKE.computeSavingsPlansLambda['1y-no-upfront'] });
    const book = new PriceBook([layerOf(prices), snapshotLayer()], '1y-no-upfront');
    expect(book.instanceHour('sagemaker-realtime', 'eu-central-1', 'ml.g6e.xlarge')).toMatchObject({
      usd: 1.8502,
      onDemandUsd: 2.6432,
      source: { commitment: '1y-no-upfront' },
    });
  });

  it('refuses a region the offer does not have, naming the nearest', async () => {
    await expect(fetchPriceLists({ services: ['sagemaker'], regions: ['eu-central-9'], limits, now }, urls())).rejects.toThrow(
      /--region: the AmazonSageMaker price list has no eu-central-9; nearest: eu-central-1/,
    );
  });
});

describe('the bundled snapshot', () => {
  it('is made from the price lists by the same code, whole blocks only, dated and sourced', async () => {
    const { prices } = await fetchPriceLists({ services: ['sagemaker', 'lambda', 'azure'], azureRegions: ['westeurope'], limits, now }, urls());

    const { catalog, leftOut } = snapshotFrom(prices, now());

    expect(leftOut).toEqual([]);
    expect(Object.keys(catalog.sagemakerRealtime)).toEqual(['eu-central-1', 'us-east-1']);
    expect(Object.keys(catalog.azureml)).toEqual(['westeurope']);
    expect(catalog.note).toMatch(/npm run prices:snapshot` on 2026-12-05/);
    const book = new PriceBook([{ origin: 'snapshot', label: 'bundled snapshot', prices: catalog }]);
    expect(book.lambda('eu-central-1').prices.requestsPerMillion).toBe(0.2);
    expect(book.instanceHour('sagemaker-realtime', 'eu-central-1', 'ml.g6e.xlarge').source).toMatchObject({ asOf: '2026-12-01' });
  });

  it('leaves out a block the price lists left incomplete, saying which', () => {
    const { catalog, leftOut } = snapshotFrom(
      { sagemakerServerless: { 'eu-west-3': { source: 'x', asOf: '2026-12-01', computePerSecondByMemoryMb: { 1024: 0.00002 } } } },
      now(),
    );

    expect(catalog.sagemakerServerless).toEqual({});
    expect(leftOut).toEqual(['sagemakerServerless eu-west-3: dataProcessingPerGb Invalid input: expected number, received undefined']);
  });
});

describe('links in a price list', () => {
  it('resolve on the configured base, and one to another host is refused', () => {
    expect(linkOnBase('http://127.0.0.1:9', '/offers/x/index.json', 'index')).toBe('http://127.0.0.1:9/offers/x/index.json');
    expect(() => linkOnBase('http://127.0.0.1:9', 'https://elsewhere.example/x.json', 'index')).toThrow(
      'index: points to another host (https://elsewhere.example)',
    );
  });
});

describe('reading Azure Retail Prices', () => {
  it("follows NextPageLink and keeps each SKU's Linux pay-as-you-go meter, with reservations as hourly rates", async () => {
    const { prices, fetches } = await fetchPriceLists({ services: ['azure'], regions: ['westeurope'], limits, now }, urls());

    const block = prices.azureml!.westeurope!;
    expect(block.perInstanceHour).toEqual(FAKE.azure);
    expect(block.committedPerInstanceHour!['1y-no-upfront']!.Standard_NC24ads_A100_v4).toBeCloseTo(19_865.5 / 8760, 9);
    expect(block.committedPerInstanceHour!['1y-all-upfront']!.Standard_NC24ads_A100_v4).toBeCloseTo(19_865.5 / 8760, 9);
    expect(block.asOf).toBe('2026-11-01');
    expect(fake.requests.filter((p) => p === '/api/retail/prices').length).toBeGreaterThanOrEqual(2);
    expect(fetches[0]).toMatchObject({ service: 'azure', region: 'westeurope' });
  });
});

describe('modelsweep prices update', () => {
  const env = (dir: string) => ({ MODELSWEEP_AWS_PRICING_URL: fake.base, MODELSWEEP_AZURE_PRICES_URL: fake.base, MODELSWEEP_PRICE_CACHE: dir });
  async function cli(args: string[], dir: string) {
    const saved = { ...process.env };
    Object.assign(process.env, env(dir));
    try {
      return await runCliInProcess(args, 30_000);
    } finally {
      process.env = saved;
    }
  }

  it('then `cost` prices ml.g6e.xlarge in eu-central-1 from the fetched list, saying where from and when', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));

    const update = await cli(['prices', 'update', '--region', 'eu-central-1'], dir);
    const cost = await cli(['cost', 'sagemaker-realtime', '--instance-type', 'ml.g6e.xlarge', '--instances', '1', '--region', 'eu-central-1'], dir);

    expect(update.code).toBe(0);
    expect(update.stdout).toMatch(
      /^updated .* from 4 files in [\d.]+ s: Lambda in 1 region, SageMaker real-time in 1 region, SageMaker asynchronous inference in 1 region, SageMaker Batch Transform in 1 region, SageMaker serverless in 1 region$/m,
    );
    expect(cost.code).toBe(0);
    expect(cost.stdout).toMatch(/ml\.g6e\.xlarge instance-hours\s+730 instance-hours\s+× \$2\.6432\s+\$1929\.54/);
    expect(cost.stdout).toMatch(
      /prices: price list \(cached\), http:\/\/127\.0\.0\.1:\d+\/offers\/v1\.0\/aws\/AmazonSageMaker\/20261201000000\/eu-central-1\/index\.json, eu-central-1, published 2026-12-01, fetched \d{4}-\d{2}-\d{2}/,
    );
    expect(cost.stderr).not.toMatch(/warning/);
  });

  it('prices under a commitment with the on-demand cost beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));
    await cli(['prices', 'update', '--region', 'eu-central-1', '--service', 'sagemaker'], dir);

    const cost = await cli(
      [
        'cost',
        'sagemaker-realtime',
        '--instance-type',
        'ml.g6e.xlarge',
        '--instances',
        '1',
        '--region',
        'eu-central-1',
        '--commitment',
        '1y-no-upfront',
      ],
      dir,
    );
    const missing = await cli(
      [
        'cost',
        'sagemaker-realtime',
        '--instance-type',
        'ml.g5.xlarge',
        '--instances',
        '1',
        '--region',
        'eu-central-1',
        '--commitment',
        '3y-all-upfront',
      ],
      dir,
    );

    expect(cost.code).toBe(0);
    expect(cost.stdout).toMatch(/× \$1\.8502\s+\$1350\.65/);
    expect(cost.stdout).toMatch(/on demand: \$1929\.54 per month; 1y-no-upfront saves \$578\.8\d \(30\.0%\)/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no 3y-all-upfront rate for ml\.g5\.xlarge \(SageMaker real-time\) in eu-central-1/);
  });

  it('shows a price with its source, and diffs two updates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));
    await cli(['prices', 'update', '--region', 'eu-central-1', '--service', 'sagemaker', '--no-commitments'], dir);
    fake.setPriceFactor(1.1);
    await cli(['prices', 'update', '--region', 'eu-central-1', '--service', 'sagemaker', '--no-commitments'], dir);

    const show = await cli(['prices', 'show', 'ml.g6e.xlarge', '--region', 'eu-central-1'], dir);
    const showAsync = await cli(['prices', 'show', 'ml.g6e.xlarge', '--region', 'eu-central-1', '--use', 'async'], dir);
    const diff = await cli(['prices', 'diff'], dir);

    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/ml\.g6e\.xlarge in eu-central-1: \$2\.9075 per hour on demand/);
    expect(show.stdout).toMatch(/source: price list \(cached\), http:.*published 2026-12-01/);
    expect(showAsync.stdout).toMatch(/ml\.g6e\.xlarge \(async\) in eu-central-1: \$2\.7 per hour on demand\nsource: /);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/3 changed, 0 added, 0 removed/);
    expect(diff.stdout).toMatch(/changed sagemakerRealtime eu-central-1 perInstanceHour ml\.g6e\.xlarge: 2\.6432 → 2\.9075 \(10\.0%\)/);
  });

  it('names the nearest priced types and how to fetch when a price is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));

    const cost = await cli(['cost', 'sagemaker-realtime', '--instance-type', 'ml.g6e.xlarge', '--instances', '1', '--region', 'eu-central-1'], dir);

    expect(cost.code).toBe(2);
    expect(cost.stderr).toMatch(
      /no SageMaker real-time prices for region eu-central-1 \(prices at hand: eu-west-1, us-east-1, us-west-2\); fetch them with `modelsweep prices update --service sagemaker --region eu-central-1`/,
    );
  });

  it('warns when the prices are older than 30 days', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));

    const cost = await cli(['cost', 'sagemaker-realtime', '--instance-type', 'ml.g5.xlarge', '--instances', '1'], dir);

    expect(cost.code).toBe(0);
    expect(cost.stderr).toMatch(
      /warning: SageMaker real-time prices for us-east-1 come from the bundled snapshot dated 2025-10 \(\d+ months old\); refresh them with `modelsweep prices update --service sagemaker --region us-east-1`/,
    );
  });

  it('writes nothing when a later file of an update fails after the first ones were read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));
    await cli(['prices', 'update', '--region', 'eu-central-1', '--service', 'sagemaker'], dir);
    const before = readFileSync(join(dir, 'prices.json'));
    fake.setPriceFactor(2);
    fake.fault(/^\/savingsPlan\/.*\/eu-central-1\/index\.json$/, 'http-500');

    const { code, stderr } = await cli(['prices', 'update', '--region', 'eu-central-1', '--service', 'sagemaker'], dir);

    expect(code).toBe(1);
    expect(stderr).toMatch(/^AmazonSageMaker eu-central-1: done/m);
    expect(stderr).toMatch(
      /AWSMachineLearningSavingsPlans\/\d+\/eu-central-1\/index\.json: HTTP 500 Internal Server Error \(the price cache was not changed\)$/m,
    );
    expect(readFileSync(join(dir, 'prices.json'))).toEqual(before);
  });

  describe('a bad download leaves the cache as it was, with a one-line error', () => {
    const cases: Array<[Fault, RegExp, string[]]> = [
      ['truncated', /ended after|broke off|not a complete JSON document/, []],
      ['cut-mid-way', /broke off|not a complete JSON document/, []],
      ['declares-2gb', /is 2048\.0 MB, over the 1\.0 MB limit/, ['--max-download-mb', '1']],
      ['endless', /is over the 1\.0 MB limit/, ['--max-download-mb', '1']],
      ['not-json', /not a complete JSON document/, []],
      ['wrong-json', /not an offer file \(no products\)/, []],
      ['trailing-garbage', /more data after the end of the JSON document/, []],
      ['http-500', /HTTP 500/, []],
      ['drip', /sent nothing for 1 s/, ['--stall-timeout', '1s']],
    ];
    it.each(cases)('%s', async (fault, message, extra) => {
      const dir = mkdtempSync(join(tmpdir(), 'prices-'));
      await cli(['prices', 'update', '--region', 'eu-central-1', '--service', 'sagemaker', '--no-commitments'], dir);
      const before = readFileSync(join(dir, 'prices.json'));
      fake.setPriceFactor(2);
      fake.fault(/\/eu-central-1\/index\.json$/, fault);

      const { code, stderr } = await cli(
        ['prices', 'update', '--region', 'eu-central-1', '--service', 'sagemaker', '--no-commitments', ...extra],
        dir,
      );

      expect(code).not.toBe(0);
      expect(stderr).toMatch(message);
      expect(stderr).toMatch(/\(the price cache was not changed\)\n$/);
      expect(stderr.trim().split('\n')).toHaveLength(2); // the progress line, and the error
      expect(readFileSync(join(dir, 'prices.json'))).toEqual(before);
      expect(readPriceCache(dir)!.prices.sagemakerRealtime!['eu-central-1']!.perInstanceHour!['ml.g6e.xlarge']).toBe(2.6432);
    });
  });
});
