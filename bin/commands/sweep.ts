import { resolve } from 'node:path';

import { Command } from 'commander';
import { z } from 'zod';

import type { PriceBook } from '../../lib/cost/price-book';
import { runSweep } from '../../lib/local/run-sweep';
import { resultsText } from '../../lib/report/results-text';
import { loadSweepResults } from '../../lib/report/write-report';
import { SetupError } from '../../lib/targets/adapter';
import { folderBlobStore } from '../../lib/workflow/blob-store';
import { defaultAdapters } from '../../lib/workflow/default-adapters';
import { CliError, EXIT } from './cli-error';
import { concurrencyFlag, interruptible, parseFlags, pollIntervalFlag, statusLine } from './flags';
import { STORE_DIR_OPTION, withLocalStore } from './local-store';
import { loadSpecOrFail, PRICE_CACHE_OPTION, PRICES_OPTION, pricesOrFail } from './spec';

export function sweepCommand(): Command {
  return new Command('sweep')
    .description('Run a sweep: deploy each candidate, load-test it, record the results, tear it down, recommend one')
    .argument('<spec>', 'the sweep spec (YAML or JSON)')
    .option(
      '--local',
      "run the sweep's state machine on this machine, storing results in an embedded DynamoDB (cloud sweeps: `modelsweep start --stack`)",
    )
    .option(...STORE_DIR_OPTION)
    .option('--json', "print the candidates' results and the selection as JSON")
    .option(...PRICES_OPTION)
    .option(...PRICE_CACHE_OPTION)
    .option('--poll-interval <duration>', 'how often to check that a SageMaker endpoint or Azure ML deployment is ready', '15s')
    .option('--concurrency <n>', 'candidates measured at once (local candidates always take turns: they share this machine)', '1')
    .addHelpText(
      'after',
      '\nExamples:\n  $ modelsweep sweep examples/sweeps/demo.yaml --local\n  $ modelsweep sweep examples/sweeps/aws-all-kinds.json --local --concurrency 4 --poll-interval 30s',
    )
    .action(
      async (
        file: string,
        flags: {
          local?: boolean;
          storeDir: string;
          json?: boolean;
          prices?: string;
          priceCache?: string;
          pollInterval: string;
          concurrency: string;
        },
      ) => {
        const { provisioningPollMs, maxConcurrency } = parseFlags(
          z.object({
            provisioningPollMs: pollIntervalFlag('15s or 1m'),
            maxConcurrency: concurrencyFlag(),
          }),
          { provisioningPollMs: flags.pollInterval, maxConcurrency: flags.concurrency },
        );
        if (!flags.local)
          throw new CliError(
            'add --local to run the sweep on this machine, or use `modelsweep start <spec> --stack <name>` to run it on a deployed BenchmarkSweep',
          );
        // The prices are read here only for a spec with a catalog selection (it picks from them);
        // else after the store, which is the first thing to fix when it cannot be used.
        let book: PriceBook | undefined;
        const pricesNow = () => (book ??= pricesOrFail(flags));
        const loaded = loadSpecOrFail(file, pricesNow);
        await withLocalStore(flags.storeDir, (store) => {
          const prices = pricesNow();
          return interruptible(
            async (signal) => {
              const outcome = await runSweep(loaded, {
                store,
                prices,
                adapters: defaultAdapters({ provisioningPollMs }),
                blobs: folderBlobStore(resolve(flags.storeDir)),
                maxConcurrency,
                readyPollMs: provisioningPollMs,
                signal,
                events: {
                  onCandidateStart: (c, i, n) => console.error(`[${i + 1}/${n}] ${c.id}: deploying`),
                  onProgress: (c, p) =>
                    statusLine.show(
                      `[${c.id}] ${p.phase} ${(p.elapsedMs / 1000).toFixed(1)}s/${(p.plannedMs / 1000).toFixed(0)}s sent ${p.sent} p99 ${p.p99Ms.toFixed(1)} ms errors ${p.errors}`,
                    ),
                  onWait: (c, message) => {
                    statusLine.clear();
                    console.error(`      ${c.id}: ${message}`);
                  },
                  onCandidateEnd: (r) => {
                    statusLine.clear();
                    console.error(
                      r.status === 'skipped'
                        ? `      ${r.candidate.id}: skipped, not deployed: ${r.reason}`
                        : `      ${r.candidate.id}: ${r.status}${r.reason ? ` (${r.reason})` : ''}, ${r.phases.length} phase${r.phases.length === 1 ? '' : 's'}`,
                    );
                    if (r.teardownError) console.error(`      warning: ${r.teardownError}`);
                  },
                },
              });
              console.log(flags.json ? JSON.stringify(outcome, null, 2) : resultsText((await loadSweepResults(store, outcome.sweepId))!));
              const { previous, changed } = outcome.summary;
              if (previous && !flags.json)
                console.log(
                  changed
                    ? `changed: the model's previous sweep (${previous.sweepId}) recommended ${previous.recommended ?? 'nothing'}`
                    : `unchanged since the model's previous sweep (${previous.sweepId})`,
                );
              (flags.json ? console.error : console.log)(`report: ${outcome.summary.report.html} (with results.json and results.csv)`);
              process.exitCode = signal.aborted ? EXIT.interrupted : outcome.status === 'succeeded' ? EXIT.ok : EXIT.failed;
            },
            (signal) =>
              console.error(
                `\n${signal === 'SIGINT' ? 'interrupted' : `${signal} received`}: stopping the current phase, recording and tearing down (again to exit at once)`,
              ),
          ).catch((error) => {
            // Raised before anything was created: no credentials, no region, no price.
            if (error instanceof SetupError) throw new CliError(`cannot start the sweep, nothing was created: ${error.message}`);
            throw error;
          });
        });
      },
    );
}
