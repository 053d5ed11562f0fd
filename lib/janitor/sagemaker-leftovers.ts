import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  ListTagsCommand,
  paginateListEndpointConfigs,
  paginateListEndpoints,
  paginateListModels,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';

import { ownerFromTags } from '../targets/cloud/resource-tags';
import { removeIdempotently, retrying, type RetryOptions } from '../targets/cloud/retry';
import type { Leftover, LeftoverFinder } from './janitor';

/** Every name the SageMaker adapter gives starts with this. */
const NAME_PREFIX = 'ms-';

/**
 * SageMaker endpoints, endpoint configs and models a sweep left in one region (found by the
 * adapter's name prefix, claimed only by their tags), endpoints first.
 */
export function sageMakerLeftovers(client: SageMakerClient, region: string, retry: RetryOptions = {}): LeftoverFinder {
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
      for await (const page of paginateListEndpointConfigs({ client }, { NameContains: NAME_PREFIX })) {
        for (const c of page.EndpointConfigs ?? []) {
          if (!c.EndpointConfigName?.startsWith(NAME_PREFIX)) continue;
          found.push(
            await claim('SageMaker endpoint config', c.EndpointConfigName, c.EndpointConfigArn!, () =>
              client.send(new DeleteEndpointConfigCommand({ EndpointConfigName: c.EndpointConfigName })),
            ),
          );
        }
      }
      for await (const page of paginateListModels({ client }, { NameContains: NAME_PREFIX })) {
        for (const m of page.Models ?? []) {
          if (!m.ModelName?.startsWith(NAME_PREFIX)) continue;
          found.push(await claim('SageMaker model', m.ModelName, m.ModelArn!, () => client.send(new DeleteModelCommand({ ModelName: m.ModelName }))));
        }
      }
      return found.filter((l): l is Leftover => l !== undefined);
    },
  };
}
