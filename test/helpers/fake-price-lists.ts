import type { IncomingMessage, ServerResponse } from 'node:http';

import { startTestServer, type TestServer } from './test-servers';

/**
 * A loopback stand-in for the providers' price lists, in their documented shapes: AWS offer
 * region indexes and per-region offer files (products by SKU, OnDemand and Reserved terms with
 * several terms and dimensions, Lambda's volume tiers), Savings Plans indexes and rate files, and
 * Azure Retail Prices pages linked by NextPageLink. Beside each priced SKU stand the ones that
 * must not be taken for it: Training, Notebook, AsyncInf and BatchTransform rates of the same
 * instance type, Lambda@Edge, a global free-tier row, Windows, Spot and Low Priority VMs, a
 * non-USD dimension, an attribute no parser knows. Its prices are made up and exact, so a test
 * can tell which SKU a price came from.
 */
export const FAKE = {
  publicationDate: '2026-12-01T00:00:00Z',
  version: '20261201000000',
  hosting: { 'ml.g6e.xlarge': 2.6432, 'ml.c7i.xlarge': 0.2451, 'ml.g5.xlarge': 1.71 },
  /** What a wrong parser would take instead: the same types' Training, Notebook, AsyncInf and BatchTransform rates. */
  otherComponents: { Training: 3.1, Notebook: 2.8, AsyncInf: 2.7, BatchTransform: 2.65 },
  serverlessPerSecondByGb: { 1: 0.0000245, 2: 0.000049, 3: 0.0000735, 4: 0.000098, 5: 0.0001225, 6: 0.000147 },
  serverlessDataPerGb: 0.0195,
  lambdaTiers: {
    x86_64: [
      ['0', '6000000000', '0.0000166667'],
      ['6000000000', '15000000000', '0.0000150000'],
      ['15000000000', 'Inf', '0.0000133334'],
    ],
    arm64: [
      ['0', '7500000000', '0.0000133334'],
      ['7500000000', '18750000000', '0.0000120001'],
      ['18750000000', 'Inf', '0.0000106667'],
    ],
  },
  lambdaRequest: '0.0000002000',
  /** Machine Learning Savings Plans' hosting rates for ml.g6e.xlarge, by term. */
  mlSavingsPlans: { '1y-no-upfront': 1.8502, '1y-all-upfront': 1.6651, '3y-no-upfront': 1.3216 },
  computeSavingsPlansLambda: { '1y-no-upfront': { x86_64: 0.0000138334, arm64: 0.0000110667 } },
  azure: { Standard_NC24ads_A100_v4: 3.673, Standard_DS3_v2: 0.229 },
  azureReservation1y: { Standard_NC24ads_A100_v4: 19_865.5 },
} as const;

/** How the fake misbehaves on a path: for the hostile-download tests. */
export type Fault = 'truncated' | 'declares-2gb' | 'endless' | 'not-json' | 'wrong-json' | 'http-500' | 'cut-mid-way' | 'drip' | 'trailing-garbage';

export interface FakePriceLists extends TestServer {
  /** The base URL, for MODELSWEEP_AWS_PRICING_URL and MODELSWEEP_AZURE_PRICES_URL. */
  readonly base: string;
  /** Every path asked for, in order. */
  readonly requests: string[];
  /** Makes the next requests of paths matching `pattern` misbehave (until cleared). */
  fault(pattern: RegExp, fault: Fault): void;
  clearFaults(): void;
  /** Multiplies every hosting price (a new publication, for `prices diff`). */
  setPriceFactor(factor: number): void;
}

const REGIONS = ['eu-central-1', 'us-east-1'] as const;
const PREFIX: Record<string, string> = { 'eu-central-1': 'EUC1', 'us-east-1': 'USE1' };
const LOCATION: Record<string, string> = { 'eu-central-1': 'EU (Frankfurt)', 'us-east-1': 'US East (N. Virginia)' };

