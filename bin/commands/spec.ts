import { Command } from 'commander';
import { z } from 'zod';

import { costFloor, type TrafficForecast } from '../../lib/cost/candidate-cost';
import { PriceBook, specPrices } from '../../lib/cost/price-book';
import { localPriceBook } from '../../lib/cost/price-cache';
import { formatDurationMs, formatUsd } from '../../lib/format/format';
import { textTable } from '../../lib/format/text-table';
import { qualitySloText } from '../../lib/quality/quality-verdict';
import type { Candidate } from '../../lib/spec/expand';
import { formatIssue, type LoadedSpec, loadSpecFile, SpecError } from '../../lib/spec/load-spec';
import { sweepSpecSchema } from '../../lib/spec/schema';
import { type AdapterSet, defaultAdapters } from '../../lib/workflow/default-adapters';
import { CliError, EXIT } from './cli-error';

/**
 * Reads and validates a spec file, printing its warnings; a bad spec is bad input (exit 2).
 * `prices` are what catalog selections pick from, read only if the spec has one.
 */
export function loadSpecOrFail(file: string, prices: () => PriceBook = () => PriceBook.snapshot()): LoadedSpec {
  try {
    const loaded = loadSpecFile(file, { catalogPrices: (spec) => specPrices(spec, prices()) });
    for (const w of loaded.warnings) console.error(`warning: ${formatIssue(w)}`);
    return loaded;
  } catch (error) {
    if (error instanceof SpecError) throw new CliError(error.message, EXIT.badInput, { cause: error });
    throw error;
  }
}

/** The prices at hand for a command's `--prices` and `--price-cache`; a bad file is bad input (exit 2). */
export function pricesOrFail(flags: { prices?: string; priceCache?: string }): PriceBook {
  try {
    return localPriceBook({ pricesFile: flags.prices, cacheDir: flags.priceCache });
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.badInput, { cause: error });
  }
}

/** `--prices` and `--price-cache`, as every command that prices takes them. */
export const PRICES_OPTION = [
  '--prices <file>',
  "a JSON file overriding any part of the price catalog (wins over the spec's pricing.prices, fetched prices and the snapshot)",
] as const;
export const PRICE_CACHE_OPTION = [
  '--price-cache <dir>',
  'where `modelsweep prices update` keeps fetched prices (default: MODELSWEEP_PRICE_CACHE or ~/.cache/modelsweep/prices)',
] as const;

