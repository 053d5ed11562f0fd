import { resolve } from 'node:path';
import { Command } from 'commander';
import { textTable } from '../../lib/report/text-table';
import { resultsCsv, type SweepResults } from '../../lib/report/sweep-results';
import { loadSweepResults, writeReportFiles } from '../../lib/report/write-report';
import type { ResultsStore } from '../../lib/store/results-store';
import { CliError } from './cli-error';
import { reportDir, STORE_DIR_OPTION, withLocalStore } from './local-store';

async function resultsOf(store: ResultsStore, sweepId: string): Promise<SweepResults> {
  const results = await loadSweepResults(store, sweepId).catch((error) => {
    throw new CliError((error as Error).message);
  });
  if (!results) throw new CliError(`no sweep ${sweepId} in the local results (modelsweep history <model> lists them)`);
  return results;
}

/** `modelsweep report <sweepId>`: the HTML report with results.json and results.csv. */
export function reportCommand(): Command {
  return new Command('report')
    .description('Write the HTML report (with results.json and results.csv) of a sweep')
    .argument('<sweepId>', 'the sweep, as `sweep` or `history` printed it')
    .option(...STORE_DIR_OPTION)
    .option('--out <dir>', 'where to write the files (default: <store-dir>/reports/<sweepId>)')
    .addHelpText('after', '\nExample:\n  $ modelsweep report demo-local-20261123t004809144z-1cdb --out ./report')
    .action(async (sweepId: string, flags: { storeDir: string; out?: string }) => {
      const results = await withLocalStore(flags.storeDir, (store) => resultsOf(store, sweepId), { create: false });
      const files = writeReportFiles(results, flags.out ? resolve(flags.out) : reportDir(flags.storeDir, sweepId));
      console.log(`report: ${files.html}\nresults: ${files.json}, ${files.csv}`);
    });
}

/** `modelsweep results <sweepId>`: the candidates' results as a table, JSON or CSV. */
export function resultsCommand(): Command {
  return new Command('results')
    .description("Print a sweep's results: every candidate, its verdict and its phases")
    .argument('<sweepId>', 'the sweep')
    .option(...STORE_DIR_OPTION)
    .option('--json', 'as results.json has them')
    .option('--csv', 'as results.csv has them (one row per candidate and phase)')
    .addHelpText('after', '\nExamples:\n  $ modelsweep results <sweepId>\n  $ modelsweep results <sweepId> --csv > results.csv')
    .action(async (sweepId: string, flags: { storeDir: string; json?: boolean; csv?: boolean }) => {
      if (flags.json && flags.csv) throw new CliError('--json and --csv: choose one');
      const results = await withLocalStore(flags.storeDir, (store) => resultsOf(store, sweepId), { create: false });
      if (flags.json) console.log(JSON.stringify(results, null, 2));
      else if (flags.csv) process.stdout.write(resultsCsv(results));
      else {
        const rows = results.candidates.map((c) => [`${c.recommended ? '* ' : '  '}${c.id}`, c.kind, c.status, c.sloLatencyMs?.toFixed(1) ?? '-', c.monthlyCostUsd?.toFixed(2) ?? '-', c.reason]);
        console.log([`sweep ${results.sweepId} (${results.name}, model ${results.model}): ${results.status}`, '', ...textTable([['candidate', 'kind', 'status', `p${results.slo.percentile} ms`, '$/month', 'verdict'], ...rows])].join('\n'));
      }
    });
}

/** `modelsweep history <model>`: the model's sweeps, newest first, with each one's recommendation. */
export function historyCommand(): Command {
  return new Command('history')
    .description("List a model's sweeps, newest first, with what each recommended")
    .argument('<model>', "the spec's model.name")
    .option(...STORE_DIR_OPTION)
    .option('--json', 'print them as JSON')
    .action(async (model: string, flags: { storeDir: string; json?: boolean }) => {
      const sweeps = await withLocalStore(
        flags.storeDir,
        async (store) => Promise.all((await store.history(model)).map(async (s) => ({ ...s, recommended: (await store.getSelection(s.sweepId))?.selection.recommended }))),
        { create: false },
      );
      if (sweeps.length === 0) throw new CliError(`no sweeps of model ${model} in the local results`, 1);
      if (flags.json) {
        console.log(JSON.stringify(sweeps.map(({ spec: _spec, ...s }) => s), null, 2));
        return;
      }
      const rows = sweeps.map((s) => [s.sweepId, s.status, s.createdAt, s.recommended ?? '-']);
      console.log(textTable([['sweep', 'status', 'started', 'recommended'], ...rows]).join('\n'));
    });
}
