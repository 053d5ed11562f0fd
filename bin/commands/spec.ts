import { Command } from 'commander';
import { z } from 'zod';

import { formatIssue, type LoadedSpec, loadSpecFile, SpecError } from '../../lib/spec/load-spec';
import { sweepSpecSchema } from '../../lib/spec/schema';
import { CliError, EXIT } from './cli-error';

/** Reads and validates a spec file, printing its warnings; a bad spec is bad input (exit 2). */
export function loadSpecOrFail(file: string): LoadedSpec {
  try {
    const loaded = loadSpecFile(file);
    for (const w of loaded.warnings) console.error(`warning: ${formatIssue(w)}`);
    return loaded;
  } catch (error) {
    if (error instanceof SpecError) throw new CliError(error.message, EXIT.badInput, { cause: error });
    throw error;
  }
}

export function validateCommand(): Command {
  return new Command('validate')
    .description('Check a sweep spec (YAML or JSON) and list the candidates it expands to')
    .argument('<spec>', 'the spec file')
    .option('--json', 'print the validated spec and its candidates as JSON')
    .addHelpText('after', '\nExamples:\n  $ modelsweep validate examples/sweeps/demo-local.yaml\n  $ modelsweep validate sweep.json --json')
    .action((file: string, flags: { json?: boolean }) => {
      const { spec, candidates } = loadSpecOrFail(file);
      if (flags.json) {
        console.log(JSON.stringify({ spec, candidates }, null, 2));
        return;
      }
      const counts = new Map<string, number>();
      for (const c of candidates) counts.set(c.kind, (counts.get(c.kind) ?? 0) + 1);
      const byKind = [...counts].map(([kind, n]) => `${kind} ×${n}`);
      console.log(`${file}: valid; ${candidates.length} candidate${candidates.length === 1 ? '' : 's'} (${byKind.join(', ')})`);
      for (const c of candidates) console.log(`  ${c.id}`);
    });
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