function onDemand(sku: string, dims: Array<{ unit: string; usd?: string; cny?: string; begin?: string; end?: string }>) {
  const code = 'JRTCKXETXF';
  return {
    [`${sku}.${code}`]: {
      offerTermCode: code,
      sku,
      effectiveDate: '2026-12-01T00:00:00Z',
      priceDimensions: Object.fromEntries(
        dims.map((d, i) => [
          `${sku}.${code}.${i}`,
          {
            rateCode: `${sku}.${code}.${i}`,
            description: `$${d.usd} per ${d.unit}`,
            beginRange: d.begin ?? '0',
            endRange: d.end ?? 'Inf',
            unit: d.unit,
            pricePerUnit: d.usd !== undefined ? { USD: d.usd } : { CNY: d.cny },
            appliesTo: [],
          },
        ]),
      ),
      termAttributes: {},
    },
  };
}

function sageMakerOffer(region: string, factor: number) {
  const products: Record<string, unknown> = {};
  const terms: Record<string, Record<string, unknown>> = {};
  const reserved: Record<string, unknown> = {};
  const p = PREFIX[region]!;
  let n = 0;
  const add = (productFamily: string, attributes: Record<string, string>, dims: Parameters<typeof onDemand>[1]) => {
    const sku = `SM${region.replace(/-/g, '').toUpperCase()}${String((n += 1)).padStart(4, '0')}`;
    products[sku] = {
      sku,
      productFamily,
      attributes: { servicecode: 'AmazonSageMaker', location: LOCATION[region], locationType: 'AWS Region', regionCode: region, ...attributes },
    };
    terms[sku] = onDemand(sku, dims);
    reserved[sku] = { [`${sku}.4NA7Y494T4`]: { priceDimensions: { x: { unit: 'Hrs', pricePerUnit: { USD: '0.0001' } } } } };
  };
  for (const [type, usd] of Object.entries(FAKE.hosting)) {
    // The other components first: a parser that takes the last rate it sees, or any rate, is caught.
    for (const [component, other] of Object.entries(FAKE.otherComponents))
      add(
        'ML Instance',
        { platoinstancetype: component, component, instanceName: type, instanceType: `${type}-${component}`, usagetype: `${p}-${component}:${type}` },
        [{ unit: 'Hrs', usd: String(other) }],
      );
    add(
      'ML Instance',
      {
        platoinstancetype: 'Hosting',
        component: 'Hosting',
        instanceName: type,
        instanceType: `${type}-Hosting`,
        usagetype: `${p}-Host:${type}`,
        // No parser knows this one.
        platoacceleratorgeneration: 'unknown-to-parsers',
      },
      [
        { unit: 'Hrs', usd: (usd * factor).toFixed(4) },
        { unit: 'Hrs', cny: '99' },
      ],
    );
  }
  // An Outposts row of a hosting type must not be taken for the region's.
  add(
    'ML Instance',
    { platoinstancetype: 'Hosting', instanceName: 'ml.g6e.xlarge', usagetype: `${p}-Host:ml.g6e.xlarge`, locationType: 'AWS Outposts' },
    [{ unit: 'Hrs', usd: '0.01' }],
  );
  for (const [gb, usd] of Object.entries(FAKE.serverlessPerSecondByGb))
    add('ML Serverless', { usagetype: `${p}-ServerlessInf:Mem-${gb}GB` }, [{ unit: 'Second', usd: String(usd) }]);
  add('ML Serverless', { usagetype: `${p}-ServerlessInf:DataProcessing-Bytes` }, [{ unit: 'GB', usd: String(FAKE.serverlessDataPerGb) }]);
  return {
    formatVersion: 'v1.0',
    disclaimer: 'fake',
    offerCode: 'AmazonSageMaker',
    version: FAKE.version,
    publicationDate: FAKE.publicationDate,
    products,
    terms: { OnDemand: terms, Reserved: reserved },
  };
}

