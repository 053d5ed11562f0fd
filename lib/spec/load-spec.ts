import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { type Document, isAlias, isMap, isPair, isSeq, LineCounter, parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';

import { findSageMakerInstance } from '../catalog/sagemaker-instances';
import { ModelsweepError } from '../errors';
import { formatDurationMs } from '../format/format';
import { batchPayloads } from '../load/batch-payloads';
import type { Payload } from '../load/invoker';
import { OPENAI_APIS, openAiBodyProblem } from '../load/streaming-apis';
import { formatBytes, readBoundedFile } from '../util/bounded-file';
import { formatPath } from '../util/field-path';
import { type CatalogPrices, type GroupSelection, resolveCatalogSelections } from './catalog-selection';
import { type Candidate, expandGroup, plannedLoadMs, stairCount } from './expand';
import { isJsonContentType, jsonProblem } from './http-fields';
import { LIMITS } from './limits';
import { promptPayloads } from './prompt-sets';
import { parseQualityDataset, type QualityExample } from './quality-dataset';
import { OFFLINE_ONLY_KINDS, PER_REQUEST_KINDS, type SweepSpec, sweepSpecSchema } from './schema';

/** Most candidates one sweep may expand to: a grid typo should not deploy a thousand endpoints. */
export const MAX_CANDIDATES = 200;

export interface SpecIssue {
  /** Where in the spec, e.g. `candidates[2].memorySizesMb[0]`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
  /** 1-based line in the spec file, when known. */
  readonly line?: number;
  /** 1-based column, when known (YAML syntax errors). */
  readonly column?: number;
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
  const at = issue.line ? ` (line ${issue.line}${issue.column ? `, column ${issue.column}` : ''})` : '';
  return `${where}${at}: ${issue.message}`;
}

/** The prices a spec's catalog selections pick from, given the spec (its own `pricing.prices` count). */
export type SpecCatalogPrices = (spec: SweepSpec) => CatalogPrices;

export interface LoadedSpec {
  readonly spec: SweepSpec;
  readonly candidates: Candidate[];
  /** What each catalog selection of the spec picked (its candidates are among `candidates`). */
  readonly selections: readonly GroupSelection[];
  /** Problems that do not stop the sweep, e.g. an instance type the catalog does not know. */
  readonly warnings: SpecIssue[];
  /** The payloads' bodies, each file read once; empty when parsed with `checkFiles: false`. */
  readonly payloads: readonly Payload[];
  /** The quality dataset's examples (`quality.dataset`, cut to `quality.examples`); empty without one or with `checkFiles: false`. */
  readonly qualityExamples: readonly QualityExample[];
  /** The file's directory: relative paths in the spec are resolved from it. */
  readonly baseDir: string;
  /** What was parsed, so a workflow can validate the very same spec again. */
  readonly source: { readonly text: string; readonly file: string };
}

/** Reads, parses (YAML or JSON) and validates a sweep spec file; throws {@link SpecError}. */
export function loadSpecFile(file: string, options: { catalogPrices?: SpecCatalogPrices } = {}): LoadedSpec {
  let text: string;
  try {
    text = readBoundedFile(file, LIMITS.specBytes, 'the spec').toString('utf8');
  } catch (error) {
    throw new SpecError(file, [{ path: '', message: (error as Error).message.replace(/^the spec: /, '') }], { cause: error });
  }
  return parseSpec(text, file, dirname(resolve(file)), options);
}

/**
 * Parses and validates spec text; `baseDir` resolves the relative paths in it. With
 * `checkFiles: false` the payload and model files are not looked for (a workflow step validating
 * a spec whose payloads were staged elsewhere). Catalog selections pick from what
 * `catalogPrices(spec)` prices (see `specPrices` in lib/cost); the returned spec has them as
 * plain lists. Without it, a spec with a selection is refused.
 */
export function parseSpec(
  text: string,
  file: string,
  baseDir: string,
  { checkFiles = true, catalogPrices }: { checkFiles?: boolean; catalogPrices?: SpecCatalogPrices } = {},
): LoadedSpec {
  const bytes = Buffer.byteLength(text);
  if (bytes > LIMITS.specBytes) {
    throw new SpecError(file, [{ path: '', message: `the spec is ${formatBytes(bytes)}, more than the ${formatBytes(LIMITS.specBytes)} allowed` }]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new SpecError(
      file,
      doc.errors.map((e) => yamlIssue(e, text)),
    );
  const lineOf = (path: ReadonlyArray<PropertyKey>) => nodeLine(doc, lines, path);
  const deep = nodeDeeperThan(doc, LIMITS.yamlDepth);
  if (deep) {
    throw new SpecError(file, [
      {
        path: '',
        message: `maps and lists are nested more than ${LIMITS.yamlDepth} deep`,
        line: lines.linePos(deep).line,
        column: lines.linePos(deep).col,
      },
    ]);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: LIMITS.yamlAliases });
  } catch (error) {
    // yaml refuses an alias bomb (a few aliases that expand to millions of nodes) with a ReferenceError.
    const alias = firstAlias(doc);
    throw new SpecError(
      file,
      [
        {
          path: '',
          message: `its aliases (*name) expand to too much; at most ${LIMITS.yamlAliases} alias expansions are allowed`,
          ...(alias !== undefined ? { line: lines.linePos(alias).line, column: lines.linePos(alias).col } : {}),
        },
      ],
      { cause: error },
    );
  }
  if (raw === null || raw === undefined) {
    throw new SpecError(file, [{ path: '', message: 'the spec file is empty: a spec needs name, model, candidates, load, slo and traffic' }]);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpecError(file, [
      {
        path: '',
        message: `a spec must be a map of fields (name, model, payloads, candidates, …), got ${Array.isArray(raw) ? 'a list' : `a ${typeof raw}`}`,
      },
    ]);
  }
  const parsed = sweepSpecSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    throw new SpecError(
      file,
      parsed.error.issues.flatMap((issue) => specIssues(issue, lineOf)),
    );
  }
  const issues: SpecIssue[] = [];
  const warnings: SpecIssue[] = [];
  const at = (path: Array<string | number>, message: string) => ({ path: formatPath(path), message, line: lineOf(path) });
  const resolved = resolveCatalogSelections(parsed.data, () => catalogPrices?.(parsed.data));
  for (const problem of resolved.problems) issues.push(at(problem.path, problem.message));
  const { spec, selections } = resolved;
  /** An issue at `path` for each candidate group that does not stream tokens. */
  const eachNonStreaming = (problem: (group: SweepSpec['candidates'][number], g: number) => string, path: Array<string | number>) =>
    spec.candidates.forEach((group, g) => {
      if (!streamsTokens(group)) issues.push(at(path, problem(group, g)));
    });

  const payloads: Payload[] = [];
  spec.payloads.forEach((payload, i) => {
    const field = 'file' in payload ? 'file' : 'body';
    let body: string | Buffer;
    if ('file' in payload) {
      if (!checkFiles) return;
      try {
        body = readBoundedFile(resolve(baseDir, payload.file), LIMITS.payloadBytes, 'file');
      } catch (error) {
        issues.push(at(['payloads', i, field], (error as Error).message.replace(/^file: /, '')));
        return;
      }
    } else body = payload.body;
    const notJson = isJsonContentType(payload.contentType) ? jsonProblem(body) : undefined;
    if (notJson) issues.push(at(['payloads', i, field], `is not JSON, yet its contentType is ${payload.contentType}: ${notJson}`));
    else if (checkFiles) {
      payloads.push({
        body,
        contentType: payload.contentType,
        weight: payload.weight,
        name: payload.name ?? ('file' in payload ? payload.file : `payloads[${i}]`),
      });
    }
  });

  const qualityExamples: QualityExample[] = [];
  if (spec.quality && checkFiles) {
    try {
      const text = readBoundedFile(resolve(baseDir, spec.quality.dataset), LIMITS.qualityDatasetBytes, 'dataset').toString('utf8');
      const { examples, problems } = parseQualityDataset(text, spec.quality.metric !== 'agreement');
      for (const problem of problems) issues.push(at(['quality', 'dataset'], problem));
      qualityExamples.push(...examples.slice(0, spec.quality.examples ?? examples.length));
    } catch (error) {
      issues.push(at(['quality', 'dataset'], (error as Error).message.replace(/^dataset: /, '')));
    }
  }

  if (spec.prompts) {
    const prompted = promptPayloads(spec.prompts, spec.model.name, baseDir, checkFiles);
    for (const issue of prompted.issues) issues.push(at(issue.path, issue.message));
    payloads.push(...prompted.payloads);
    // Prompts are OpenAI request bodies: a candidate that does not stream would be sent what it cannot read.
    eachNonStreaming(
      (group, g) =>
        `are sent as OpenAI request bodies, but candidates[${g}] (kind ${group.kind}) does not stream; give it api ${OPENAI_APIS.join(' or ')}, or use payloads`,
      ['prompts'],
    );
  } else if (spec.payloads.length === 0) issues.push(at(['payloads'], 'needs at least one payload (or prompts, for generative candidates)'));

  // Batched requests are built from the payloads' rows: a path that does not lead to them is found now, not mid-sweep.
  const batch = spec.offline?.batch;
  if (batch && payloads.length > 0 && payloads.length === spec.payloads.length) {
    try {
      batchPayloads(payloads, batch.path, batch.sizes?.[0] ?? 1);
    } catch (error) {
      issues.push(at(['offline', 'batch', 'path'], (error as Error).message.replace(/^offline\.batch\.path: /, '')));
    }
  }

  // A streaming candidate sends every payload as an OpenAI request body.
  const streaming = spec.candidates.findIndex(streamsTokens);
  if (streaming >= 0) {
    const api = (spec.candidates[streaming] as { api: string }).api;
    payloads.forEach((payload, i) => {
      const problem = openAiBodyProblem(payload.body);
      if (problem) issues.push(at(['payloads', i], `${problem}, as candidates[${streaming}] (api ${api}) sends each payload as its request`));
    });
  }

  // Token bounds need every candidate to stream: one that cannot would fail them for want of tokens.
  // (The field names rather than stop-rules' tokenBounds: what the constructs validate at synth must not load the statistics.)
  for (const metric of (['timeToFirstToken', 'interTokenLatency'] as const).filter((m) => spec.slo[m])) {
    eachNonStreaming(
      (group, g) =>
        `bounds streamed tokens, but candidates[${g}] (kind ${group.kind}${'api' in group ? ', api http' : ''}) does not stream them; ` +
        `token bounds need candidates with api ${OPENAI_APIS.join(' or ')} (kinds ${STREAMING_KINDS.join(', ')})`,
      ['slo', metric],
    );
  }

  const candidates: Candidate[] = [];
  const seen = new Map<string, number>();
  spec.candidates.forEach((group, g) => {
    if (group.kind === 'local' && checkFiles && group.models) {
      group.models.forEach((variant, v) => {
        if (!existsSync(resolve(baseDir, variant.path)))
          issues.push(at(['candidates', g, 'models', v, 'path'], `no such model file: ${resolve(baseDir, variant.path)}`));
      });
    } else if (group.kind === 'local' && checkFiles) {
      const modelPath = group.modelPath ?? spec.model.path;
      if (!modelPath) issues.push(at(['candidates', g], 'a local candidate needs a model: set modelPath here or model.path'));
      else if (!existsSync(resolve(baseDir, modelPath)))
        issues.push(at(['candidates', g, group.modelPath ? 'modelPath' : 'kind'], `no such model file: ${resolve(baseDir, modelPath)}`));
    }
    if (group.kind === 'sagemaker-realtime' && Array.isArray(group.instanceTypes) && !selections.some((s) => s.group === g)) {
      group.instanceTypes.forEach((type: string, t: number) => {
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
  if (!spec.offline) {
    spec.candidates.forEach((group, g) => {
      if (OFFLINE_ONLY_KINDS.has(group.kind))
        issues.push(
          at(
            ['candidates', g, 'kind'],
            `${group.kind} answers through ${group.kind === 'sagemaker-async' ? 'a queue' : 'a batch job'}, not within a latency SLO: it is sized for an offline job; give offline (rows and a deadline) instead of traffic, or use sagemaker-realtime`,
          ),
        );
    });
  }
  if (spec.offline) {
    spec.candidates.forEach((group, g) => {
      // A transform job scores its own sample: no requests of the sweep's reach it.
      if (group.kind === 'sagemaker-batch-transform') {
        const sent = [
          spec.load.phases.length > 0 ? ['load', 'phases'] : undefined,
          spec.offline?.batch !== undefined ? ['offline', 'batch'] : undefined,
          spec.load.warmup !== undefined ? ['load', 'warmup'] : undefined,
          spec.quality !== undefined ? ['quality'] : undefined,
        ].find((path) => path !== undefined);
        if (sent)
          issues.push(
            at(
              sent,
              `candidates[${g}] (sagemaker-batch-transform) is measured by its own transform job on a sample, which takes no requests of the sweep: leave ${sent.join('.')} out, or sweep that group in a spec of its own`,
            ),
          );
      }
      // Lambda's rate an invocation holds at any concurrency; a serverless endpoint's is capped and shared, so its job cannot be sized so.
      if (PER_REQUEST_KINDS.has(group.kind) && group.kind !== 'lambda')
        issues.push(
          at(
            ['candidates', g, 'kind'],
            `an offline job runs ${group.kind} at up to its maxConcurrency, shared by every request, which offline sweeps do not size yet; sweep it with a traffic forecast, or use lambda or an instance-based kind`,
          ),
        );
    });
  }
  const reference = spec.quality?.reference;
  if (reference !== undefined && !candidates.some((c) => c.variant === reference)) {
    const variants = [...new Set(candidates.flatMap((c) => (c.variant === undefined ? [] : [c.variant])))];
    issues.push(
      at(
        ['quality', 'reference'],
        `no candidate serves a model variant named "${reference}"; ${
          variants.length > 0 ? `the variants are ${variants.join(', ')}` : "list the variants in a candidate group's models"
        }`,
      ),
    );
  }
  if (candidates.length > MAX_CANDIDATES) {
    issues.push(
      at(
        ['candidates'],
        `expands to ${candidates.length} candidates, more than the ${MAX_CANDIDATES} one sweep may run; split the sweep or shorten the lists`,
      ),
    );
  }
  spec.load.phases.forEach((phase, p) => {
    if (phase.mode === 'stairs' && stairCount(phase) > LIMITS.stairSteps) {
      issues.push(at(['load', 'phases', p, 'step'], `makes ${stairCount(phase)} steps; at most ${LIMITS.stairSteps}`));
    }
  });
  const plannedMs = plannedLoadMs(spec);
  if (issues.length === 0 && plannedMs > LIMITS.loadPerCandidateMs) {
    issues.push(
      at(
        ['load'],
        `plans ${formatDurationMs(plannedMs)} of load per candidate (warm-up, phases, stair steps and the rate search at its most); at most ${formatDurationMs(LIMITS.loadPerCandidateMs)}`,
      ),
    );
  }
  if (issues.length > 0) throw new SpecError(file, issues);
  return { spec, candidates, selections, warnings, payloads, qualityExamples, baseDir, source: { text, file } };
}

/** A YAML syntax error as a spec issue with its line and column; a duplicate key names the key. */
function yamlIssue(error: YAMLError, text: string): SpecIssue {
  const [first] = error.message.split('\n');
  const key = /^("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^:,{}[\]\n]+)/.exec(text.slice(error.pos[0]))?.[1]?.trim();
  const message =
    error.code === 'DUPLICATE_KEY'
      ? `the key ${key ?? ''} appears twice in the same map`
      : // The YAML lexer recurses per nesting level: 100,000 brackets overflow it before the depth check can see them.
        /Maximum call stack/.test(first!)
        ? `maps and lists are nested more than ${LIMITS.yamlDepth} deep`
        : `not valid YAML or JSON: ${first!.replace(/ at line \d+, column \d+:?$/, '')}`;
  return { path: '', message, ...(error.linePos ? { line: error.linePos[0].line, column: error.linePos[0].col } : {}) };
}

/**
 * Every node of the document with its depth in maps and lists (the document's top map is 1). It
 * walks with its own stack: a recursive walk is what 100,000 nested brackets overflow.
 */
function* yamlNodes(doc: Document): Generator<[node: unknown, depth: number]> {
  const stack: Array<[unknown, number]> = [[doc.contents, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    yield [node, depth];
    if (!isMap(node) && !isSeq(node)) continue;
    for (const child of node.items) {
      if (isPair(child)) stack.push([child.key, depth + 1], [child.value, depth + 1]);
      else stack.push([child, depth + 1]);
    }
  }
}

/** The offset of a map or list nested more than `maxDepth` deep, or undefined. */
function nodeDeeperThan(doc: Document, maxDepth: number): number | undefined {
  for (const [node, depth] of yamlNodes(doc)) if ((isMap(node) || isSeq(node)) && depth > maxDepth) return node.range?.[0] ?? 0;
  return undefined;
}

/** The offset of the first alias (`*name`) in the document, if any. */
function firstAlias(doc: Document): number | undefined {
  let first: number | undefined;
  for (const [node] of yamlNodes(doc)) if (isAlias(node) && node.range) first = Math.min(first ?? Infinity, node.range[0]);
  return first;
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
  const text = JSON.stringify(input);
  const shown =
    ['string', 'number', 'boolean'].includes(typeof input) && !/\bgot\b/.test(issue.message)
      ? `, got ${text.length > 60 ? `${text.slice(0, 40)}… (${text.length} characters)` : text}`
      : '';
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

/** The kinds whose candidates may stream tokens (an `api`). */
const STREAMING_KINDS = ['http', 'sagemaker-realtime', 'lambda'] as const;

/** Whether a candidate group's responses stream tokens (an OpenAI-compatible API). */
function streamsTokens(group: SweepSpec['candidates'][number]): boolean {
  return 'api' in group && group.api !== 'http';
}
