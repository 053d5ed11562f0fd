import { createHash } from 'node:crypto';

import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  type ProductionVariant,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

import { requestsPerMonth, serverlessMonthlyCost } from '../cost/estimate';
import { ModelsweepError } from '../errors';
import { type InvokeOutcome, type Invoker, type Payload, payloadBytes } from '../load/invoker';
import type { PhaseResult, ServerMetric } from '../load/phase';
import type { Candidate } from '../spec/expand';
import { type AdapterContext, CandidateError, type Deployment, hourlyMeasurementCost, type TargetAdapter } from './adapter';
import { sageMakerStreamInvoker } from './aws-streaming-invokers';
import { checkAwsAccess, regionOf } from './cloud/aws-access';
import { ownerTagList, resourceName, type ResourceOwner } from './cloud/resource-tags';
import { classify, isQuota, pollUntil, realSleep, rethrowAsFailed, retrying, type RetryOptions, retryOptionsOf, teardownSteps } from './cloud/retry';
import { KIND_RULES } from './kind-rules';

type RealtimeCandidate = Extract<Candidate, { kind: 'sagemaker-realtime' }>;
type ServerlessCandidate = Extract<Candidate, { kind: 'sagemaker-serverless' }>;
type SageMakerCandidate = RealtimeCandidate | ServerlessCandidate;

export interface SageMakerClients {
  readonly sagemaker: SageMakerClient;
  readonly runtime: SageMakerRuntimeClient;
  readonly cloudwatch: CloudWatchClient;
}