function lambdaOffer(region: string) {
  const products: Record<string, unknown> = {};
  const terms: Record<string, unknown> = {};
  let n = 0;
  const add = (attributes: Record<string, string>, dims: Parameters<typeof onDemand>[1]) => {
    const sku = `LA${region.replace(/-/g, '').toUpperCase()}${String((n += 1)).padStart(4, '0')}`;
    products[sku] = {
      sku,
      productFamily: 'Serverless',
      attributes: { servicecode: 'AWSLambda', location: LOCATION[region], locationType: 'AWS Region', regionCode: region, ...attributes },
    };
    terms[sku] = onDemand(sku, dims);
  };
  for (const arch of ['x86_64', 'arm64'] as const) {
    const suffix = arch === 'arm64' ? '-ARM' : '';
    add(
      { group: `AWS-Lambda-Duration${suffix}`, usagetype: `Lambda-GB-Second${suffix}` },
      FAKE.lambdaTiers[arch].map(([begin, end, usd]) => ({ unit: 'Lambda-GB-Second', usd, begin, end })),
    );
    add({ group: `AWS-Lambda-Requests${suffix}`, usagetype: `Request${suffix}` }, [{ unit: 'Requests', usd: FAKE.lambdaRequest }]);
    add({ group: `AWS-Lambda-Provisioned-Concurrency${suffix}` }, [
      { unit: 'Lambda-GB-Second', usd: arch === 'arm64' ? '0.0000033334' : '0.0000041667' },
    ]);
    add({ group: `AWS-Lambda-Duration-Provisioned${suffix}` }, [
      { unit: 'Lambda-GB-Second', usd: arch === 'arm64' ? '0.0000077778' : '0.0000097222' },
    ]);
    add({ group: `AWS-Lambda-Storage-Duration${suffix}` }, [{ unit: 'GB-Seconds', usd: '0.0000000309' }]);
  }
  add({ group: 'AWS-Lambda-Edge-Duration' }, [{ unit: 'Lambda-GB-Second', usd: '0.00005001' }]);
  // The global free tier row.
  products.FREE = { sku: 'FREE', productFamily: 'Serverless', attributes: { group: 'AWS-Lambda-Duration', location: 'Any', locationType: 'Other' } };
  terms.FREE = onDemand('FREE', [{ unit: 'Lambda-GB-Second', usd: '0' }]);
  return {
    formatVersion: 'v1.0',
    offerCode: 'AWSLambda',
    version: FAKE.version,
    publicationDate: FAKE.publicationDate,
    products,
    terms: { OnDemand: terms },
  };
}

function savingsPlans(plan: 'ml' | 'compute', region: string) {
  const p = PREFIX[region]!;
  const options = [
    ['1yr', 'No Upfront', '1y-no-upfront'],
    ['1yr', 'All Upfront', '1y-all-upfront'],
    ['3yr', 'No Upfront', '3y-no-upfront'],
  ] as const;
  const products = options.map(([term, option], i) => ({
    sku: `SP${plan}${i}`,
    productFamily: plan === 'ml' ? 'SageMakerSavingsPlans' : 'ComputeSavingsPlans',
    attributes: { purchaseTerm: term, purchaseOption: option, granularity: 'hourly', locationType: 'AWS Region' },
  }));
  const terms = options.map(([, , key], i) => {
    const rates: unknown[] = [];
    if (plan === 'ml') {
      const rate = FAKE.mlSavingsPlans[key as keyof typeof FAKE.mlSavingsPlans];
      if (rate !== undefined) {
        rates.push({
          discountedServiceCode: 'AmazonSageMaker',
          discountedUsageType: `${p}-Train:ml.g6e.xlarge`,
          unit: 'Hrs',
          discountedRate: { price: '0.5', currency: 'USD' },
        });
        rates.push({
          discountedServiceCode: 'AmazonSageMaker',
          discountedUsageType: `${p}-Host:ml.g6e.xlarge`,
          unit: 'Hrs',
          discountedRate: { price: String(rate), currency: 'USD' },
        });
      }
    } else {
      const rate = FAKE.computeSavingsPlansLambda[key as keyof typeof FAKE.computeSavingsPlansLambda];
      if (rate !== undefined) {
        rates.push({
          discountedServiceCode: 'AWSLambda',
          discountedUsageType: `${p}-Lambda-GB-Second`,
          unit: 'Lambda-GB-Second',
          discountedRate: { price: String(rate.x86_64), currency: 'USD' },
        });
        rates.push({
          discountedServiceCode: 'AWSLambda',
          discountedUsageType: `${p}-Lambda-GB-Second-ARM`,
          unit: 'Lambda-GB-Second',
          discountedRate: { price: String(rate.arm64), currency: 'USD' },
        });
        rates.push({
          discountedServiceCode: 'AmazonEC2',
          discountedUsageType: `${p}-BoxUsage:c7i.large`,
          unit: 'Hrs',
          discountedRate: { price: '0.06', currency: 'USD' },
        });
      }
    }
    return { sku: `SP${plan}${i}`, description: key, effectiveDate: FAKE.publicationDate, leaseContractLength: { duration: 1, unit: 'year' }, rates };
  });
  return { version: FAKE.version, publicationDate: FAKE.publicationDate, products, terms: { savingsPlan: terms } };
}

