import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { ModelsweepError } from '../errors';
import type { ResultsStore } from '../store/results-store';
import { writeFileWhole } from '../util/write-whole';
import { htmlReport } from './html-report';
import { resultsCsv, type SweepResults, sweepResults } from './sweep-results';

/** The results of a finished sweep, from the store; undefined when there is no such sweep. */
export async function loadSweepResults(store: ResultsStore, sweepId: string): Promise<SweepResults | undefined> {
  const sweep = await store.getSweep(sweepId);
  if (!sweep) return undefined;
  const [records, selection] = await Promise.all([store.listCandidateResults(sweepId), store.getSelection(sweepId)]);
  if (!selection && sweep.status === 'abandoned')
    throw new ModelsweepError(
      'not-found',
      `sweep ${sweepId} was abandoned (${sweep.reason}); \`modelsweep status ${sweepId}\` lists what it measured`,
    );
  if (!selection) throw new ModelsweepError('not-found', `sweep ${sweepId} has no selection yet (status: ${sweep.status})`);
  return sweepResults({ sweep, records, selection: selection.selection });
}

export interface ReportFiles {
  readonly html: string;
  readonly json: string;
  readonly csv: string;
}

/** The report's files by name, with their content types: report.html, results.json, results.csv. */
export function reportFiles(
  results: SweepResults,
): Array<{ readonly name: keyof ReportFiles; readonly file: string; readonly body: string; readonly contentType: string }> {
  return [
    { name: 'html', file: 'report.html', body: htmlReport(results), contentType: 'text/html; charset=utf-8' },
    { name: 'json', file: 'results.json', body: `${JSON.stringify(results, null, 2)}\n`, contentType: 'application/json' },
    { name: 'csv', file: 'results.csv', body: resultsCsv(results), contentType: 'text/csv; charset=utf-8' },
  ];
}

/** Writes report.html, results.json and results.csv into `dir` (created if needed). */
export function writeReportFiles(results: SweepResults, dir: string): ReportFiles {
  const files = reportFiles(results);
  const paths = {} as Record<keyof ReportFiles, string>;
  try {
    mkdirSync(dir, { recursive: true });
    for (const f of files) {
      paths[f.name] = join(dir, f.file);
      writeFileWhole(paths[f.name], f.body);
    }
  } catch (error) {
    throw new ModelsweepError(
      'invalid-input',
      `cannot write the report into ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      {
        cause: error,
      },
    );
  }
  return paths;
}
