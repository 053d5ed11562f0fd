import { describe, expect, it } from 'vitest';

import { nearestTypes, overrideLayer, PriceBook, type PriceLayer, snapshotLayer, stalenessOf } from '../../../lib/cost/price-book';

const fetched: PriceLayer = {
  origin: 'price-list',
  label: 'price list (cached)',
  prices: {
    sagemakerRealtime: {
      'us-east-1': {
        source: 'https://pricing.example/offers/v1.0/aws/AmazonSageMaker/2026/us-east-1/index.json',
        asOf: '2026-12-01',
        fetchedAt: '2026-12-02T08:00:00.000Z',
        perInstanceHour: { 'ml.g5.xlarge': 1.5, 'ml.g6e.xlarge': 2.6 },
        committedPerInstanceHour: { '1y-no-upfront': { 'ml.g6e.xlarge': 1.9 } },
      },
    },
  },
};
const override = overrideLayer(
  { sagemakerRealtime: { 'us-east-1': { perInstanceHour: { 'ml.g5.xlarge': 1.2 } } }, lambda: { 'us-east-1': { requestsPerMillion: 0.25 } } },
  '--prices mine.json',
);

describe('PriceBook', () => {
  it('takes an override over a price list over the snapshot, whatever order the layers are given in', () => {
    const book = new PriceBook([snapshotLayer(), fetched, override]);

    expect(book.instanceHour('sagemaker-realtime', 'us-east-1', 'ml.g5.xlarge')).toMatchObject({
      usd: 1.2,
      source: { origin: 'override', label: '--prices mine.json' },
    });
    expect(book.instanceHour('sagemaker-realtime', 'us-east-1', 'ml.g6e.xlarge')).toMatchObject({
      usd: 2.6,
      source: { origin: 'price-list', asOf: '2026-12-01', fetchedAt: '2026-12-02T08:00:00.000Z' },
    });
    expect(book.instanceHour('sagemaker-realtime', 'us-east-1', 'ml.c5.xlarge')).toMatchObject({
      usd: 0.204,
      source: { origin: 'snapshot', asOf: '2025-10' },
    });
  });

  it('completes a partial override from the layers under it, and says what it stands on', () => {
    const book = new PriceBook([snapshotLayer(), override]);

    const { prices, source } = book.lambda('us-east-1');

    expect(prices.requestsPerMillion).toBe(0.25);
    expect(prices.computePerGbSecond.x86_64[0]!.price).toBe(0.0000166667);
    expect(source).toMatchObject({ origin: 'override', label: '--prices mine.json over bundled snapshot' });
  });

  it('records just the figures a sweep needs, and prices the same from the record', () => {
    const book = new PriceBook([snapshotLayer(), fetched, override], '1y-no-upfront');
    const keys = [{ catalog: 'sagemaker-realtime', region: 'us-east-1', type: 'ml.g6e.xlarge' }] as const;

    const recorded = JSON.parse(JSON.stringify(book.subset(keys)));
    const again = PriceBook.fromRecorded(recorded);

    expect(recorded.layers.map((l: PriceLayer) => l.origin)).toEqual(['price-list']);
    expect(Object.keys(recorded.layers[0].prices.sagemakerRealtime['us-east-1'].perInstanceHour)).toEqual(['ml.g6e.xlarge']);
    expect(again.instanceHour('sagemaker-realtime', 'us-east-1', 'ml.g6e.xlarge')).toEqual(
      book.instanceHour('sagemaker-realtime', 'us-east-1', 'ml.g6e.xlarge'),
    );
    expect(again.commitment).toBe('1y-no-upfront');
    expect(() => PriceBook.fromRecorded({ layers: [{ origin: 'elsewhere', label: 'x', prices: {} }] })).toThrow(
      /the sweep's recorded prices: layers\.0\.origin/,
    );
  });

  it('prices a commitment at its rate and says when it has none', () => {
    const book = new PriceBook([fetched], '1y-no-upfront');

    expect(book.instanceHour('sagemaker-realtime', 'us-east-1', 'ml.g6e.xlarge')).toMatchObject({
      usd: 1.9,
      onDemandUsd: 2.6,
      source: { commitment: '1y-no-upfront' },
    });
    expect(() => book.instanceHour('sagemaker-realtime', 'us-east-1', 'ml.g5.xlarge')).toThrow(/no 1y-no-upfront rate for ml\.g5\.xlarge/);
  });

  it('lists every candidate it cannot price, each with what to do', () => {
    const book = new PriceBook([snapshotLayer()]);

    const problems = book.problems([
      { catalog: 'sagemaker-realtime', region: 'us-east-1', type: 'ml.g5.xlarge' },
      { catalog: 'sagemaker-realtime', region: 'us-east-1', type: 'ml.g6e.xlarge' },
      { catalog: 'lambda', region: 'eu-central-1' },
      { catalog: 'azureml', region: 'westeurope', type: 'Standard_NC24ads_A100_v4' },
    ]);

    expect(problems).toEqual([
      expect.stringMatching(
        /^no price for ml\.g6e\.xlarge .* nearest priced: ml\.g6\.xlarge, ml\.g6\.2xlarge, ml\.g5\.xlarge, ml\.g5\.\d+xlarge; fetch .*--service sagemaker/,
      ),
      expect.stringMatching(
        /^no Lambda prices for region eu-central-1 \(prices at hand: us-east-1\); fetch them with `modelsweep prices update --service lambda --region eu-central-1`/,
      ),
      expect.stringMatching(/^no Azure ML prices for region westeurope .*--service azure --region westeurope/),
    ]);
  });

  it('refuses an override that would reach an object prototype', () => {
    expect(() => overrideLayer(JSON.parse('{"sagemakerRealtime":{"__proto__":{"x":1}}}'), 'spec pricing.prices')).toThrow(
      /spec pricing\.prices: "__proto__" is not a field of the price catalog/,
    );
  });
});

describe('staleness', () => {
  const source = { catalog: 'sagemaker-realtime', region: 'eu-central-1' } as const;

  it('warns past 30 days from the fetch (or the snapshot date), never for an override', () => {
    const now = new Date('2026-12-05T00:00:00Z');

    expect(
      stalenessOf({ ...source, origin: 'price-list', label: 'price list (cached)', source: 'x', fetchedAt: '2026-11-10T00:00:00Z' }, now),
    ).toBeUndefined();
    expect(stalenessOf({ ...source, origin: 'price-list', label: 'price list (cached)', source: 'x', fetchedAt: '2026-10-01T00:00:00Z' }, now)).toBe(
      'SageMaker real-time prices for eu-central-1 come from price list (cached), fetched 2026-10-01 (2 months old); refresh them with `modelsweep prices update --service sagemaker --region eu-central-1`',
    );
    expect(stalenessOf({ ...source, origin: 'snapshot', label: 'bundled snapshot', source: 'x', asOf: '2025-10' }, now)).toMatch(
      /bundled snapshot dated 2025-10 \(14 months old\)/,
    );
    expect(stalenessOf({ ...source, origin: 'override', label: '--prices a.json', source: 'x', asOf: '2020-01' }, now)).toBeUndefined();
  });
});

describe('nearestTypes', () => {
  it('ranks the same family first, then the same size', () => {
    expect(nearestTypes('ml.g6e.xlarge', ['ml.c5.xlarge', 'ml.g6.2xlarge', 'ml.g5.xlarge', 'ml.g6e.2xlarge', 'ml.m5.large'])).toEqual([
      'ml.g6e.2xlarge',
      'ml.g6.2xlarge',
      'ml.g5.xlarge',
      'ml.c5.xlarge',
    ]);
  });
});
