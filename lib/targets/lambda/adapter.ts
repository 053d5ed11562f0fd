import type { TargetAdapter } from '../adapter';
import { KIND_RULES } from '../kind-rules';
import { type LambdaAdapterOptions, lambdaApi, type LambdaDeployment } from './common';
import { lambdaDeploySteps } from './deploy';
import { lambdaInvokeSteps } from './invoke';
import { lambdaPricing } from './price';

/**
 * Lambda functions, one memory × architecture candidate at a time: $LATEST is changed only long
 * enough to publish a version (tagged with what to restore, so the janitor can finish the job if
 * the sweep dies), then restored at once; the candidate is measured through an alias to its
 * version. Teardown deletes the alias and the version. Works for zip and container-image functions.
 */
export function lambdaAdapter(options: LambdaAdapterOptions = {}): TargetAdapter<LambdaDeployment> {
  const api = lambdaApi(options);
  return { kind: 'lambda', ...KIND_RULES.lambda, ...lambdaDeploySteps(api), ...lambdaInvokeSteps(api), ...lambdaPricing };
}