export function validateCommand(): Command {
  return new Command('validate')
    .description('Check a sweep spec (YAML or JSON) and list the candidates it expands to, each with its price')
    .argument('<spec>', 'the spec file')
    .option('--json', 'print the validated spec and its candidates as JSON')
    .option(...PRICES_OPTION)
    .option(...PRICE_CACHE_OPTION)
    .addHelpText(
      'after',
      '\nExamples:\n  $ modelsweep validate examples/sweeps/demo-local.yaml\n  $ modelsweep validate examples/sweeps/sagemaker-catalog.yaml --price-cache ~/.cache/modelsweep/prices\n  $ modelsweep validate sweep.json --json',
    )
    .action((file: string, flags: { json?: boolean; prices?: string; priceCache?: string }) => {
      const book = pricesOrFail(flags);
      const loaded = loadSpecOrFail(file, () => book);
      const { spec, candidates, selections } = loaded;
      // One adapter set and one book for the whole grid, not one per candidate.
      const adapters = defaultAdapters();
      const specBook = specPrices(spec, book);
      const priced = candidates.map((candidate) => ({ candidate, price: gridPrice(candidate, spec.traffic, specBook, adapters) }));
      if (flags.json) {
        console.log(JSON.stringify({ spec, candidates, selections, grid: priced.map((p) => ({ id: p.candidate.id, ...p.price })) }, null, 2));
        return;
      }
      const counts = new Map<string, number>();
      for (const c of candidates) counts.set(c.kind, (counts.get(c.kind) ?? 0) + 1);
      const byKind = [...counts].map(([kind, n]) => `${kind} ×${n}`);
      console.log(`${file}: valid; a grid of ${candidates.length} candidate${candidates.length === 1 ? '' : 's'} (${byKind.join(', ')})`);
      for (const s of selections) {
        const unknown = s.unknown.length > 0 ? `; ${s.unknown.length} more priced there have no hardware facts in the catalog and were left out` : '';
        console.log(`candidates[${s.group}].${s.field}: ${s.types.length} selected from the catalog in ${s.region}${unknown}`);
      }
      if (spec.offline) {
        const { rows, deadline, maxInstances, rowsPerRequest, saturation } = spec.offline;
        const jobs = candidates.filter((c) => c.kind === 'sagemaker-batch-transform');
        const searched = jobs.length < candidates.length;
        const how = [
          ...(searched
            ? [
                `${jobs.length > 0 ? 'the others' : 'each'} measured at saturation, concurrency ${saturation.from} to ${saturation.to} doubling, ${formatDurationMs(saturation.stepDuration)} a step`,
              ]
            : []),
          ...(jobs.length > 0
            ? [
                `${searched ? 'each transform candidate' : 'each'} measured by its own transform job on one instance, over a sample of ${[
                  ...new Set(jobs.map((c) => (c.kind === 'sagemaker-batch-transform' ? c.sampleRows.toLocaleString('en-US') : ''))),
                ].join(' or ')} rows`,
              ]
            : []),
        ];
        console.log(
          `offline: ${rows.toLocaleString('en-US')} rows (${rowsPerRequest} a request) within ${formatDurationMs(deadline)}, on at most ${maxInstances} instances of a candidate; ${how.join('; ')}`,
        );
      }
      if (spec.quality) {
        const { dataset } = spec.quality;
        console.log(
          `quality: ${qualitySloText({ ...spec.quality, ...spec.quality.slo })} (its whole 95% interval), on ${loaded.qualityExamples.length.toLocaleString('en-US')} examples of ${dataset}, sent through each candidate`,
        );
      }
      const rows = priced.map(({ candidate, price }) => [candidate.id, candidate.kind, price.text]);
      for (const line of textTable([['candidate', 'kind', 'price'], ...rows], { align: ['left', 'left', 'left'] })) console.log(`  ${line}`);
    });
}

/** A candidate's price as `validate` shows it: by the hour where it is billed so, and the least it could cost a month at the forecast. */
function gridPrice(
  candidate: Candidate,
  traffic: TrafficForecast | undefined,
  prices: PriceBook,
  adapters: AdapterSet,
): { usdPerHour?: number; floorUsd?: number; text: string } {
  const adapter = adapters[candidate.kind]!;
  try {
    const usdPerHour = adapter.costPerInstanceHour(candidate, prices);
    const hourly = usdPerHour !== undefined ? `${formatUsd(usdPerHour)}/hour` : 'per request';
    // An offline job is priced by its time, once its throughput is measured.
    if (!traffic) return { ...(usdPerHour !== undefined ? { usdPerHour } : {}), text: hourly };
    const floor = costFloor(adapter, candidate, traffic, prices);
    return {
      ...(usdPerHour !== undefined ? { usdPerHour } : {}),
      floorUsd: floor.usd,
      text: `${hourly}; at least ${formatUsd(floor.usd)}/month ${floor.basis}`,
    };
  } catch (error) {
    return { text: `not priced (${(error as Error).message.split(';')[0]})` };
  }
}

export function schemaCommand(): Command {
  return new Command('schema')
    .description('Print the JSON Schema of sweep specs, for editor autocompletion')
    .addHelpText(
      'after',
      '\nExamples:\n  $ modelsweep schema > sweep.schema.json\n  # then, in a YAML spec: # yaml-language-server: $schema=./sweep.schema.json',
    )
    .action(() => {
      console.log(JSON.stringify(sweepSpecJsonSchema(), null, 2));
    });
}

/** The JSON Schema of what a spec file may contain (the input side: durations as strings). */
export function sweepSpecJsonSchema(): Record<string, unknown> {
  return { title: 'modelsweep sweep spec', ...z.toJSONSchema(sweepSpecSchema, { io: 'input', unrepresentable: 'any' }) };
}
