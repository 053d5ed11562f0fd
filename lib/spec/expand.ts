import { maxProbes } from '../load/capacity-search';
import type { OpenAiApi } from '../load/streaming-apis';
import { LIMITS } from './limits';
import type { CandidateGroup, SweepSpec } from './schema';

interface CandidateBase {
  /** Stable across runs of the same spec: derived from the configuration, not the order. */
  readonly id: string;
  /** Index of the group in the spec's `candidates` list. */
  readonly group: number;
  readonly environment: Readonly<Record<string, string>>;
  /** The model variant it serves, where its group lists `models`. */
  readonly variant?: string;
}

/** One concrete configuration to deploy and measure. */
export type Candidate = CandidateBase &
  (
    | ({ readonly kind: 'sagemaker-realtime'; readonly instanceType: string; readonly instanceCount: number } & SageMakerModelFields & Streaming)
    | ({
        readonly kind: 'sagemaker-serverless';
        readonly memorySizeMb: number;
        readonly maxConcurrency: number;
        readonly provisionedConcurrency: number;
        readonly coldStartAfterIdleMs?: number;
      } & SageMakerModelFields)
    | ({
        readonly kind: 'sagemaker-async';
        readonly instanceType: string;
        readonly instanceCount: number;
        readonly maxConcurrentInvocationsPerInstance?: number;
        readonly s3Path: string;
      } & SageMakerModelFields)
    | ({
        readonly kind: 'sagemaker-batch-transform';
        readonly instanceType: string;
        readonly maxConcurrentTransforms?: number;
        readonly maxPayloadInMb: number;
        readonly batchStrategy: 'MultiRecord' | 'SingleRecord';
        readonly sampleRows: number;
        readonly s3Path: string;
      } & SageMakerModelFields)
    | ({
        readonly kind: 'lambda';
        readonly functionName: string;
        readonly memorySizeMb: number;
        readonly architecture: 'arm64' | 'x86_64';
        readonly region?: string;
        readonly maxParallelInvocations: number;
      } & Streaming)
    | ({ readonly kind: 'azureml'; readonly sku: string; readonly instanceCount: number } & AzureDeploymentFields)
    | ({
        readonly kind: 'http';
        readonly url: string;
        readonly costPerHour: number;
        readonly headers: Readonly<Record<string, string>>;
      } & Streaming)
    | {
        readonly kind: 'local';
        readonly threads: number;
        readonly maxBatchSize: number;
        readonly batchDelayMs?: number;
        readonly modelPath?: string;
        readonly costPerHour: number;
      }
  );

/** Kinds that may stream tokens: set when the endpoint does (see the spec's `api`). */
export interface Streaming {
  readonly api?: OpenAiApi;
}

/** What SageMaker candidates of a group share: the model they serve and where. */
export interface SageMakerModelFields {
  readonly region?: string;
  readonly image: string;
  readonly modelDataUrl?: string;
  readonly executionRoleArn: string;
  readonly accept: string;
}

/** What Azure ML candidates of a group share: the workspace, endpoint and what they serve. */
export interface AzureDeploymentFields {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly workspace: string;
  readonly endpointName: string;
  readonly model: string;
  readonly environmentId?: string;
  readonly codeId?: string;
  readonly scoringScript?: string;
  readonly location?: string;
  readonly maxConcurrentRequestsPerInstance: number;
}

/** The AWS region a candidate runs in: its own, else the one the AWS SDK would find (AWS_REGION, AWS_DEFAULT_REGION), else us-east-1. */
export const regionOf = (candidate: { region?: string }): string =>
  candidate.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';

/** Drops undefined fields, so candidates compare and serialize the same however they were written. */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Only a streaming candidate carries `api`, so a whole-response one's id and record are as they always were. */
const streamingOf = (g: { api: 'http' | OpenAiApi }): Streaming => (g.api !== 'http' ? { api: g.api } : {});

const sagemakerModelOf = (g: SageMakerModelFields): SageMakerModelFields =>
  defined({ region: g.region, image: g.image, modelDataUrl: g.modelDataUrl, executionRoleArn: g.executionRoleArn, accept: g.accept });

/** Every combination of the values in `lists`, in order (the last list varies fastest). */
function grid<T extends Record<string, readonly unknown[]>>(lists: T): Array<{ [K in keyof T]: T[K][number] }> {
  return Object.entries(lists).reduce<Array<Record<string, unknown>>>(
    (combos, [key, values]) => combos.flatMap((combo) => values.map((value) => ({ ...combo, [key]: value }))),
    [{}],
  ) as Array<{ [K in keyof T]: T[K][number] }>;
}

