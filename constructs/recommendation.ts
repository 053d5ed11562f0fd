import { Annotations, Size } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

import { parseRecommendation, type Recommendation, recommendationContextKey, recommendationParameterName } from '../lib/apply/recommendation';

export type { Recommendation } from '../lib/apply/recommendation';

/** Where `modelsweep apply` wrote the recommendation. */
export enum RecommendationSource {
  /** A `modelsweep:recommendation:<model>` entry in cdk.context.json (`modelsweep apply <sweepId>`). */
  CONTEXT = 'context',
  /** The SSM parameter `/modelsweep/<model>/recommendation` (`modelsweep apply <sweepId> --stack <name>`), looked up at synth. */
  SSM_PARAMETER = 'ssm',
}

/**
 * A model's recommended configuration, as `modelsweep apply` wrote it, for the endpoint constructs:
 * `new LambdaModelFunction(this, 'Model', { code, ...ModelRecommendation.of(this, 'demo').lambdaProps(defaults) })`.
 * Without a recommendation (or with one of another kind) the defaults are used, with a warning.
 */
export class ModelRecommendation {
  /** @param source @default RecommendationSource.CONTEXT */
  static of(scope: Construct, model: string, source: RecommendationSource = RecommendationSource.CONTEXT): ModelRecommendation {
    if (source === RecommendationSource.CONTEXT) {
      const key = recommendationContextKey(model);
      const value = scope.node.tryGetContext(key);
      return new ModelRecommendation(scope, model, value === undefined ? undefined : parseRecommendation(value, `context ${key}`));
    }
    const name = recommendationParameterName(model);
    const value = ssm.StringParameter.valueFromLookup(scope, name);
    // Before the lookup has run (or without credentials) CDK hands back a placeholder.
    return new ModelRecommendation(
      scope,
      model,
      value.startsWith('dummy-value-for-') ? undefined : parseRecommendation(value, `SSM parameter ${name}`),
    );
  }

  private constructor(
    private readonly scope: Construct,
    readonly model: string,
    /** What was applied, if anything. */
    readonly recommendation: Recommendation | undefined,
  ) {}

  /** `memorySize` and `architecture` for a LambdaModelFunction. */
  lambdaProps(defaults: { memorySize: Size; architecture: lambda.Architecture }): { memorySize: Size; architecture: lambda.Architecture } {
    const c = this.configurationFor('lambda');
    if (!c) return defaults;
    return {
      memorySize: Size.mebibytes(c.memorySizeMb as number),
      architecture: c.architecture === 'x86_64' ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64,
    };
  }

  /** `instanceType` and `initialInstanceCount` (the instances the forecast needs) for a SageMakerEndpoint variant. */
  sageMakerVariant(defaults: { instanceType: string; initialInstanceCount: number }): { instanceType: string; initialInstanceCount: number } {
    const c = this.configurationFor('sagemaker-realtime');
    if (!c) return defaults;
    return { instanceType: c.instanceType as string, initialInstanceCount: this.recommendation!.instances ?? (c.instanceCount as number) };
  }

  /** `memorySize`, `maxConcurrency` and `provisionedConcurrency` for a SageMakerServerlessEndpoint. */
  serverlessProps(defaults: { memorySize: Size; maxConcurrency: number; provisionedConcurrency?: number }): {
    memorySize: Size;
    maxConcurrency: number;
    provisionedConcurrency?: number;
  } {
    const c = this.configurationFor('sagemaker-serverless');
    if (!c) return defaults;
    const provisioned = c.provisionedConcurrency as number;
    return {
      memorySize: Size.mebibytes(c.memorySizeMb as number),
      maxConcurrency: c.maxConcurrency as number,
      ...(provisioned > 0 ? { provisionedConcurrency: provisioned } : {}),
    };
  }

  /**
   * `instanceType`, the instances an offline job needs by its deadline (for `scaleToZero.maxCapacity`)
   * and `maxConcurrentInvocationsPerInstance` for a SageMakerAsyncEndpoint.
   */
  asyncProps(defaults: { instanceType: string; instances: number; maxConcurrentInvocationsPerInstance?: number }): {
    instanceType: string;
    instances: number;
    maxConcurrentInvocationsPerInstance?: number;
  } {
    const c = this.configurationFor('sagemaker-async');
    if (!c) return defaults;
    const concurrency = c.maxConcurrentInvocationsPerInstance as number | undefined;
    return {
      instanceType: c.instanceType as string,
      instances: this.recommendation!.instances ?? (c.instanceCount as number),
      ...(concurrency !== undefined ? { maxConcurrentInvocationsPerInstance: concurrency } : {}),
    };
  }

  /**
   * `instanceType`, `instanceCount` (the instances that end the job by its deadline),
   * `maxConcurrentTransforms`, `maxPayload` and `batchStrategy` for a BatchInferenceJob.
   */
  transformProps(defaults: {
    instanceType: string;
    instanceCount: number;
    maxConcurrentTransforms?: number;
    maxPayload?: Size;
    batchStrategy?: tasks.BatchStrategy;
  }): { instanceType: string; instanceCount: number; maxConcurrentTransforms?: number; maxPayload?: Size; batchStrategy?: tasks.BatchStrategy } {
    const c = this.configurationFor('sagemaker-batch-transform');
    if (!c) return defaults;
    const concurrency = c.maxConcurrentTransforms as number | undefined;
    return {
      instanceType: c.instanceType as string,
      instanceCount: this.recommendation!.instances ?? 1,
      ...(concurrency !== undefined ? { maxConcurrentTransforms: concurrency } : {}),
      maxPayload: Size.mebibytes(c.maxPayloadInMb as number),
      batchStrategy: c.batchStrategy === 'SingleRecord' ? tasks.BatchStrategy.SINGLE_RECORD : tasks.BatchStrategy.MULTI_RECORD,
    };
  }

  private configurationFor(kind: Recommendation['kind']): Record<string, unknown> | undefined {
    const r = this.recommendation;
    if (!r) {
      Annotations.of(this.scope).addInfo(
        `no modelsweep recommendation for model ${this.model}: using the defaults (run \`modelsweep apply <sweepId>\`)`,
      );
      return undefined;
    }
    if (r.kind !== kind) {
      Annotations.of(this.scope).addWarningV2(
        'modelsweep:other-kind',
        `the modelsweep recommendation for model ${this.model} is ${r.candidate} (${r.kind}), not a ${kind} configuration: using the defaults`,
      );
      return undefined;
    }
    Annotations.of(this.scope).addInfo(`modelsweep: ${this.model} uses ${r.candidate} from sweep ${r.sweepId}`);
    return r.configuration;
  }
}
