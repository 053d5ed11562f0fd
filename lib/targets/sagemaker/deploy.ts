/**
 * Deploying a SageMaker candidate: checking access, creating its endpoint config and endpoint,
 * waiting for InService, and attaching to one a past step made.
 */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import {
  type AsyncInferenceConfig,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  DescribeEndpointCommand,
  type ProductionVariant,
} from '@aws-sdk/client-sagemaker';

import { CandidateError, SetupError, type TargetAdapter } from '../adapter';
import { checkAwsAccess } from '../cloud/aws-access';
import { ownerTagList, resourceName, type ResourceOwner } from '../cloud/resource-tags';
import { classify, isQuota, readinessOf } from '../cloud/retry';
import { s3Location } from '../cloud/s3-location';
import {
  asSageMaker,
  type AsyncCandidate,
  candidateFolder,
  FOLDER_LAYOUT,
  type S3Folder,
  s3Url,
  type SageMakerApi,
  type SageMakerCandidate,
  type SageMakerDeployment,
  VARIANT,
} from './common';
import type { SweepModels } from './models';
import { deploymentOf } from './teardown';

/** The adapter's deploy half: {@link TargetAdapter}'s checkAccess, deploy, waitReady, readiness, isReady, handleOf and attach. */
export function sageMakerDeploySteps(
  kind: SageMakerCandidate['kind'],
  api: SageMakerApi,
  { modelFor }: SweepModels,
): Pick<TargetAdapter<SageMakerDeployment>, 'checkAccess' | 'deploy' | 'waitReady' | 'readiness' | 'isReady' | 'handleOf' | 'attach'> {
  const { options, clients, call } = api;
  const readiness = { pollMs: options.pollIntervalMs ?? 15_000, timeoutMs: options.readyTimeoutMs ?? 30 * 60_000 };

  /** One DescribeEndpoint: true when in service, an error when it never will be. */
  const inService = async (deployment: SageMakerDeployment): Promise<boolean> => {
    const endpoint = await call(() =>
      clients(deployment.region).sagemaker.send(new DescribeEndpointCommand({ EndpointName: deployment.endpointName })),
    );
    if (endpoint.EndpointStatus === 'InService') return true;
    if (endpoint.EndpointStatus === 'Failed' || endpoint.EndpointStatus === 'OutOfService') {
      const reason = endpoint.FailureReason ?? 'no reason given';
      const logs = `logs: CloudWatch log group /aws/sagemaker/Endpoints/${deployment.endpointName}`;
      throw new CandidateError(
        isQuota({ message: reason }) ? 'unavailable' : 'failed',
        `endpoint ${deployment.endpointName} ${endpoint.EndpointStatus}: ${reason} (${logs})`,
      );
    }
    return false;
  };

  const variantOf = (c: SageMakerCandidate, modelName: string): ProductionVariant =>
    c.kind !== 'sagemaker-serverless'
      ? {
          VariantName: VARIANT,
          ModelName: modelName,
          InstanceType: c.instanceType as ProductionVariant['InstanceType'],
          InitialInstanceCount: c.instanceCount,
        }
      : {
          VariantName: VARIANT,
          ModelName: modelName,
          ServerlessConfig: {
            MemorySizeInMB: c.memorySizeMb,
            MaxConcurrency: c.maxConcurrency,
            ...(c.provisionedConcurrency > 0 ? { ProvisionedConcurrency: c.provisionedConcurrency } : {}),
          },
        };

  return {
    async checkAccess(candidates) {
      const regions = new Set(candidates.map((c) => asSageMaker(c).region));
      for (const region of regions) await checkAwsAccess(clients(region).sagemaker, `${kind} candidates`);
      // An asynchronous candidate's requests go through its bucket: one that cannot be reached is found now, not after a deploy.
      await checkBuckets(
        api,
        kind,
        candidates.flatMap((c) => (c.kind === 'sagemaker-async' ? [c] : [])),
      );
    },

    async deploy(candidate, context) {
      const c = asSageMaker(candidate);
      const owner: ResourceOwner = { sweepId: context.sweepId, candidateId: c.id, createdAt: context.createdAt, expiresAt: context.expiresAt };
      const name = resourceName('ms', owner, 63);
      const { sagemaker } = clients(c.region);
      const created = { config: false, endpoint: false };
      const folder = c.kind === 'sagemaker-async' ? candidateFolder(c, context.sweepId) : undefined;
      let deployment = deploymentOf(api, c, name, undefined, created, folder);
      try {
        const { name: modelName } = await modelFor(c, context);
        deployment = deploymentOf(api, c, name, modelName, created, folder);
        await call(() =>
          sagemaker.send(
            new CreateEndpointConfigCommand({
              EndpointConfigName: name,
              ProductionVariants: [variantOf(c, modelName)],
              ...(c.kind === 'sagemaker-async' ? { AsyncInferenceConfig: asyncConfigOf(c, folder!) } : {}),
              Tags: ownerTagList(owner),
            }),
          ),
        );
        created.config = true;
        await call(() => sagemaker.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name, Tags: ownerTagList(owner) })));
        created.endpoint = true;
        return deployment;
      } catch (error) {
        await deployment.teardown().catch(() => {});
        throw classify(error, `creating ${name}`);
      }
    },

    ...readinessOf(inService, readiness, (d) => `endpoint ${d.endpointName} InService`, options.sleep),

    handleOf: (d) => ({ region: d.region ?? null, endpointName: d.endpointName, modelName: d.modelName ?? null }),

    attach(candidate, handle, context) {
      const c = asSageMaker(candidate);
      // Another step created both, and deleting what is already gone is fine.
      return deploymentOf(
        api,
        c,
        String(handle.endpointName),
        handle.modelName ? String(handle.modelName) : undefined,
        { config: true, endpoint: true },
        c.kind === 'sagemaker-async' ? candidateFolder(c, context.sweepId) : undefined,
      );
    },
  };
}