/** A list field, once catalog selections are resolved (see `resolveCatalogSelections`): expansion never picks from the catalog itself. */
function listed<T>(values: readonly T[] | object, field: string): readonly T[] {
  if (!Array.isArray(values)) throw new Error(`${field} is a catalog selection; resolve it (resolveCatalogSelections) before expanding`);
  return values;
}

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '');

/**
 * The concrete candidates of one group of the spec: its configurations, each once per model variant
 * where it lists `models` (the variant's name ends the id, and its artifact replaces the group's).
 */
export function expandGroup(group: CandidateGroup, index: number): Candidate[] {
  const configurations = expandConfigurations(group, index);
  const variants = 'models' in group ? group.models : undefined;
  if (!variants) return configurations;
  return configurations.flatMap((c) =>
    variants.map(({ name, ...artifact }): Candidate => {
      // A local variant's `path` is the candidate's `modelPath`; the others keep their field's name.
      const { path, ...others } = artifact as { path?: string };
      return { ...c, id: `${c.id}-${name}`, variant: name, ...others, ...(path !== undefined ? { modelPath: path } : {}) } as Candidate;
    }),
  );
}

function expandConfigurations(group: CandidateGroup, index: number): Candidate[] {
  const base = (suffix: string) => ({ id: `${group.name ?? group.kind}-${suffix}`, group: index, environment: group.environment ?? {} });
  switch (group.kind) {
    case 'sagemaker-realtime':
      return grid({ instanceType: listed<string>(group.instanceTypes, 'instanceTypes'), instanceCount: group.instanceCounts }).map((c) => ({
        ...base(`${c.instanceType}-x${c.instanceCount}`),
        kind: group.kind,
        ...c,
        ...sagemakerModelOf(group),
        ...streamingOf(group),
      }));
    case 'sagemaker-serverless':
      return grid({
        memorySizeMb: group.memorySizesMb,
        maxConcurrency: group.maxConcurrency,
        provisionedConcurrency: group.provisionedConcurrency,
      }).map((c) => ({
        ...base(`${c.memorySizeMb}mb-c${c.maxConcurrency}${c.provisionedConcurrency ? `-p${c.provisionedConcurrency}` : ''}`),
        kind: group.kind,
        ...c,
        ...sagemakerModelOf(group),
        ...defined({ coldStartAfterIdleMs: group.coldStartAfterIdle }),
      }));
    case 'sagemaker-async':
      return grid({
        instanceType: group.instanceTypes,
        instanceCount: group.instanceCounts,
        maxConcurrentInvocationsPerInstance: group.maxConcurrentInvocationsPerInstance ?? [undefined],
      }).map(({ maxConcurrentInvocationsPerInstance, ...c }) => ({
        ...base(`${c.instanceType}-x${c.instanceCount}${maxConcurrentInvocationsPerInstance ? `-c${maxConcurrentInvocationsPerInstance}` : ''}`),
        kind: group.kind,
        ...c,
        ...defined({ maxConcurrentInvocationsPerInstance }),
        s3Path: group.s3Path,
        ...sagemakerModelOf(group),
      }));
    case 'sagemaker-batch-transform':
      return grid({
        instanceType: group.instanceTypes,
        maxConcurrentTransforms: group.maxConcurrentTransforms ?? [undefined],
        maxPayloadInMb: group.maxPayloadInMb,
        batchStrategy: group.batchStrategy,
      }).map(({ maxConcurrentTransforms, ...c }) => ({
        ...base(
          `${c.instanceType}${maxConcurrentTransforms ? `-c${maxConcurrentTransforms}` : ''}-${c.maxPayloadInMb}mb-${c.batchStrategy === 'MultiRecord' ? 'multi' : 'single'}`,
        ),
        kind: group.kind,
        ...c,
        ...defined({ maxConcurrentTransforms }),
        sampleRows: group.sampleRows,
        s3Path: group.s3Path,
        ...sagemakerModelOf(group),
      }));
    case 'lambda':
      return grid({ memorySizeMb: group.memorySizesMb, architecture: group.architectures }).map((c) => ({
        ...base(`${c.memorySizeMb}mb-${c.architecture}`),
        kind: group.kind,
        functionName: group.functionName,
        ...c,
        ...defined({ region: group.region }),
        maxParallelInvocations: group.maxParallelInvocations,
        ...streamingOf(group),
      }));
    case 'azureml':
      return grid({ sku: listed<string>(group.skus, 'skus'), instanceCount: group.instanceCounts }).map((c) => ({
        ...base(`${slug(c.sku)}-x${c.instanceCount}`),
        kind: group.kind,
        ...c,
        ...defined({
          subscriptionId: group.subscriptionId,
          resourceGroup: group.resourceGroup,
          workspace: group.workspace,
          endpointName: group.endpointName,
          model: group.model,
          environmentId: group.environmentId,
          codeId: group.codeId,
          scoringScript: group.scoringScript,
          location: group.location,
        }),
        maxConcurrentRequestsPerInstance: group.maxConcurrentRequestsPerInstance,
      }));
    case 'http': {
      const url = new URL(group.url);
      const id = group.name ?? `http-${slug(`${url.hostname}-${url.port || url.protocol.replace(':', '')}${url.pathname}`)}`;
      return [
        {
          id,
          group: index,
          environment: group.environment ?? {},
          kind: group.kind,
          url: group.url,
          costPerHour: group.costPerHour,
          headers: group.headers ?? {},
          ...streamingOf(group),
        },
      ];
    }
    case 'local':
      return grid({ threads: group.threads, maxBatchSize: group.maxBatchSize }).map(({ threads, maxBatchSize }) => ({
        ...base(`threads${threads}${maxBatchSize > 1 ? `-batch${maxBatchSize}` : ''}`),
        kind: group.kind,
        threads,
        maxBatchSize,
        ...defined({ batchDelayMs: group.batchDelay }),
        costPerHour: group.costPerHour,
        ...(group.modelPath ? { modelPath: group.modelPath } : {}),
      }));
  }
}

