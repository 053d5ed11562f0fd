import { findAzureSku } from '../catalog/azure-skus';
import { findSageMakerInstance, type HardwareFacts, processorFamily } from '../catalog/sagemaker-instances';
import type { Candidate } from '../spec/expand';
import { PER_REQUEST_KINDS } from '../spec/schema';

type Kind = Candidate['kind'];

/**
 * What the sweep must know about a candidate kind without driving it: every rule that differs by
 * kind lives here, and each adapter carries its kind's rules (see `TargetAdapter`). This module
 * imports no SDK, so the CDK constructs and the CLI can ask it what the cloud workflow can run.
 */
export interface KindRules {
  /** How capacity grows: by adding instances, or by the platform per request. */
  readonly scaling: 'instances' | 'per-request';
  /**
   * Time to deploy, wait for and remove one candidate, beyond its load: billed in the
   * measurement estimate of hourly kinds, and allowed for in the sweep's expiry.
   */
  readonly provisioningSeconds: number;
  /** Why the cloud workflow (Step Functions and Lambda) cannot run this kind; absent when it can. */
  readonly notInCloud?: string;
  /**
   * Candidates with the same key share a lane and are measured one after the other: Lambda
   * candidates of one function (a sweep changes its $LATEST to publish each), and local candidates
   * (model servers on this machine's cores would measure each other).
   */
  laneKey(candidate: Candidate): string;
  /**
   * Which cold starts to time on their own: the first request after deploy (platforms that scale
   * per request meet one there), and one after `afterIdleMs` of silence where the spec asks for it.
   */
  coldStartProbes(candidate: Candidate): { readonly afterDeploy: boolean; readonly afterIdleMs?: number };
  /**
   * Its family and size, for guided search: within a family, capacity is taken to grow with
   * `units` (accelerators where it has them, else vCPUs or threads). None where it has no siblings to learn from.
   */
  sizeOf?(candidate: Candidate): CandidateSize | undefined;
  /** Instances one candidate deploys and is measured as (its instance count). @default 1 */
  instancesPerUnit?(candidate: Candidate): number;
  /**
   * The most requests the candidate is sent at once, whatever the load asks (Lambda's
   * `maxParallelInvocations`): an offline saturation search probes no higher. @default unbounded
   */
  maxConcurrency?(candidate: Candidate): number;
}

const instanceCountOf = (c: Candidate) => ('instanceCount' in c ? c.instanceCount : 1);

/** A candidate's family (candidates that differ only in size) and its size in the units capacity grows with. */
export interface CandidateSize {
  readonly family: string;
  readonly units: number;
}

/**
 * Each verdict with its candidate's family and size (see `KindRules.sizeOf`): what guided search
 * predicts from, found by id among the recorded candidates.
 */
export function withSizes<V extends { readonly id: string }>(
  verdicts: readonly V[],
  recorded: ReadonlyArray<{ readonly candidate: Candidate }>,
): Array<{ readonly verdict: V; readonly size?: CandidateSize }> {
  return verdicts.flatMap((verdict) => {
    const candidate = recorded.find((r) => r.candidate.id === verdict.id)?.candidate;
    return candidate ? [{ verdict, size: KIND_RULES[candidate.kind]?.sizeOf?.(candidate) }] : [];
  });
}

/** Accelerators where the type has them, else vCPUs: what serving capacity grows with inside a family. */
const unitsOf = (facts: HardwareFacts | undefined) => (facts ? (facts.accelerator?.count ?? facts.vcpus) : undefined);

/** Another model variant is another model: its capacity says nothing of the others'. */
const variantOf = (c: Candidate) => (c.variant !== undefined ? `/${c.variant}` : '');

const scalingOf = (kind: Kind): KindRules['scaling'] => (PER_REQUEST_KINDS.has(kind) ? 'per-request' : 'instances');

const ownLane = (candidate: Candidate) => `candidate:${candidate.id}`;
const afterDeployOnly = (afterDeploy: boolean) => () => ({ afterDeploy });

