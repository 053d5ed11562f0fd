import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointConfigCommand,
  DescribeTransformJobCommand,
  ListTagsCommand,
  paginateListEndpointConfigs,
  paginateListEndpoints,
  paginateListModels,
  paginateListTransformJobs,
  type SageMakerClient,
  StopTransformJobCommand,
} from '@aws-sdk/client-sagemaker';

import { ownerFromTags } from '../targets/cloud/resource-tags';
import { removeIdempotently, retrying, type RetryOptions } from '../targets/cloud/retry';
import { folderOfOutput, type S3Folder, s3Url } from '../targets/sagemaker/common';
import { emptyFolder } from '../targets/sagemaker/teardown';
import type { Leftover, LeftoverFinder } from './janitor';

/** Every name the SageMaker adapter gives starts with this. */
const NAME_PREFIX = 'ms-';

/**
 * SageMaker endpoints, endpoint configs, running transform jobs and models a sweep left in one
 * region (found by the adapter's name prefix, claimed only by their tags), endpoints first; and,
 * given an S3 client, the S3 folder of an asynchronous endpoint whose config was left (its
 * requests and answers) or of a transform job (its sample and output).
 */
export function sageMakerLeftovers(client: SageMakerClient, region: string, retry: RetryOptions = {}, s3?: S3Client): LeftoverFinder {
  const call = retrying(retry);
  const tagsOf = async (arn: string) => {
    const { Tags = [] } = await call(() => client.send(new ListTagsCommand({ ResourceArn: arn })));
    return Object.fromEntries(Tags.map((t) => [t.Key ?? '', t.Value]));
  };
  const claim = async (kind: string, name: string, arn: string, remove: () => Promise<unknown>): Promise<Leftover | undefined> => {
    const owner = ownerFromTags(await tagsOf(arn));
    return owner && { kind, name: `${region}/${name}`, owner, action: 'delete', remove: () => removeIdempotently(remove, retry) };
  };

  return {
    where: `SageMaker in ${region}`,
    async find() {
      const found: Array<Leftover | undefined> = [];
      for await (const page of paginateListEndpoints({ client }, { NameContains: NAME_PREFIX })) {
        for (const e of page.Endpoints ?? []) {
          if (!e.EndpointName?.startsWith(NAME_PREFIX) || e.EndpointStatus === 'Deleting') continue;
          found.push(
            await claim('SageMaker endpoint', e.EndpointName, e.EndpointArn!, () =>
              client.send(new DeleteEndpointCommand({ EndpointName: e.EndpointName })),
            ),
          );
        }
      }
      const folders: Array<Leftover | undefined> = [];
      for await (const page of paginateListEndpointConfigs({ client }, { NameContains: NAME_PREFIX })) {
        for (const c of page.EndpointConfigs ?? []) {
          if (!c.EndpointConfigName?.startsWith(NAME_PREFIX)) continue;
          const config = await claim('SageMaker endpoint config', c.EndpointConfigName, c.EndpointConfigArn!, () =>
            client.send(new DeleteEndpointConfigCommand({ EndpointConfigName: c.EndpointConfigName })),
          );
          found.push(config);
          if (config && s3) folders.push(await asyncFolderOf(c.EndpointConfigName, config));
        }
      }
      // A transform job cannot be deleted: one still running is stopped, and the folder it read and wrote emptied.
      for await (const page of paginateListTransformJobs({ client }, { NameContains: NAME_PREFIX })) {
        for (const j of page.TransformJobSummaries ?? []) {
          if (!j.TransformJobName?.startsWith(NAME_PREFIX)) continue;
          const running = j.TransformJobStatus === 'InProgress';
          const owner = ownerFromTags(await tagsOf(j.TransformJobArn!));
          if (!owner) continue;
          if (running)
            found.push({
              kind: 'SageMaker transform job',
              name: `${region}/${j.TransformJobName}`,
              owner,
              action: 'stop',
              remove: () => removeIdempotently(() => client.send(new StopTransformJobCommand({ TransformJobName: j.TransformJobName })), retry),
            });
          if (s3) folders.push(await transformFolderOf(j.TransformJobName, owner, running));
        }
      }
      // After the configs and jobs: what they point to goes once nothing can write there.
      found.push(...folders);
      for await (const page of paginateListModels({ client }, { NameContains: NAME_PREFIX })) {
        for (const m of page.Models ?? []) {
          if (!m.ModelName?.startsWith(NAME_PREFIX)) continue;
          found.push(await claim('SageMaker model', m.ModelName, m.ModelArn!, () => client.send(new DeleteModelCommand({ ModelName: m.ModelName }))));
        }
      }
      return found.filter((l): l is Leftover => l !== undefined);
    },
  };

  /**
   * A transform job's folder (`…/<sweep>/<candidate>/`, the parent of its `out`), claimed with the
   * job's owner: always while the job runs, and after it only while objects are left (SageMaker
   * lists ended jobs for ever, and most folders were emptied by their sweep).
   */
  async function transformFolderOf(name: string, owner: Leftover['owner'], running: boolean): Promise<Leftover | undefined> {
    const described = await call(() => client.send(new DescribeTransformJobCommand({ TransformJobName: name })));
    const output = described?.TransformOutput?.S3OutputPath;
    const folder = output ? folderOfOutput(output) : undefined;
    if (!folder) return undefined;
    if (!running) {
      const { KeyCount = 0 } = await call(() => s3!.send(new ListObjectsV2Command({ Bucket: folder.bucket, Prefix: folder.prefix, MaxKeys: 1 })));
      if (KeyCount === 0) return undefined;
    }
    return folderLeftover('S3 folder of a transform job', folder, owner);
  }

  function folderLeftover(kind: string, folder: S3Folder, owner: Leftover['owner']): Leftover {
    return { kind, name: s3Url(folder), owner, action: 'delete', remove: () => removeIdempotently(() => emptyFolder(s3!, folder), retry) };
  }

  /** An asynchronous config's folder (`…/<sweep>/<candidate>/`, the parent of its `out`), claimed with the config's owner. */
  async function asyncFolderOf(name: string, config: Leftover): Promise<Leftover | undefined> {
    const described = await call(() => client.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name })));
    const output = described?.AsyncInferenceConfig?.OutputConfig?.S3OutputPath;
    const folder = output ? folderOfOutput(output) : undefined;
    return folder && folderLeftover('S3 folder of an asynchronous endpoint', folder, config.owner);
  }
}
