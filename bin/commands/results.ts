import { resolve } from 'node:path';

import { Command } from 'commander';

import { formatQuality } from '../../lib/format/format';
import { textTable } from '../../lib/format/text-table';
import { resultsText } from '../../lib/report/results-text';
import { costText, driftText, sweepHistory } from '../../lib/report/sweep-history';
import { resultsCsv, type SweepResults } from '../../lib/report/sweep-results';
import { loadSweepResults, writeReportFiles } from '../../lib/report/write-report';
import type { ResultsStore } from '../../lib/store/results-store';
import { CliError } from './cli-error';
import { type CloudDependencies, defaultCloud, REGION_OPTION, STACK_OPTION, STORE_DIR_OPTION, type StoreFlags, withStore } from './cloud';
import { reportDir } from './local-store';

/** A finished sweep's results, or an error saying why there are none. */
export async function resultsOf(store: ResultsStore, sweepId: string): Promise<SweepResults> {
  const results = await loadSweepResults(store, sweepId).catch((error) => {
    throw new CliError((error as Error).message);
  });
  if (!results) throw new CliError(`no sweep ${sweepId} in the results (modelsweep history <model> lists them)`);
  return results;
}

/** A command on a sweep's results, local or (with --stack) in a deployed sweep stack. */
const onResults = (name: string, description: string) =>
  new Command(name)
    .description(description)
    .option(...STORE_DIR_OPTION)
    .option(...STACK_OPTION)
    .option(...REGION_OPTION);

/** `modelsweep report <sweepId>`: the HTML report with results.json and results.csv. */
export function reportCommand(cloud: CloudDependencies = defaultCloud): Command {
  return onResults('report', 'Write the HTML report (with results.json and results.csv) of a sweep')
    .argument('<sweepId>', 'the sweep, as `sweep` or `history` printed it')
    .option('--out <dir>', 'where to write the files (default: <store-dir>/reports/<sweepId>)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ modelsweep report demo-20261123t004809144z-1cdb --out ./report\n  $ modelsweep report <sweepId> --stack ModelsweepSweep',
    )
    .action(async (sweepId: string, flags: StoreFlags & { out?: string }) => {
      const results = await withStore(flags, cloud, (store) => resultsOf(store, sweepId));
      const files = writeReportFiles(results, flags.out ? resolve(flags.out) : reportDir(flags.storeDir, sweepId));
      console.log(`report: ${files.html}\nresults: ${files.json}, ${files.csv}`);
    });
}

/** `modelsweep results <sweepId>`: the candidates' results as a table, JSON or CSV. */
export function resultsCommand(cloud: CloudDependencies = defaultCloud): Command {
  return onResults('results', "Print a sweep's results: every candidate, its verdict and its phases")
    .argument('<sweepId>', 'the sweep')
    .option('--json', 'as results.json has them')
    .option('--csv', 'as results.csv has them (one row per candidate and phase)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ modelsweep results <sweepId>\n  $ modelsweep results <sweepId> --csv > results.csv\n  $ modelsweep results <sweepId> --stack ModelsweepSweep --json',
    )
    .action(async (sweepId: string, flags: StoreFlags & { json?: boolean; csv?: boolean }) => {
      if (flags.json && flags.csv) throw new CliError('--json and --csv: choose one');
      const results = await withStore(flags, cloud, (store) => resultsOf(store, sweepId));
      if (flags.json) console.log(JSON.stringify(results, null, 2));
      else if (flags.csv) process.stdout.write(resultsCsv(results));
      else console.log(resultsText(results));
    });
}

/** `modelsweep history <model>`: the model's sweeps, newest first, with each one's recommendation. */
export function historyCommand(cloud: CloudDependencies = defaultCloud): Command {
  return onResults('history', "List a model's sweeps, newest first, with what each recommended")
    .argument('<model>', "the spec's model.name")
    .option('--json', 'print them as JSON')
    .addHelpText('after', '\nExamples:\n  $ modelsweep history demo\n  $ modelsweep history demo --stack ModelsweepSweep --json')
    .action(async (model: string, flags: StoreFlags & { json?: boolean }) => {
      const sweeps = await withStore(flags, cloud, (store) => sweepHistory(store, model));
      if (sweeps.length === 0) throw new CliError(`no sweeps of model ${model} in the results`, 1);
      if (flags.json) {
        console.log(JSON.stringify(sweeps, null, 2));
        return;
      }
      const withQuality = sweeps.some((s) => s.quality || s.qualityDrift.length > 0);
      const rows = sweeps.map((s) => [
        s.sweepId,
        s.status,
        s.createdAt,
        s.grid !== undefined ? `${s.deployed} of ${s.grid}` : '-',
        s.recommended ?? '-',
        s.cost ? costText(s.cost) : '-',
        ...(withQuality
          ? [
              s.quality?.value !== undefined ? `${s.quality.metric} ${formatQuality(s.quality.value)}` : '-',
              s.qualityDrift.map(driftText).join('; ') || '-',
            ]
          : []),
      ]);
      const header = [
        'sweep',
        'status',
        'started',
        'deployed',
        'recommended',
        'cost',
        ...(withQuality ? ['quality', 'quality moved since the last sweep'] : []),
      ];
      console.log(textTable([header, ...rows]).join('\n'));
    });
}