/** The rules of each kind, spread into its adapter. */
export const KIND_RULES: { readonly [K in Kind]: KindRules } = {
  http: { scaling: scalingOf('http'), provisioningSeconds: 0, laneKey: ownLane, coldStartProbes: afterDeployOnly(false) },
  local: {
    scaling: scalingOf('local'),
    provisioningSeconds: 0,
    notInCloud: 'local candidates start model servers on the machine that runs the sweep: run them with `modelsweep sweep --local`',
    laneKey: () => 'local',
    coldStartProbes: afterDeployOnly(false),
    // Threads 0 means one per core: its size depends on the machine, so it has no siblings.
    sizeOf: (c) => (c.kind === 'local' && c.threads > 0 ? { family: `local/batch${c.maxBatchSize}${variantOf(c)}`, units: c.threads } : undefined),
  },
  // SageMaker takes minutes to create and delete an endpoint, billed throughout.
  'sagemaker-realtime': {
    scaling: scalingOf('sagemaker-realtime'),
    provisioningSeconds: 15 * 60,
    laneKey: ownLane,
    coldStartProbes: afterDeployOnly(false),
    instancesPerUnit: instanceCountOf,
    sizeOf: (c) => {
      if (c.kind !== 'sagemaker-realtime') return undefined;
      const units = unitsOf(findSageMakerInstance(c.instanceType));
      return units ? { family: `${c.region ?? ''}/${processorFamily(c.instanceType)}/x${c.instanceCount}${variantOf(c)}`, units } : undefined;
    },
  },
  // An asynchronous endpoint is a real-time one behind a queue: created, billed and deleted alike.
  'sagemaker-async': {
    scaling: scalingOf('sagemaker-async'),
    provisioningSeconds: 15 * 60,
    laneKey: ownLane,
    coldStartProbes: afterDeployOnly(false),
    instancesPerUnit: instanceCountOf,
  },
  // A transform job on a sample: its instance starts and loads the model (minutes, billed), scores the sample, and ends.
  'sagemaker-batch-transform': {
    scaling: scalingOf('sagemaker-batch-transform'),
    provisioningSeconds: 10 * 60,
    laneKey: ownLane,
    coldStartProbes: afterDeployOnly(false),
  },
  'sagemaker-serverless': {
    scaling: scalingOf('sagemaker-serverless'),
    provisioningSeconds: 15 * 60,
    laneKey: ownLane,
    coldStartProbes: (c) => ({
      afterDeploy: true,
      ...(c.kind === 'sagemaker-serverless' && c.coldStartAfterIdleMs ? { afterIdleMs: c.coldStartAfterIdleMs } : {}),
    }),
  },
  lambda: {
    scaling: scalingOf('lambda'),
    // Publishing a version and waiting for its alias: minutes, not the quarter hour of an endpoint.
    provisioningSeconds: 5 * 60,
    laneKey: (c) => (c.kind === 'lambda' ? `lambda:${c.region ?? ''}:${c.functionName}` : ownLane(c)),
    coldStartProbes: afterDeployOnly(true),
    // Its invoker queues what is over the cap: a probe above it would measure the queue.
    maxConcurrency: (c) => (c.kind === 'lambda' ? c.maxParallelInvocations : Number.POSITIVE_INFINITY),
  },
  azureml: {
    scaling: scalingOf('azureml'),
    // Azure ML takes 10-20 minutes to create a managed deployment and a few to delete it, billed throughout.
    provisioningSeconds: 20 * 60,
    notInCloud: 'the cloud workflow has no Azure credentials: run Azure ML candidates with `modelsweep sweep --local` where `az login` works',
    laneKey: ownLane,
    coldStartProbes: afterDeployOnly(false),
    instancesPerUnit: instanceCountOf,
    sizeOf: (c) => {
      if (c.kind !== 'azureml') return undefined;
      const units = unitsOf(findAzureSku(c.sku));
      // Standard_NC4as_T4_v3 and Standard_NC8as_T4_v3 are one series: the SKU without its size.
      return units
        ? { family: `${c.location ?? ''}/${c.sku.replace(/^(Standard_[A-Za-z]+)\d+/, '$1')}/x${c.instanceCount}${variantOf(c)}`, units }
        : undefined;
    },
  },
};

/** Why the cloud workflow cannot run candidates of `kind`, or undefined when it can. */
export function whyNotInCloud(kind: Kind): string | undefined {
  return KIND_RULES[kind].notInCloud;
}

/** The first candidate (with its group index) that the cloud workflow cannot run, if any. */
export function firstNotInCloud<C extends { kind: Kind }>(candidates: readonly C[]): { candidate: C; index: number; why: string } | undefined {
  for (const [index, candidate] of candidates.entries()) {
    const why = whyNotInCloud(candidate.kind);
    if (why) return { candidate, index, why };
  }
  return undefined;
}

export const ALL_KINDS = Object.keys(KIND_RULES) as Kind[];
