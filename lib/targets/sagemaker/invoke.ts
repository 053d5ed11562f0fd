/** Invoking a SageMaker candidate (InvokeEndpoint, its response stream, or an asynchronous queue), and what CloudWatch said of each phase. */
import { type CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

import { type AnswerOutcome, type InvokeOutcome, type Invoker, type Payload, payloadBytes } from '../../load/invoker';
import type { PhaseResult, ServerMetric } from '../../load/phase';
import type { TargetAdapter } from '../adapter';
import { sageMakerStreamInvoker } from '../aws-streaming-invokers';
import { realSleep } from '../cloud/retry';
import { sageMakerAsyncInvoker, sdkFailure } from './async-invoker';
import { type SageMakerApi, type SageMakerCandidate, type SageMakerDeployment, VARIANT } from './common';

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

/** The adapter's invoke half: {@link TargetAdapter}'s invoker and serverMetrics. */
export function sageMakerInvokeSteps(
  kind: SageMakerCandidate['kind'],
  { options, clients, call }: SageMakerApi,
): Pick<TargetAdapter<SageMakerDeployment>, 'invoker' | 'serverMetrics'> {
  return {
    invoker(deployment, context) {
      const { runtime, s3 } = clients(deployment.region);
      const { candidate } = deployment;
      if (candidate.kind === 'sagemaker-async' && deployment.s3Folder)
        return sageMakerAsyncInvoker(runtime, s3, {
          endpointName: deployment.endpointName,
          folder: deployment.s3Folder,
          accept: candidate.accept,
          timeoutMs: context.timeoutMs,
          answerPollMs: options.answerPollMs ?? 1000,
          sleep: options.sleep,
        });
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
  };
}

const OK: InvokeOutcome = { ok: true };

/** InvokeEndpoint per request; a model's own error (ModelError) and SageMaker's refusals count by name. */
export function sageMakerInvoker(runtime: SageMakerRuntimeClient, endpointName: string, accept: string, timeoutMs: number): Invoker {
  const send = async (payload: Payload): Promise<AnswerOutcome> => {
    try {
      const response = await runtime.send(
        new InvokeEndpointCommand({ EndpointName: endpointName, ContentType: payload.contentType, Accept: accept, Body: payloadBytes(payload) }),
        {
          abortSignal: AbortSignal.timeout(timeoutMs),
        },
      );
      return { ok: true, body: response.Body ?? new Uint8Array() };
    } catch (error) {
      return { ok: false, failure: sdkFailure(error) };
    }
  };
  return {
    async invoke(payload: Payload): Promise<InvokeOutcome> {
      const outcome = await send(payload);
      return outcome.ok ? OK : outcome;
    },
    answer: send,
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
