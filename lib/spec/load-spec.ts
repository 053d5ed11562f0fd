import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { type Document, isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';

import { findSageMakerInstance } from '../catalog/sagemaker-instances';
import { ModelsweepError } from '../errors';
import { formatPath } from '../util/field-path';
import { type Candidate, expandGroup } from './expand';
import { type SweepSpec, sweepSpecSchema } from './schema';

/** Most candidates one sweep may expand to: a grid typo should not deploy a thousand endpoints. */
export const MAX_CANDIDATES = 200;

export interface SpecIssue {
  /** Where in the spec, e.g. `candidates[2].memorySizesMb[0]`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
  /** 1-based line in the spec file, when known. */
  readonly line?: number;
}

/** A spec that could not be used, with every problem found. */
export class SpecError extends ModelsweepError {
  constructor(
    readonly file: string,
    readonly issues: readonly SpecIssue[],
    options?: { cause?: unknown },
  ) {
    super(
      'invalid-spec',
      `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`,
      options,
    );
    this.name = 'SpecError';
  }
}

export function formatIssue(issue: SpecIssue): string {
  const where = issue.path || '(spec)';
  return `${where}${issue.line ? ` (line ${issue.line})` : ''}: ${issue.message}`;
}

export interface LoadedSpec {
  readonly spec: SweepSpec;
  readonly candidates: Candidate[];
  /** Problems that do not stop the sweep, e.g. an instance type the catalog does not know. */
  readonly warnings: SpecIssue[];
  /** The file's directory: relative paths in the spec are resolved from it. */
  readonly baseDir: string;
  /** What was parsed, so a workflow can validate the very same spec again. */
  readonly source: { readonly text: string; readonly file: string };
}

/** Reads, parses (YAML or JSON) and validates a sweep spec file; throws {@link SpecError}. */
export function loadSpecFile(file: string): LoadedSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SpecError(
      file,
      [{ path: '', message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` }],
      { cause: error },
    );
  }
  return parseSpec(text, file, dirname(resolve(file)));
}

/**
 * Parses and validates spec text; `baseDir` resolves the relative paths in it. With
 * `checkFiles: false` the payload and model files are not looked for (a workflow step validating
 * a spec whose payloads were staged elsewhere).
 */
export function parseSpec(text: string, file: string, baseDir: string, { checkFiles = true } = {}): LoadedSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new SpecError(
      file,
      doc.errors.map((e) => ({ path: '', message: `not valid YAML or JSON: ${e.message.split('\n')[0]}`, line: e.linePos?.[0].line })),
    );
  }
  const lineOf = (path: ReadonlyArray<PropertyKey>) => nodeLine(doc, lines, path);
  const parsed = sweepSpecSchema.safeParse(doc.toJS(), { reportInput: true });
  if (!parsed.success) {
    throw new SpecError(
      file,
      parsed.error.issues.flatMap((issue) => specIssues(issue, lineOf)),
    );
  }
  const spec = parsed.data;
  const issues: SpecIssue[] = [];
  const warnings: SpecIssue[] = [];
  const at = (path: Array<string | number>, message: string) => ({ path: formatPath(path), message, line: lineOf(path) });

  spec.payloads.forEach((payload, i) => {
    if ('file' in payload && checkFiles) {
      const full = resolve(baseDir, payload.file);
      if (!existsSync(full) || statSync(full).isDirectory()) issues.push(at(['payloads', i, 'file'], `no such file: ${full}`));
    }
  });

  const candidates: Candidate[] = [];
  const seen = new Map<string, number>();
  spec.candidates.forEach((group, g) => {
    if (group.kind === 'local' && checkFiles) {
      const modelPath = group.modelPath ?? spec.model.path;
      if (!modelPath) issues.push(at(['candidates', g], 'a local candidate needs a model: set modelPath here or model.path'));
      else if (!existsSync(resolve(baseDir, modelPath)))
        issues.push(at(['candidates', g, group.modelPath ? 'modelPath' : 'kind'], `no such model file: ${resolve(baseDir, modelPath)}`));
    }
    if (group.kind === 'sagemaker-realtime') {
      group.instanceTypes.forEach((type, t) => {
        if (!findSageMakerInstance(type))
          warnings.push(at(['candidates', g, 'instanceTypes', t], `${type} is not in modelsweep's instance catalog; it is used as given`));
      });
    }
    for (const candidate of expandGroup(group, g)) {
      if (candidate.kind === 'sagemaker-serverless' && candidate.provisionedConcurrency > candidate.maxConcurrency) {
        issues.push(
          at(
            ['candidates', g, 'provisionedConcurrency'],
            `${candidate.provisionedConcurrency} is above maxConcurrency ${candidate.maxConcurrency} in candidate ${candidate.id}`,
          ),
        );
        continue;
      }
      const first = seen.get(candidate.id);
      if (first !== undefined) {
        issues.push(
          at(['candidates', g], `candidate id "${candidate.id}" is also produced by candidates[${first}]; give one of them a distinct name`),
        );
        continue;
      }
      seen.set(candidate.id, g);
      candidates.push(candidate);
    }
  });
  if (candidates.length > MAX_CANDIDATES) {
    issues.push(
      at(
        ['candidates'],
        `expands to ${candidates.length} candidates, more than the ${MAX_CANDIDATES} one sweep may run; split the sweep or shorten the lists`,
      ),
    );
  }
  spec.load.phases.forEach((phase, p) => {
    if (phase.mode === 'stairs' && Math.floor((phase.to - phase.from) / phase.step) + 1 > 100) {
      issues.push(at(['load', 'phases', p, 'step'], `makes ${Math.floor((phase.to - phase.from) / phase.step) + 1} steps; at most 100`));
    }
  });
  if (issues.length > 0) throw new SpecError(file, issues);
  return { spec, candidates, warnings, baseDir, source: { text, file } };
}