function azurePage(base: string, region: string, skip: number) {
  const item = (armSkuName: string, retailPrice: number, extra: Record<string, unknown> = {}) => ({
    currencyCode: 'USD',
    retailPrice,
    unitPrice: retailPrice,
    armRegionName: region,
    location: region,
    effectiveStartDate: '2026-11-01T00:00:00Z',
    serviceName: 'Virtual Machines',
    armSkuName,
    productName: `Virtual Machines ${armSkuName} Series`,
    skuName: armSkuName.replace('Standard_', ''),
    meterName: armSkuName.replace('Standard_', ''),
    unitOfMeasure: '1 Hour',
    type: 'Consumption',
    isPrimaryMeterRegion: true,
    ...extra,
  });
  const pages = [
    [
      item('Standard_NC24ads_A100_v4', 99, { productName: 'Virtual Machines NCads A100 v4 Series Windows' }),
      item('Standard_NC24ads_A100_v4', 0.9, { skuName: 'NC24ads A100 v4 Spot', meterName: 'NC24ads A100 v4 Spot' }),
      item('Standard_NC24ads_A100_v4', FAKE.azure.Standard_NC24ads_A100_v4),
      item('Standard_NC24ads_A100_v4', 1.2, { skuName: 'NC24ads A100 v4 Low Priority' }),
    ],
    [
      item('Standard_NC24ads_A100_v4', FAKE.azureReservation1y.Standard_NC24ads_A100_v4, {
        type: 'Reservation',
        reservationTerm: '1 Year',
        unitOfMeasure: '1 Hour',
      }),
      item('Standard_NC24ads_A100_v4', 2.5, { type: 'DevTestConsumption' }),
      item('Standard_DS3_v2', FAKE.azure.Standard_DS3_v2),
      item('Standard_DS3_v2', 0.3, { currencyCode: 'EUR' }),
    ],
  ];
  const page = pages[skip / 4] ?? [];
  const next = skip / 4 + 1 < pages.length ? `${base}/api/retail/prices?$skip=${skip + 4}&region=${region}` : null;
  return { BillingCurrency: 'USD', CustomerEntityId: 'Default', CustomerEntityType: 'Retail', Items: page, NextPageLink: next, Count: page.length };
}