export interface SageMakerAdapterOptions {
  /** Clients for a region. @default new SDK clients, one set per region */
  readonly clients?: (region: string | undefined) => SageMakerClients;
  /** Between DescribeEndpoint calls. @default 15000 */
  readonly pollIntervalMs?: number;
  /** Longest wait for InService. @default 1800000 (30 min) */
  readonly readyTimeoutMs?: number;
  /** CloudWatch publishes a minute's data points a minute or two later: wait this long after a phase before reading them. @default 120000 */
  readonly metricsSettleMs?: number;
  /** Throttling retries. */
  readonly retry?: RetryOptions;
  /** Injected in tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const VARIANT = 'AllTraffic';

interface SageMakerDeployment extends Deployment {
  readonly region: string | undefined;
  readonly endpointName: string;
  readonly endpointConfigName: string;
  readonly modelName?: string;
  readonly candidate: SageMakerCandidate;
}

const asSageMaker = (c: Candidate): SageMakerCandidate => {
  if (c.kind !== 'sagemaker-realtime' && c.kind !== 'sagemaker-serverless')
    throw new ModelsweepError('invalid-input', `the SageMaker adapter cannot run a ${c.kind} candidate`);
  return c;
};

/** The metrics read after each phase: namespace, name, unit as published, and a scale to ms where it is a latency. */
const METRICS = [
  { namespace: 'AWS/SageMaker', name: 'ModelLatency', unit: 'ms', scale: 1 / 1000 },
  { namespace: 'AWS/SageMaker', name: 'OverheadLatency', unit: 'ms', scale: 1 / 1000 },
  { namespace: 'AWS/SageMaker', name: 'ModelSetupTime', unit: 'ms', scale: 1 / 1000, serverlessOnly: true },
  { namespace: '/aws/sagemaker/Endpoints', name: 'CPUUtilization', unit: 'percent', scale: 1 },
  { namespace: '/aws/sagemaker/Endpoints', name: 'MemoryUtilization', unit: 'percent', scale: 1 },
  { namespace: '/aws/sagemaker/Endpoints', name: 'GPUUtilization', unit: 'percent', scale: 1 },
  { namespace: '/aws/sagemaker/Endpoints', name: 'GPUMemoryUtilization', unit: 'percent', scale: 1 },
] as const;

/**
 * SageMaker endpoints, real-time or serverless: one model per distinct model definition per
 * sweep (deleted when the sweep ends), and per candidate an endpoint config and an endpoint,
 * deleted at teardown. Every resource is tagged with the sweep, the candidate and an expiry.
 */
function sageMakerAdapter(kind: 'sagemaker-realtime', options?: SageMakerAdapterOptions): TargetAdapter<SageMakerDeployment>;
function sageMakerAdapter(kind: 'sagemaker-serverless', options?: SageMakerAdapterOptions): TargetAdapter<SageMakerDeployment>;
function sageMakerAdapter(kind: SageMakerCandidate['kind'], options: SageMakerAdapterOptions = {}): TargetAdapter<SageMakerDeployment> {
  const clientsByRegion = new Map<string, SageMakerClients>();
  const clients =
    options.clients ??
    ((region: string | undefined) => {
      const key = region ?? '';
      let set = clientsByRegion.get(key);
      if (!set) {
        set = {
          sagemaker: new SageMakerClient({ region }),
          runtime: new SageMakerRuntimeClient({ region }),
          cloudwatch: new CloudWatchClient({ region }),
        };
        clientsByRegion.set(key, set);
      }
      return set;
    });
  const retry = retryOptionsOf(options);
  const call = retrying(retry);
  /** Models created for each sweep, by model definition: created once, shared by its candidates. */
  const models = new Map<string, Map<string, Promise<{ name: string; region: string | undefined }>>>();

  const modelFor = (c: SageMakerCandidate, context: AdapterContext): Promise<{ name: string; region: string | undefined }> => {
    const definition = JSON.stringify([c.region, c.image, c.modelDataUrl, c.executionRoleArn, c.environment]);
    let sweepModels = models.get(context.sweepId);
    if (!sweepModels) models.set(context.sweepId, (sweepModels = new Map()));
    let model = sweepModels.get(definition);
    if (!model) {
      const owner: ResourceOwner = { sweepId: context.sweepId, createdAt: context.createdAt, expiresAt: context.expiresAt };
      // Named by its definition, so steps in other processes (Lambda invocations) share one model.
      const modelName = resourceName(
        'ms-model',
        { sweepId: context.sweepId, candidateId: createHash('sha256').update(definition).digest('hex').slice(0, 8) },
        63,
      );
      model = call(() =>
        clients(c.region).sagemaker.send(
          new CreateModelCommand({
            ModelName: modelName,
            ExecutionRoleArn: c.executionRoleArn,
            PrimaryContainer: { Image: c.image, ...(c.modelDataUrl ? { ModelDataUrl: c.modelDataUrl } : {}), Environment: { ...c.environment } },
            Tags: ownerTagList(owner),
          }),
        ),
      )
        .catch((error: Error) => {
          // Created by another step of the same sweep: the same definition, so the same model.
          if (/already exist/i.test(error.message)) return;
          throw error;
        })
        .then(() => ({ name: modelName, region: c.region }));
      sweepModels.set(definition, model);
      // A failed creation is retried by the next candidate that needs it, not cached.
      model.catch(() => sweepModels.delete(definition));
    }
    return model;
  };

  /** A candidate's endpoint and config (both named `name`); teardown deletes what `created` says exists. */
  const deploymentOf = (
    c: SageMakerCandidate,
    name: string,
    modelName: string | undefined,
    created: { config: boolean; endpoint: boolean },
  ): SageMakerDeployment => {
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
  };
  const readiness = { pollMs: options.pollIntervalMs ?? 15_000, timeoutMs: options.readyTimeoutMs ?? 30 * 60_000 };

  /** One DescribeEndpoint: true when in service, an error when it never will be. */
  const inService = async (deployment: SageMakerDeployment): Promise<boolean> => {
    const endpoint = await call(() =>
      clients(deployment.region).sagemaker.send(new DescribeEndpointCommand({ EndpointName: deployment.endpointName })),
    );
    if (endpoint.EndpointStatus === 'InService') return true;
    if (endpoint.EndpointStatus === 'Failed' || endpoint.EndpointStatus === 'OutOfService') {
      const reason = endpoint.FailureReason ?? 'no reason given';
      const logs = `logs: CloudWatch log group /aws/sagemaker/Endpoints/${deployment.endpointName}`;
      throw new CandidateError(
        isQuota({ message: reason }) ? 'unavailable' : 'failed',
        `endpoint ${deployment.endpointName} ${endpoint.EndpointStatus}: ${reason} (${logs})`,
      );
    }
    return false;
  };

  const variantOf = (c: SageMakerCandidate, modelName: string): ProductionVariant =>
    c.kind === 'sagemaker-realtime'
      ? {
          VariantName: VARIANT,
          ModelName: modelName,
          InstanceType: c.instanceType as ProductionVariant['InstanceType'],
          InitialInstanceCount: c.instanceCount,
        }
      : {
          VariantName: VARIANT,
          ModelName: modelName,
          ServerlessConfig: {
            MemorySizeInMB: c.memorySizeMb,
            MaxConcurrency: c.maxConcurrency,
            ...(c.provisionedConcurrency > 0 ? { ProvisionedConcurrency: c.provisionedConcurrency } : {}),
          },
        };

  return {
    kind,
    ...KIND_RULES[kind],

    async checkAccess(candidates) {
      const regions = new Set(candidates.map((c) => asSageMaker(c).region));
      for (const region of regions) await checkAwsAccess(clients(region).sagemaker, `${kind} candidates`);
    },

    priceKeys(candidate) {
      const c = asSageMaker(candidate);
      return [
        c.kind === 'sagemaker-realtime'
          ? { catalog: 'sagemaker-realtime', region: regionOf(c), type: c.instanceType }
          : { catalog: 'sagemaker-serverless', region: regionOf(c) },
      ];
    },

    async deploy(candidate, context) {
      const c = asSageMaker(candidate);
      const owner: ResourceOwner = { sweepId: context.sweepId, candidateId: c.id, createdAt: context.createdAt, expiresAt: context.expiresAt };
      const name = resourceName('ms', owner, 63);
      const { sagemaker } = clients(c.region);
      const created = { config: false, endpoint: false };
      let deployment = deploymentOf(c, name, undefined, created);
      try {
        const { name: modelName } = await modelFor(c, context);
        deployment = deploymentOf(c, name, modelName, created);
        await call(() =>
          sagemaker.send(
            new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [variantOf(c, modelName)], Tags: ownerTagList(owner) }),
          ),
        );
        created.config = true;
        await call(() => sagemaker.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name, Tags: ownerTagList(owner) })));
        created.endpoint = true;
        return deployment;
      } catch (error) {
        await deployment.teardown().catch(() => {});
        throw classify(error, `creating ${name}`);
      }
    },

    async waitReady(deployment, context) {
      await pollUntil(async () => ((await inService(deployment)) ? true : undefined), {
        intervalMs: readiness.pollMs,
        timeoutMs: readiness.timeoutMs,
        sleep: options.sleep,
        signal: context.signal,
        what: `endpoint ${deployment.endpointName} InService`,
      }).catch(rethrowAsFailed);
    },

    readiness,
    isReady: (deployment) => inService(deployment).catch(rethrowAsFailed),

    handleOf: (d) => ({ region: d.region ?? null, endpointName: d.endpointName, modelName: d.modelName ?? null }),

    attach(candidate, handle) {
      // Another step created both, and deleting what is already gone is fine.
      return deploymentOf(asSageMaker(candidate), String(handle.endpointName), handle.modelName ? String(handle.modelName) : undefined, {
        config: true,
        endpoint: true,
      });
    },

    invoker(deployment, context) {
      const { runtime } = clients(deployment.region);
      const { candidate } = deployment;
      return candidate.kind === 'sagemaker-realtime' && candidate.api
        ? sageMakerStreamInvoker(runtime, deployment.endpointName, candidate.api, context.timeoutMs)
        : sageMakerInvoker(runtime, deployment.endpointName, candidate.accept, context.timeoutMs);
    },

    async serverMetrics(deployment, phases) {
      if (phases.length === 0) return [];
      const lastEnd = Math.max(...phases.map((p) => Date.parse(p.startedAt) + p.durationMs));
      const settle = (options.metricsSettleMs ?? 120_000) - (Date.now() - lastEnd);
      if (settle > 0) await (options.sleep ?? realSleep)(settle);
      const metrics = METRICS.filter((m) => !('serverlessOnly' in m) || kind === 'sagemaker-serverless');
      const { cloudwatch } = clients(deployment.region);
      return Promise.all(phases.map((phase) => readPhaseMetrics(cloudwatch, deployment.endpointName, phase, metrics, call).catch(() => undefined)));
    },

    async releaseSharedResources(context, handles = []) {
      const sweepModels = models.get(context.sweepId);
      models.delete(context.sweepId);
      const created = sweepModels ? (await Promise.allSettled(sweepModels.values())).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])) : [];
      // Models that steps in other processes created, named in the candidates' handles.
      for (const h of handles) if (h.modelName) created.push({ name: String(h.modelName), region: h.region ? String(h.region) : undefined });
      const unique = [...new Map(created.map((m) => [`${m.region ?? ''}/${m.name}`, m])).values()];
      await teardownSteps(
        unique.map(
          ({ name, region }) => [`delete model ${name}`, () => clients(region).sagemaker.send(new DeleteModelCommand({ ModelName: name }))] as const,
        ),
        retry,
      );
    },

    costPerInstanceHour(candidate, prices) {
      const c = asSageMaker(candidate);
      return c.kind === 'sagemaker-realtime' ? prices.instanceHour('sagemaker-realtime', regionOf(c), c.instanceType).usd : undefined;
    },

    perRequestMonthlyCost(candidate, phase, traffic, prices) {
      const c = asSageMaker(candidate);
      if (c.kind !== 'sagemaker-serverless') throw new ModelsweepError('invalid-input', 'only serverless candidates are billed per request');
      // Serverless bills the model's compute time; the client-side mean is the fallback when CloudWatch had nothing.
      const durationMs = phase.serverMetrics?.ModelLatency?.average ?? phase.latencyMs.mean;
      return serverlessMonthlyCost(
        {
          region: regionOf(c),
          memoryMb: c.memorySizeMb,
          durationMs,
          requestsPerMonth: requestsPerMonth(traffic.averageRps, prices),
          provisionedConcurrency: c.provisionedConcurrency,
        },
        prices,
      ).monthlyUsd;
    },

    estimateMeasurementCost(candidate, plan, prices) {
      const c = asSageMaker(candidate);
      if (c.kind === 'sagemaker-realtime') {
        const hourly = prices.instanceHour('sagemaker-realtime', regionOf(c), c.instanceType).usd * c.instanceCount;
        return hourlyMeasurementCost(hourly, plan, KIND_RULES[kind].provisioningSeconds, `${c.instanceCount} × ${c.instanceType}`);
      }
      const p = prices.serverless(regionOf(c)).prices;
      const memory = String(c.memorySizeMb);
      const compute = plan.requests * (plan.assumedDurationMs / 1000) * (p.computePerSecondByMemoryMb[memory] ?? 0);
      const data = ((plan.requests * plan.meanRequestBytes) / 1024 ** 3) * p.dataProcessingPerGb;
      const provisioned =
        c.provisionedConcurrency *
        (plan.loadSeconds + KIND_RULES[kind].provisioningSeconds) *
        (p.provisionedConcurrencyPerSecondByMemoryMb?.[memory] ?? 0);
      return {
        usd: compute + data + provisioned,
        basis: `up to ${plan.requests} requests × ${plan.assumedDurationMs} ms at ${c.memorySizeMb} MB${c.provisionedConcurrency ? ` + provisioned concurrency ${c.provisionedConcurrency}` : ''}`,
      };
    },
  };
}

