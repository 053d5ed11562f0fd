/** A SageMaker candidate's deployment, and its teardown: the endpoint, then its config, each only if it was created. */
import { DeleteEndpointCommand, DeleteEndpointConfigCommand } from '@aws-sdk/client-sagemaker';

import { teardownSteps } from '../cloud/retry';
import type { SageMakerApi, SageMakerCandidate, SageMakerDeployment } from './common';

/** A candidate's endpoint and config (both named `name`); teardown deletes what `created` says exists. */
export function deploymentOf(
  { clients, retry }: SageMakerApi,
  c: SageMakerCandidate,
  name: string,
  modelName: string | undefined,
  created: { config: boolean; endpoint: boolean },
): SageMakerDeployment {
  const { sagemaker } = clients(c.region);
  return {
    region: c.region,
    endpointName: name,
    endpointConfigName: name,
    ...(modelName ? { modelName } : {}),
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
        ],
        retry,
      ),
  };
}