/** Starts the fake on 127.0.0.1. */
export async function startFakePriceLists(port = 0): Promise<FakePriceLists> {
  const faults: Array<[RegExp, Fault]> = [];
  const requests: string[] = [];
  let factor = 1;
  let base = '';
  const server = await startTestServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push(url.pathname);
    const fault = faults.find(([pattern]) => pattern.test(url.pathname))?.[1];
    const body = document(url);
    if (body === undefined) {
      res.writeHead(404).end('{"message":"not found"}');
      return;
    }
    if (fault) misbehave(res, fault, JSON.stringify(body));
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }, port);
  base = server.url.replace(/\/$/, '');

  function document(url: URL): unknown {
    const path = url.pathname;
    let m: RegExpExecArray | null;
    if ((m = /^\/offers\/v1\.0\/aws\/(AmazonSageMaker|AWSLambda)\/current\/region_index\.json$/.exec(path)))
      return {
        formatVersion: 'v1.0',
        publicationDate: FAKE.publicationDate,
        regions: Object.fromEntries(
          REGIONS.map((r) => [r, { regionCode: r, currentVersionUrl: `/offers/v1.0/aws/${m![1]}/${FAKE.version}/${r}/index.json` }]),
        ),
      };
    if ((m = /^\/offers\/v1\.0\/aws\/(AmazonSageMaker|AWSLambda)\/\d+\/([a-z0-9-]+)\/index\.json$/.exec(path)))
      return REGIONS.includes(m[2] as never) ? (m[1] === 'AWSLambda' ? lambdaOffer(m[2]!) : sageMakerOffer(m[2]!, factor)) : undefined;
    if ((m = /^\/savingsPlan\/v1\.0\/aws\/(AWSMachineLearningSavingsPlans|AWSComputeSavingsPlan)\/current\/region_index\.json$/.exec(path)))
      return { regions: REGIONS.map((r) => ({ regionCode: r, versionUrl: `/savingsPlan/v1.0/aws/${m![1]}/${FAKE.version}/${r}/index.json` })) };
    if ((m = /^\/savingsPlan\/v1\.0\/aws\/(AWSMachineLearningSavingsPlans|AWSComputeSavingsPlan)\/\d+\/([a-z0-9-]+)\/index\.json$/.exec(path)))
      return savingsPlans(m[1] === 'AWSComputeSavingsPlan' ? 'compute' : 'ml', m[2]!);
    if (path === '/api/retail/prices') {
      const filter = url.searchParams.get('$filter') ?? '';
      const region = url.searchParams.get('region') ?? /armRegionName eq '([^']+)'/.exec(filter)?.[1] ?? '';
      return azurePage(base, region, Number(url.searchParams.get('$skip') ?? 0));
    }
    return undefined;
  }

  return {
    ...server,
    base,
    requests,
    fault: (pattern, fault) => void faults.push([pattern, fault]),
    clearFaults: () => void faults.splice(0),
    setPriceFactor: (f) => void (factor = f),
  };
}

function misbehave(res: ServerResponse, fault: Fault, body: string): void {
  switch (fault) {
    case 'http-500':
      res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
      return;
    case 'not-json':
      res.writeHead(200, { 'content-type': 'application/json' }).end('<html>maintenance</html>');
      return;
    case 'wrong-json':
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world","regions":[1,2,3]}');
      return;
    case 'trailing-garbage':
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${body}{"more":1}`);
      return;
    case 'truncated':
      // Says the whole length, sends half, then ends the connection.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.write(body.slice(0, Math.floor(body.length / 2)));
      setTimeout(() => res.destroy(), 10);
      return;
    case 'cut-mid-way':
      // Chunked, so nothing announces the length: the connection just drops.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(body.slice(0, Math.floor(body.length / 3)));
      setTimeout(() => res.socket?.destroy(), 10);
      return;
    case 'declares-2gb':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * 1024 ** 3) });
      res.write('{"products":{');
      setTimeout(() => res.destroy(), 2000).unref();
      return;
    case 'endless': {
      // A valid-looking document that never ends, as fast as the socket takes it.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"products":{"A":{"sku":"A","attributes":{"x":"');
      const chunk = 'x'.repeat(64 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
      return;
    }
    case 'drip': {
      res.writeHead(200, { 'content-type': 'application/json' });
      let i = 0;
      const timer = setInterval(() => {
        if (res.destroyed || i >= body.length) return clearInterval(timer);
        res.write(body[i]);
        i += 1;
      }, 1500);
      res.on('close', () => clearInterval(timer));
    }
  }
}
