import type { Candidate } from '../spec/expand';
import type { TargetAdapter } from './adapter';
import { azureMlAdapter } from './azureml-target';
import { httpTarget } from './http-target';
import { lambdaAdapter } from './lambda-target';
import { localTarget } from './local-target';
import { sageMakerRealtimeAdapter, sageMakerServerlessAdapter } from './sagemaker-target';

export type AdapterSet = Partial<Record<Candidate['kind'], TargetAdapter<any>>>;

/** An adapter for every candidate kind, with real SDK clients (created on first use). */
export function defaultAdapters(): AdapterSet {
  return {
    http: httpTarget,
    local: localTarget,
    'sagemaker-realtime': sageMakerRealtimeAdapter(),
    'sagemaker-serverless': sageMakerServerlessAdapter(),
    lambda: lambdaAdapter(),
    azureml: azureMlAdapter(),
  };
}