/**
 * A zod issue as spec issues: an unknown key is reported at the key itself (so its line is
 * right), and a wrong value says what it was.
 */
function specIssues(issue: z.core.$ZodIssue, lineOf: (path: ReadonlyArray<PropertyKey>) => number | undefined): SpecIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      return { path: formatPath(path), message: issue.message.replace(/^unknown fields? .*?; /, 'unknown field; '), line: lineOf(path) };
    });
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const branch = matchedBranch(issue.errors);
    if (branch) return branch.flatMap((inner) => specIssues({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, lineOf));
  }
  const input = (issue as { input?: unknown }).input;
  const shown = ['string', 'number', 'boolean'].includes(typeof input) && !/\bgot\b/.test(issue.message) ? `, got ${JSON.stringify(input)}` : '';
  return [{ path: formatPath(issue.path), message: `${issue.message}${shown}`, line: lineOf(issue.path) }];
}

/**
 * The union branch the input was meant for, so its precise issues can be reported instead of
 * zod's bare "Invalid input": the one branch whose problems are all inside the value (its shape
 * matched), else the one branch that did not reject the value's type outright.
 */
function matchedBranch(branches: z.core.$ZodIssue[][]): z.core.$ZodIssue[] | undefined {
  const only = (list: z.core.$ZodIssue[][]) => (list.length === 1 ? list[0] : undefined);
  return (
    only(branches.filter((b) => b.length > 0 && b.every((i) => i.path.length > 0))) ??
    only(branches.filter((b) => b.length > 0 && !b.some((i) => i.code === 'invalid_type' && i.path.length === 0)))
  );
}

/** The line of the YAML node at `path`, or of its nearest existing parent. */
function nodeLine(doc: Document, lines: LineCounter, path: ReadonlyArray<PropertyKey>): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as Array<string | number>, true) as { range?: [number, number, number] } | undefined;
    const target = depth === 0 ? doc.contents : node;
    if (target && (target as { range?: unknown }).range && (depth === path.length || isMap(target) || isSeq(target))) {
      return lines.linePos((target as { range: [number, number, number] }).range[0]).line;
    }
  }
  return undefined;
}
