import type { TargetAdapter } from '../adapter';
import { KIND_RULES } from '../kind-rules';
import { type SageMakerAdapterOptions, sageMakerApi, type SageMakerCandidate, type SageMakerDeployment } from './common';
import { sageMakerDeploySteps } from './deploy';
import { sageMakerInvokeSteps } from './invoke';
import { sweepModels } from './models';
import { sageMakerPricing } from './price';

/**
 * SageMaker endpoints, real-time, serverless or asynchronous: one model per distinct model definition per
 * sweep (deleted when the sweep ends), and per candidate an endpoint config and an endpoint,
 * deleted at teardown (with an asynchronous endpoint's S3 folder). Every resource is tagged with the
 * sweep, the candidate and an expiry.
 */
function sageMakerAdapter(kind: SageMakerCandidate['kind'], options: SageMakerAdapterOptions = {}): TargetAdapter<SageMakerDeployment> {
  const api = sageMakerApi(options);
  const models = sweepModels(api);
  return {
    kind,
    ...KIND_RULES[kind],
    ...sageMakerDeploySteps(kind, api, models),
    ...sageMakerInvokeSteps(kind, api),
    releaseSharedResources: models.release,
    ...sageMakerPricing,
  };
}

export const sageMakerRealtimeAdapter = (options?: SageMakerAdapterOptions) => sageMakerAdapter('sagemaker-realtime', options);
export const sageMakerServerlessAdapter = (options?: SageMakerAdapterOptions) => sageMakerAdapter('sagemaker-serverless', options);
/** Asynchronous endpoints, for offline jobs: measured by how fast their queue drains at saturation. */
export const sageMakerAsyncAdapter = (options?: SageMakerAdapterOptions) => sageMakerAdapter('sagemaker-async', options);
