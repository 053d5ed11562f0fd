import type { S3Client } from '@aws-sdk/client-s3';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointConfigCommand,
  ListTagsCommand,
  paginateListEndpointConfigs,
  paginateListEndpoints,
  paginateListModels,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';

import { ownerFromTags } from '../targets/cloud/resource-tags';
import { removeIdempotently, retrying, type RetryOptions } from '../targets/cloud/retry';
import { asyncFolderOfOutput, s3Url } from '../targets/sagemaker/common';
import { emptyFolder } from '../targets/sagemaker/teardown';
import type { Leftover, LeftoverFinder } from './janitor';

/** Every name the SageMaker adapter gives starts with this. */
const NAME_PREFIX = 'ms-';

/**
 * SageMaker endpoints, endpoint configs and models a sweep left in one region (found by the
 * adapter's name prefix, claimed only by their tags), endpoints first; and, given an S3 client,
 * the S3 folder of an asynchronous endpoint whose config was left (its requests and answers).
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
      // After the configs: what they point to goes once nothing can write there.
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

  /** An asynchronous config's folder (`…/<sweep>/<candidate>/`, the parent of its `out`), claimed with the config's owner. */
  async function asyncFolderOf(name: string, config: Leftover): Promise<Leftover | undefined> {
    const described = await call(() => client.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name })));
    const output = described?.AsyncInferenceConfig?.OutputConfig?.S3OutputPath;
    const folder = output ? asyncFolderOfOutput(output) : undefined;
    if (!folder) return undefined;
    return {
      kind: 'S3 folder of an asynchronous endpoint',
      name: s3Url(folder),
      owner: config.owner,
      action: 'delete',
      remove: () => removeIdempotently(() => emptyFolder(s3!, folder), retry),
    };
  }
}
