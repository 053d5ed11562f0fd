import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { htmlReport } from '../../../lib/report/html-report';
import { resultsText } from '../../../lib/report/results-text';
import { resultsCsv, type SweepResults } from '../../../lib/report/sweep-results';
import { writeReportFiles } from '../../../lib/report/write-report';
import { httpTarget } from '../../../lib/targets/http-target';
import { launchChromium } from '../../helpers/browser';
import { cloudSpec, runCloudSweep } from '../../helpers/cloud-sweep';
import { fixedDelayServer, type TestServer } from '../../helpers/test-servers';

let servers: TestServer[];
let results: SweepResults;
let browser: Browser;

/** Three endpoints 2, 8 and 60 ms away, at different prices, one of them dead: a real sweep to report on. */
beforeAll(async () => {
  servers = await Promise.all([fixedDelayServer(2), fixedDelayServer(8), fixedDelayServer(60)]);
  const http = (name: string, url: string, costPerHour: number) => ({ kind: 'http', name, url, costPerHour });
  const outcome = await runCloudSweep(
    cloudSpec(
      [
        http('fast', servers[0].url, 0.5),
        http('cheap', servers[1].url, 0.1),
        http('slow', servers[2].url, 0.05),
        http('gone', 'http://127.0.0.1:9/', 0.01),
      ],
      {
        slo: { percentile: 95, latencyMs: 40, maxErrorRate: 0.05 },
        // Text from the spec that would be markup if the report did not escape it.
        payloads: [{ body: '{"note": "</script><b>bold</b>"}' }],
      },
    ),
    { http: httpTarget },
  );
  results = outcome.results!;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
});

