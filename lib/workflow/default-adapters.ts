import type { Candidate } from '../spec/expand';
import type { TargetAdapter } from '../targets/adapter';
import { azureMlAdapter } from '../targets/azureml-target';
import { httpTarget } from '../targets/http-target';
import { lambdaAdapter } from '../targets/lambda/adapter';
import { localTarget } from '../targets/local-target';
import { sageMakerAsyncAdapter, sageMakerRealtimeAdapter, sageMakerServerlessAdapter } from '../targets/sagemaker/adapter';
import { sageMakerTransformAdapter } from '../targets/sagemaker/transform-job';

export type AdapterSet = Partial<Record<Candidate['kind'], TargetAdapter<any>>>;

export interface DefaultAdapterOptions {
  /** Between checks that a SageMaker endpoint or an Azure ML deployment is ready (or gone). @default 15000 */
  readonly provisioningPollMs?: number;
}

/** An adapter for every candidate kind, with real SDK clients (created on first use). */
export function defaultAdapters(options: DefaultAdapterOptions = {}): AdapterSet {
  const poll = options.provisioningPollMs !== undefined ? { pollIntervalMs: options.provisioningPollMs } : {};
  return {
    http: httpTarget,
    local: localTarget,
    'sagemaker-realtime': sageMakerRealtimeAdapter(poll),
    'sagemaker-serverless': sageMakerServerlessAdapter(poll),
    'sagemaker-async': sageMakerAsyncAdapter(poll),
    'sagemaker-batch-transform': sageMakerTransformAdapter(poll),
    lambda: lambdaAdapter(),
    azureml: azureMlAdapter(poll),
  };
}
