import { z } from 'zod';

import { type PriceBook, type PriceKey, specPrices } from '../../cost/price-book';
import { SetupError } from '../../errors';
import type { Candidate } from '../../spec/expand';
import { parseSpec, SpecError, type SpecIssue } from '../../spec/load-spec';
import type { SweepSpec } from '../../spec/schema';
import { KIND_RULES } from '../../targets/kind-rules';
import type { WorkflowEnv } from '../env';
import { executionInput } from '../events';
import { loadOf } from '../load-plans';
import type { StagedSpec } from '../stage-spec';
import { newSweepId } from '../sweep-id';
import { adapterContext, payloadsOf, type StepContext } from './context';

export const validateInput = z.object({
  request: executionInput,
  defaultMaxConcurrency: z.number().int().min(1).default(4),
});

export const validateOutput = z.object({
  sweepId: z.string(),
  /** Lanes measured side by side: each wave's most candidates (see plan-wave). */
  maxConcurrency: z.number().int().min(1),
});

/** How long after a sweep's planned end the janitor may remove what it left: time for deploys, teardowns and retries. */
const EXPIRY_MARGIN_MS = 2 * 3600_000;

/**
 * Validates the staged spec (its catalog selections resolved against the prices at hand), refuses
 * what this environment cannot run, checks every kind can reach its platform, and records the
 * sweep with its resolved spec: all before anything is created. Waves are planned by plan-wave.
 */
export async function validateSpec(e: z.output<typeof validateInput>, ctx: StepContext): Promise<z.output<typeof validateOutput>> {
  const { env, now } = ctx;
  const { request, defaultMaxConcurrency } = e;
  const staged = JSON.parse((await env.blobs.get(request.specKey)).toString('utf8')) as StagedSpec;
  const { spec, candidates } = parseSpec(staged.text, staged.file, staged.baseDir, {
    checkFiles: false,
    catalogPrices: (spec) => specPrices(spec, env.prices),
  });
  checkLimits(env, staged.file, spec, candidates);
  if (spec.quality && !staged.qualityDataset)
    throw new SpecError(staged.file, [
      { path: 'quality.dataset', message: 'was not staged with the spec: stage the spec with its dataset (modelsweep sweep does)' },
    ]);
  const sweepId = request.sweepId ?? newSweepId(spec.name, now());
  const existing = await env.store.getSweep(sweepId);
  const createdAt = existing ? new Date(existing.createdAt) : now();
  const { loadSeconds } = loadOf(spec);
  const plannedMs = candidates.reduce((ms, c) => ms + (loadSeconds + KIND_RULES[c.kind].provisioningSeconds) * 1000, 0);
  const expiresAt = new Date(createdAt.getTime() + plannedMs + EXPIRY_MARGIN_MS);
  // Before anything is created or recorded: can every kind reach its platform?
  // Kinds that build their own input from the payloads (a transform job's sample) check them too.
  const context = { ...adapterContext(sweepId, spec, staged.baseDir, createdAt, expiresAt, env), payloads: await payloadsOf(env, staged.payloads) };
  for (const kind of new Set(candidates.map((c) => c.kind))) {
    await env.adapters[kind]?.checkAccess?.(
      candidates.filter((c) => c.kind === kind),
      context,
    );
  }
  // A sweep prices before it creates anything, and records the figures it priced with.
  const { prices, warnings: priceWarnings } = await sweepPrices(env, spec, candidates, now());
  await env.store.createSweep({
    sweepId,
    name: spec.name,
    model: spec.model.name,
    createdAt: createdAt.toISOString(),
    spec,
    expiresAt: expiresAt.toISOString(),
    payloads: staged.payloads,
    ...(staged.qualityDataset ? { qualityDataset: staged.qualityDataset } : {}),
    baseDir: staged.baseDir,
    prices: prices.toJSON(),
    ...(priceWarnings.length ? { priceWarnings } : {}),
    ...(env.owner ? { owner: env.owner, heartbeatAt: createdAt.toISOString() } : {}),
  });
  return { sweepId, maxConcurrency: request.maxConcurrency ?? defaultMaxConcurrency };
}

/**
 * The prices a sweep's candidates need, in one order of precedence: the spec's `pricing.prices`
 * over what the environment fetches now (the cloud: the Price List Query API), over what it has
 * (an override file, the cache, the bundled snapshot), at the spec's commitment. Refuses a
 * candidate that cannot be priced, naming what to do. Returns just the figures needed.
 */
export async function sweepPrices(
  env: WorkflowEnv,
  spec: SweepSpec,
  candidates: readonly Candidate[],
  now: Date,
): Promise<{ prices: PriceBook; warnings: string[] }> {
  const keys: PriceKey[] = candidates.flatMap((c) => env.adapters[c.kind]?.priceKeys?.(c) ?? []);
  const unique = [...new Map(keys.map((k) => [JSON.stringify(k), k])).values()];
  const warnings: string[] = [];
  let book = specPrices(spec, env.prices);
  if (env.fetchPrices && unique.length > 0) {
    try {
      const fetched = await env.fetchPrices(unique);
      book = book.with({ layers: [fetched.layer] });
      warnings.push(...fetched.warnings);
    } catch (error) {
      // Priced from what is at hand, and said: the age of those figures is in the warnings below.
      warnings.push(`could not read current prices (${(error as Error).message.split('\n')[0]}); priced from the prices at hand`);
    }
  }
  const problems = book.problems(unique);
  if (problems.length > 0) throw new SetupError(`cannot price every candidate: ${problems.join('; ')}`);
  warnings.push(...book.staleness(unique, now));
  return { prices: book.subset(unique), warnings };
}

/** Refuses, before anything is created, what this environment cannot run. */
function checkLimits(env: WorkflowEnv, file: string, spec: SweepSpec, candidates: readonly Candidate[]): void {
  const problems: SpecIssue[] = [];
  spec.candidates.forEach((group, i) => {
    const why = env.unsupportedKinds?.get(group.kind);
    if (why) problems.push({ path: `candidates[${i}].kind`, message: why });
  });
  if (env.maxPhaseMs !== undefined) {
    const limit = env.maxPhaseMs;
    const over = (path: string, ms: number) =>
      ms > limit &&
      problems.push({
        path,
        message: `${Math.round(ms / 1000)} s is longer than the ${Math.round(limit / 1000)} s one load step may run; split it into several phases`,
      });
    spec.load.phases.forEach((p, i) =>
      over(`load.phases[${i}].${p.mode === 'stairs' ? 'stepDuration' : 'duration'}`, p.mode === 'stairs' ? p.stepDuration : p.duration),
    );
    if (spec.load.warmup) over('load.warmup.duration', spec.load.warmup.duration);
    if (spec.load.search) over('load.search.stepDuration', spec.load.search.stepDuration);
  }
  if (candidates.length === 0) problems.push({ path: 'candidates', message: 'expands to no candidate' });
  if (problems.length > 0) throw new SpecError(file, problems);
}