/** The report of `shown` in Chromium, every chart drawn, with no error logged. */
async function openReport(shown: SweepResults) {
  const file = join(mkdtempSync(join(tmpdir(), 'report-')), 'report.html');
  writeFileSync(file, htmlReport(shown));
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`file://${file}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
  expect(errors).toEqual([]);
  return page;
}

describe('sweep results', () => {
  it('joins verdicts and records: one entry per candidate, phases with the SLO percentile', () => {
    expect(results.candidates.map((c) => [c.id, c.status, c.feasible])).toEqual([
      ['fast', 'measured', true],
      ['cheap', 'measured', true],
      ['slow', 'measured', false],
      ['gone', 'failed', false],
    ]);
    expect(results.recommended).toBe('cheap');
    const cheap = results.candidates[1];
    expect(cheap.configuration).toMatchObject({ url: servers[1].url, costPerHour: 0.1 });
    expect(cheap.phases[0].sloLatencyMs).toBeGreaterThanOrEqual(8);
    // Missing the SLO leaves no sized cost; one instance for a month still places it.
    expect(results.candidates[2].monthlyCostUsd).toBeUndefined();
    expect(results.candidates[2].oneInstanceMonthlyUsd).toBeCloseTo(0.05 * 730, 2);
  });

  it('writes CSV with one row per candidate and phase, quoting what needs it', () => {
    const lines = resultsCsv(results).trimEnd().split('\r\n');
    expect(lines[0].split(',').slice(0, 3)).toEqual(['candidate', 'kind', 'status']);
    const phases = results.candidates.reduce((n, c) => n + Math.max(1, c.phases.length), 0);
    expect(lines).toHaveLength(1 + phases);
    const gone = lines.find((l) => l.startsWith('gone,'))!;
    expect(gone).toMatch(/^gone,http,failed,false,false,false,/);
    expect(gone.endsWith(',failed: cannot reach http://127.0.0.1:9/ (ECONNREFUSED)')).toBe(true);
    const quoted = resultsCsv({ ...results, candidates: [{ ...results.candidates[3], reason: 'failed: "x", then y\nz' }] });
    expect(quoted.split('\r\n')[1].endsWith(',"failed: ""x"", then y\nz"')).toBe(true);
  });

  it('says what the candidate search saved, and how guided predictions held up', () => {
    const searched = {
      ...results,
      search: {
        mode: 'guided',
        grid: 8,
        deployed: 5,
        skipped: 3,
        notSpentUsd: 12.5,
        notSpentHours: 1.25,
        predictions: [{ id: 'ml.c6i.2xlarge', from: 'ml.c6i.xlarge', predictedRps: 420, measuredRps: 390 }],
      },
    };
    const text = resultsText(searched);
    expect(text).toContain('search: deployed 5 of 8 candidates (guided); skipping 3 saved about $12.50 and 1h 15m of deploying and load');
    expect(text).toContain('guided: ml.c6i.2xlarge was predicted 420 rps from ml.c6i.xlarge, measured 390 rps (-7%)');
    const html = htmlReport(searched);
    expect(html).toContain('Search: deployed 5 of 8 candidates (guided)');
    expect(html).toMatch(
      /<table id="predictions">.*<td>ml\.c6i\.2xlarge<\/td><td>ml\.c6i\.xlarge<\/td><td class="num">420<\/td><td class="num">390<\/td>/s,
    );
    // Nothing skipped: no search line.
    expect(resultsText({ ...results, search: { ...searched.search, skipped: 0, predictions: [] } })).not.toContain('search:');
  });

  it('writes report.html, results.json and results.csv', () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const files = writeReportFiles(results, dir);
    expect(JSON.parse(readFileSync(files.json, 'utf8')).candidates).toHaveLength(4);
    expect(readFileSync(files.csv, 'utf8').startsWith('candidate,kind,status')).toBe(true);
    expect(readFileSync(files.html, 'utf8')).toMatch(/^<!doctype html>/);
  });
});

describe('HTML report in Chromium', () => {
  it('needs nothing from the network, logs no error, plots every measured candidate and shows the recommendation', async () => {
    const html = htmlReport(results);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    const file = join(mkdtempSync(join(tmpdir(), 'report-')), 'report.html');
    writeFileSync(file, html);
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });

    expect(errors).toEqual([]);
    expect(requests).toEqual([`file://${file}`]);
    expect(await page.textContent('#recommendation')).toMatch(/Recommended: cheap/);
    const pareto = await page.evaluate(() => {
      const chart = (globalThis as any).Chart.getChart('pareto');
      return chart.data.datasets.map((d: any) => [d.label, d.data.map((p: any) => p.id)]);
    });
    // One point per measured candidate (the dead one has nothing to place, and is named under the chart).
    expect(pareto).toEqual([
      ['meets the SLO', ['fast', 'cheap']],
      ['misses the SLO', ['slow']],
      ['frontier', expect.arrayContaining(['cheap'])],
    ]);
    expect(await page.textContent('#not-plotted')).toMatch(/gone \(failed: cannot reach/);
    // What the spec says is text, never markup.
    expect(await page.locator('b').count()).toBe(0);
    expect(await page.textContent('pre')).toContain('</script><b>bold</b>');
    expect(await page.locator('#candidates tbody tr').count()).toBe(4);
    await page.close();
  });

  it('draws output tokens per second against cost per million output tokens for streamed candidates, and the token bounds', async () => {
    const tokens = {
      outputTokens: 4000,
      outputTokensPerSecond: 400,
      countedBy: 'usage' as const,
      ttftP50Ms: 90,
      ttftP95Ms: 120,
      ttftP99Ms: 150,
      itlP50Ms: 8,
      itlP95Ms: 11,
      itlP99Ms: 14,
    };
    const streamed = {
      ...results,
      slo: { ...results.slo, timeToFirstToken: { percentile: 95, ms: 200 } },
      candidates: results.candidates.map((c) =>
        c.feasible
          ? {
              ...c,
              outputTokensPerSecond: 400,
              costPerMillionOutputTokensUsd: c.id === 'cheap' ? 0.5 : 1.5,
              phases: c.phases.map((p) => ({ ...p, tokens })),
            }
          : c,
      ),
    };
    const page = await openReport(streamed);
    const points = await page.evaluate(() => (globalThis as any).Chart.getChart('tokens-cost').data.datasets[0].data.map((p: any) => [p.id, p.y]));
    expect(points).toEqual(
      expect.arrayContaining([
        ['cheap', 0.5],
        ['fast', 1.5],
      ]),
    );
    expect(await page.textContent('.meta')).toMatch(/p95 time to first token ≤ 200 ms/);
    expect(await page.locator('#tokens tbody tr').count()).toBeGreaterThan(0);
    await page.close();
  });

  it('draws cost against quality with each interval and the bound, and lists every score', async () => {
    const accuracy: Record<string, [number, number, number, 'meets' | 'misses']> = {
      fast: [0.99, 0.982, 0.995, 'meets'],
      cheap: [0.9, 0.88, 0.917, 'misses'],
      slow: [0.97, 0.958, 0.979, 'meets'],
    };
    const scored = {
      ...results,
      quality: { metric: 'accuracy' as const, min: 0.95 },
      candidates: results.candidates.map((c) => {
        const a = accuracy[c.id];
        return a
          ? {
              ...c,
              quality: {
                metric: 'accuracy' as const,
                value: a[0],
                interval: [a[1], a[2]] as const,
                examples: 1000,
                call: a[3],
                text: `accuracy ${a[0]}`,
              },
            }
          : c;
      }),
    };
    const page = await openReport(scored);
    const plotted = await page.evaluate(() =>
      (globalThis as any).Chart.getChart('quality-cost').data.datasets.map((d: any) => d.data.map((p: any) => [p.id, p.x, p.low, p.high])),
    );
    // Meeting it, and not: the cheap one is plotted among the misses, with its interval.
    expect(plotted[1]).toEqual([['cheap', 0.9, 0.88, 0.917]]);
    expect(plotted[0].map((p: unknown[]) => p[0]).sort()).toEqual(['fast', 'slow']);
    expect(await page.locator('#quality tbody tr').count()).toBe(3);
    expect(await page.textContent('#quality')).toContain('0.880–0.917');
    await page.close();
  });
});

