import { z } from 'zod';

import { ModelsweepError } from '../errors';
import type { CapacitySearchState } from '../load/capacity-search';
import type { SaturationState } from '../offline/saturation';
import type { Candidate } from '../spec/expand';
import type { DeploymentHandle } from '../targets/adapter';

/**
 * The JSON each workflow step receives. Every step parses its input with these, so a state
 * machine edited by hand (or a stale one) fails with the field that is wrong, not deep inside.
 */

const sweepId = z.string().min(1, 'sweepId is required');
// Candidates are validated when the spec is; here they only need to be there with their id and kind.
const candidate = z.looseObject({ id: z.string().min(1), kind: z.string().min(1) }).transform((c) => c as unknown as Candidate);
const handle = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).transform((h) => h as DeploymentHandle);

/** What an execution is started with. */
export const executionInput = z.object({
  /** Blob key of the staged spec (see stageSpec). */
  specKey: z.string().min(1, 'specKey is required: the blob key of a staged spec'),
  /** Given by `modelsweep start` and local runs; a scheduled execution gets a new one. */
  sweepId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'sweepId is 1 to 128 letters, digits, dots, dashes or underscores')
    .optional(),
  /** Overrides the workflow's default for this execution. */
  maxConcurrency: z.number().int().min(1, 'maxConcurrency must be at least 1').max(40, 'maxConcurrency is at most 40').optional(),
});

export type ExecutionInput = z.input<typeof executionInput>;

export const candidateEvent = z.object({
  sweepId,
  candidate,
  position: z.object({ index: z.number().int().min(0), total: z.number().int().min(1) }).optional(),
});

/** Where a deployed candidate is: what another process needs to reach it, and when it must be ready. */
export const deploymentOutput = z.object({ handle, readyBy: z.string() });

export const deployedEvent = candidateEvent.extend({ deployment: deploymentOutput });

/** Where a rate search stands between probes (see lib/load/capacity-search). */
export const searchState = z.object({
  done: z.boolean(),
  low: z.number().positive(),
  high: z.number().positive(),
  probes: z.number().int().min(0),
  confirming: z.enum(['low', 'high']).optional(),
  unconfirmed: z.array(z.enum(['low', 'high'])).optional(),
  /** An offline sweep's saturation search, which runs in the rate search's place (see lib/offline/saturation). */
  saturation: z.custom<SaturationState>((s) => typeof s === 'object' && s !== null).optional(),
  /** The batch size (`offline.batch`) the saturation search is at: each size is searched in turn. */
  batch: z.number().int().positive().optional(),
  /** The best throughput of each batch size searched so far, in order (0 where none kept its errors within the SLO). */
  batchBests: z.array(z.number().min(0)).optional(),
}) satisfies z.ZodType<CapacitySearchState & { saturation?: SaturationState; batch?: number; batchBests?: number[] }>;

/** A step about the whole sweep. */
export const sweepEvent = z.object({ sweepId });

export type CandidateEvent = z.output<typeof candidateEvent>;
export type DeployedEvent = z.output<typeof deployedEvent>;

/** Parses a step's input; a bad one fails the step with every field that is wrong. */
export function parseEvent<S extends z.ZodType>(schema: S, event: unknown, step: string): z.output<S> {
  const parsed = schema.safeParse(event);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
  throw new InvalidStepInput(`${step}: ${issues}`);
}

export class InvalidStepInput extends ModelsweepError {
  constructor(message: string) {
    super('invalid-input', message);
    this.name = 'InvalidStepInput';
  }
}
export type SweepEvent = z.output<typeof sweepEvent>;
