/**
 * A SageMaker candidate's deployment, and its teardown: the endpoint, then its config, each only if
 * it was created; then an asynchronous endpoint's S3 folder (its requests, answers and failures).
 */
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DeleteEndpointCommand, DeleteEndpointConfigCommand } from '@aws-sdk/client-sagemaker';

import { ModelsweepError } from '../../errors';
import { teardownSteps } from '../cloud/retry';
import { type S3Folder, s3Url, type SageMakerApi, type SageMakerCandidate, type SageMakerDeployment } from './common';

/** A candidate's endpoint and config (both named `name`); teardown deletes what `created` says exists, and `folder`'s objects. */
export function deploymentOf(
  { clients, retry }: SageMakerApi,
  c: SageMakerCandidate,
  name: string,
  modelName: string | undefined,
  created: { config: boolean; endpoint: boolean },
  folder?: S3Folder,
): SageMakerDeployment {
  const { sagemaker, s3 } = clients(c.region);
  return {
    region: c.region,
    endpointName: name,
    endpointConfigName: name,
    ...(modelName ? { modelName } : {}),
    ...(folder ? { s3Folder: folder } : {}),
    candidate: c,
    candidateId: c.id,
    teardown: () =>
      teardownSteps(
        [
          ...(created.endpoint
            ? ([[`delete endpoint ${name}`, () => sagemaker.send(new DeleteEndpointCommand({ EndpointName: name }))]] as const)
            : []),
          ...(created.config
            ? ([[`delete endpoint config ${name}`, () => sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name }))]] as const)
            : []),
          ...(folder ? ([[`delete ${s3Url(folder)}`, () => emptyFolder(s3, folder)]] as const) : []),
        ],
        retry,
      ),
  };
}

/**
 * Deletes every object under the folder, a page (1,000 keys) at a time; an empty or missing folder
 * is fine. Each page is listed from the start: what was listed is deleted, so the next listing
 * begins where the last one ended.
 */
export async function emptyFolder(s3: S3Client, { bucket, prefix }: S3Folder): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length === 0) return;
    const { Errors = [] } = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    if (Errors.length > 0)
      throw new ModelsweepError(
        'platform',
        `${Errors.length} objects under s3://${bucket}/${prefix} not deleted: ${Errors[0]!.Key} ${Errors[0]!.Code}`,
      );
    if (!page.IsTruncated) return;
  }
}