describe('an offline sweep in the report', () => {
  /** Two candidates at saturation: one ending the job on 2 instances (recommended), one unable to. */
  const offline = (): SweepResults => {
    const curve = (rates: number[]) =>
      rates.map((r, i) => ({ concurrency: 2 ** i, rowsPerSecond: r, interval: [r * 0.95, r * 1.05] as const, errorRate: 0 }));
    const { traffic: _traffic, ...rest } = results;
    return {
      ...rest,
      offline: { rows: 1_000_000, deadlineMs: 600_000, rowsPerRequest: 8, maxInstances: 4 },
      candidates: results.candidates.slice(0, 2).map((c, i) => ({
        ...c,
        recommended: i === 0,
        feasible: i === 0,
        ...(i === 0 ? { instances: 2 } : { instances: undefined }),
        job: {
          saturation: {
            rowsPerSecond: i === 0 ? 1000 : 200,
            interval: i === 0 ? ([950, 1050] as const) : ([190, 210] as const),
            knee: 4,
            concurrency: 8,
            curve: curve(i === 0 ? [300, 600, 1000, 1000] : [100, 200, 200]),
            stoppedBecause: 'throughput grew 0% from concurrency 4 to 8, under 10%',
          },
          ...(i === 0
            ? {
                estimate: {
                  fits: true as const,
                  instances: 2,
                  seconds: 500,
                  secondsRange: [476, 526] as const,
                  usd: 0.0139,
                  usdRange: [0.0132, 0.0146] as const,
                  usdPerMillionRows: 0.0139,
                },
              }
            : {}),
        },
      })),
    };
  };

  it('draws throughput against concurrency with intervals and the job cost against its time, in place of the real-time charts', async () => {
    const shown = offline();
    const page = await openReport(shown);
    const curves = await page.evaluate(() =>
      (globalThis as any).Chart.getChart('offline-throughput').data.datasets.map((d: any) => [d.label, d.data.map((p: any) => [p.x, p.y])]),
    );
    expect(curves).toEqual([
      [
        shown.candidates[0]!.id,
        [
          [1, 300],
          [2, 600],
          [4, 1000],
          [8, 1000],
        ],
      ],
      [
        shown.candidates[1]!.id,
        [
          [1, 100],
          [2, 200],
          [4, 200],
        ],
      ],
    ]);
    const jobs = await page.evaluate(() =>
      (globalThis as any).Chart.getChart('offline-jobs').data.datasets[0].data.map((p: any) => [p.id, p.x, p.y]),
    );
    expect(jobs).toEqual([[shown.candidates[0]!.id, 500 / 60, 0.0139]]);
    expect(await page.locator('#pareto').count()).toBe(0);
    expect(await page.textContent('.meta')).toContain(
      'SLO: errors ≤ 5.00%. Sized for: an offline job of 1,000,000 rows within 10m, on at most 4 instances',
    );
    expect(await page.locator('#offline tbody tr').count()).toBe(2);
    await page.close();
    // The text table has the job's columns.
    const text = resultsText(shown);
    expect(text).toMatch(/rows\/s \(95% interval\)\s+knee\s+instances\s+job time\s+job \$\s+\$\/M rows\s+verdict/);
    expect(text).toMatch(/1000 \(950–1050\)\s+4\s+2\s+8m 20s \(7m 56s–8m 46s\)\s+\$0\.013–\$0\.015/);
  });
});