/**
 * Checks that each candidate's `s3Path` bucket can be reached, before anything is created; throws
 * {@link SetupError} naming the bucket and the permissions the sweep needs there.
 */
export async function checkBuckets(
  { clients, call }: SageMakerApi,
  kind: string,
  candidates: ReadonlyArray<{ readonly s3Path: string; readonly region?: string }>,
): Promise<void> {
  const buckets = new Map(candidates.map((c) => [s3Location(c.s3Path).bucket, c] as const));
  for (const [bucket, c] of buckets) {
    try {
      await call(() => clients(c.region).s3.send(new HeadBucketCommand({ Bucket: bucket })));
    } catch (error) {
      const e = error as Error & { $metadata?: { httpStatusCode?: number } };
      const why = e.$metadata?.httpStatusCode === 404 ? 'no such bucket' : `${e.name}: ${e.message}`;
      throw new SetupError(
        `${kind} candidates: cannot reach s3Path's bucket ${bucket} (${why}); the sweep's credentials need s3:ListBucket, s3:PutObject, s3:GetObject and s3:DeleteObject there`,
        { cause: error },
      );
    }
  }
}

/** An asynchronous endpoint's queue: answers and failures under the candidate's own folder, its concurrency where the spec sets it. */
function asyncConfigOf(c: AsyncCandidate, folder: S3Folder): AsyncInferenceConfig {
  return {
    OutputConfig: { S3OutputPath: s3Url(folder, FOLDER_LAYOUT.answers), S3FailurePath: s3Url(folder, FOLDER_LAYOUT.failures) },
    ...(c.maxConcurrentInvocationsPerInstance !== undefined
      ? { ClientConfig: { MaxConcurrentInvocationsPerInstance: c.maxConcurrentInvocationsPerInstance } }
      : {}),
  };
}