/** All concrete candidates of a spec, list-valued fields expanded as a grid (catalog selections resolved first). */
export function expandCandidates(spec: Pick<SweepSpec, 'candidates'>): Candidate[] {
  return spec.candidates.flatMap((group, index) => expandGroup(group, index));
}

type Stairs = { readonly from: number; readonly to: number; readonly step: number };

/** Steps of a stairs phase, `from` to `to` by `step` (validation bounds it by {@link LIMITS.stairSteps}). */
export const stairCount = (phase: Stairs): number => Math.floor((phase.to - phase.from) / phase.step + 1e-9) + 1;

/** The rates of a stairs phase: counted, not accumulated, so a step below a float's precision cannot loop forever. */
export function stairRates(phase: Stairs): number[] {
  return Array.from({ length: Math.min(stairCount(phase), LIMITS.stairSteps) }, (_, k) => phase.from + k * phase.step);
}

/** The most concurrencies an offline sweep's saturation search probes: from `from`, doubling, to `to`. */
export const maxSaturationProbes = (ladder: { readonly from: number; readonly to: number }): number =>
  1 + Math.ceil(Math.log2(Math.max(1, ladder.to / ladder.from)));

/** The most batch sizes an offline sweep searches (see offline/batch-search): the spec's list, or 1, 2, 4 … up to `upTo`. */
export const maxBatchSearches = (batch: { readonly sizes?: readonly number[]; readonly upTo?: number } | undefined): number =>
  batch === undefined ? 1 : (batch.sizes?.length ?? 1 + Math.floor(Math.log2(batch.upTo ?? 1)));

/** How many times one saturation probe is measured again, each twice as long: 1×, 2×, then 4× the step (see offline/saturation). */
export const MAX_LONGER_PROBES = 2;

/** A saturation probe at its longest, in steps: once, then each longer measurement (1 + 2 + 4). */
const SATURATION_STEPS_AT_MOST = 2 ** (MAX_LONGER_PROBES + 1) - 1;

/**
 * Milliseconds of load one candidate is planned to receive: the warm-up, the phases with every
 * stair step, and the rate search (or an offline sweep's saturation search, once per batch size) at its most probes.
 */
export function plannedLoadMs(spec: Pick<SweepSpec, 'load' | 'offline'>): number {
  const phases = spec.load.phases.reduce((ms, phase) => ms + (phase.mode === 'stairs' ? stairCount(phase) * phase.stepDuration : phase.duration), 0);
  const search = spec.load.search ? maxProbes(spec.load.search) * spec.load.search.stepDuration : 0;
  const saturation = spec.offline
    ? maxSaturationProbes(spec.offline.saturation) *
      SATURATION_STEPS_AT_MOST *
      spec.offline.saturation.stepDuration *
      // Each batch size is a search of its own.
      maxBatchSearches(spec.offline.batch)
    : 0;
  return (spec.load.warmup?.duration ?? 0) + phases + search + saturation;
}