export const sageMakerRealtimeAdapter = (options?: SageMakerAdapterOptions) => sageMakerAdapter('sagemaker-realtime', options);
export const sageMakerServerlessAdapter = (options?: SageMakerAdapterOptions) => sageMakerAdapter('sagemaker-serverless', options);

const TIMED_OUT: InvokeOutcome = { ok: false, failure: { kind: 'timeout' } };
const OK: InvokeOutcome = { ok: true };

/** InvokeEndpoint per request; a model's own error (ModelError) and SageMaker's refusals count by name. */
export function sageMakerInvoker(runtime: SageMakerRuntimeClient, endpointName: string, accept: string, timeoutMs: number): Invoker {
  return {
    async invoke(payload: Payload): Promise<InvokeOutcome> {
      try {
        await runtime.send(
          new InvokeEndpointCommand({ EndpointName: endpointName, ContentType: payload.contentType, Accept: accept, Body: payloadBytes(payload) }),
          {
            abortSignal: AbortSignal.timeout(timeoutMs),
          },
        );
        return OK;
      } catch (error) {
        const e = error as Error & { $metadata?: { httpStatusCode?: number } };
        if (e.name === 'AbortError' || e.name === 'TimeoutError') return TIMED_OUT;
        if (e.$metadata?.httpStatusCode === undefined && (e as { code?: string }).code)
          return { ok: false, failure: { kind: 'connection', code: (e as { code?: string }).code! } };
        return { ok: false, failure: { kind: 'target', code: e.name || 'Error' } };
      }
    },
  };
}

