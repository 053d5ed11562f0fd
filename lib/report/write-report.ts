import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultsStore } from '../store/results-store';
import { htmlReport } from './html-report';
import { resultsCsv, sweepResults, type SweepResults } from './sweep-results';

/** The results of a finished sweep, from the store; undefined when there is no such sweep. */
export async function loadSweepResults(store: ResultsStore, sweepId: string): Promise<SweepResults | undefined> {
  const sweep = await store.getSweep(sweepId);
  if (!sweep) return undefined;
  const [records, selection] = await Promise.all([store.listCandidateResults(sweepId), store.getSelection(sweepId)]);
  if (!selection) throw new Error(`sweep ${sweepId} has no selection yet (status: ${sweep.status})`);
  return sweepResults({ sweep, records, selection: selection.selection });
}

export interface ReportFiles {
  readonly html: string;
  readonly json: string;
  readonly csv: string;
}

/** Writes report.html, results.json and results.csv into `dir` (created if needed). */
export function writeReportFiles(results: SweepResults, dir: string): ReportFiles {
  mkdirSync(dir, { recursive: true });
  const files = { html: join(dir, 'report.html'), json: join(dir, 'results.json'), csv: join(dir, 'results.csv') };
  writeFileSync(files.html, htmlReport(results));
  writeFileSync(files.json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files.csv, resultsCsv(results));
  return files;
}