async function readPhaseMetrics(
  cloudwatch: CloudWatchClient,
  endpointName: string,
  phase: PhaseResult,
  metrics: ReadonlyArray<(typeof METRICS)[number]>,
  call: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<Record<string, ServerMetric> | undefined> {
  const start = new Date(Date.parse(phase.startedAt));
  // Whole minutes around the phase: data points are per minute.
  const StartTime = new Date(Math.floor(start.getTime() / 60_000) * 60_000);
  const EndTime = new Date(Math.ceil((start.getTime() + phase.durationMs) / 60_000) * 60_000);
  const queries: MetricDataQuery[] = metrics.flatMap((m, i) =>
    (['Average', 'Maximum'] as const).map((stat) => ({
      Id: `m${i}${stat.toLowerCase()}`,
      MetricStat: {
        Metric: {
          Namespace: m.namespace,
          MetricName: m.name,
          Dimensions: [
            { Name: 'EndpointName', Value: endpointName },
            { Name: 'VariantName', Value: VARIANT },
          ],
        },
        Period: 60,
        Stat: stat,
      },
    })),
  );
  const { MetricDataResults = [] } = await call(() =>
    cloudwatch.send(new GetMetricDataCommand({ StartTime, EndTime, MetricDataQueries: queries, ScanBy: 'TimestampAscending' })),
  );
  const byId = new Map(MetricDataResults.map((r) => [r.Id, r.Values ?? []]));
  const result: Record<string, ServerMetric> = {};
  metrics.forEach((m, i) => {
    const averages = byId.get(`m${i}average`) ?? [];
    const maxima = byId.get(`m${i}maximum`) ?? [];
    if (averages.length === 0) return;
    result[m.name] = {
      average: (averages.reduce((a, b) => a + b, 0) / averages.length) * m.scale,
      maximum: Math.max(...(maxima.length > 0 ? maxima : averages)) * m.scale,
      unit: m.unit,
      datapoints: averages.length,
    };
  });
  return Object.keys(result).length > 0 ? result : undefined;
}
