import { request } from 'undici';

import { ModelsweepError } from '../errors';
import { httpInvoker } from '../load/http-invoker';
import { openAiStreamInvoker } from '../load/openai-stream-invoker';
import type { OpenAiApi } from '../load/streaming-apis';
import type { Candidate } from '../spec/expand';
import { type AdapterContext, CandidateError, type Deployment, hourlyMeasurementCost, type TargetAdapter } from './adapter';
import { KIND_RULES } from './kind-rules';
import { loopbackListenerPids } from './loopback-listener';

type HttpCandidate = Extract<Candidate, { kind: 'http' }>;

interface HttpDeployment extends Deployment {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly api?: OpenAiApi;
}

const asHttp = (c: Candidate): HttpCandidate => {
  if (c.kind !== 'http') throw new ModelsweepError('invalid-input', `the http adapter cannot run a ${c.kind} candidate`);
  return c;
};

/** An endpoint that already runs somewhere: nothing to deploy or remove; its cost is what the user says. */
export const httpTarget: TargetAdapter<HttpDeployment> = {
  kind: 'http',
  ...KIND_RULES.http,
  async deploy(candidate) {
    return httpTarget.attach!(candidate, {}, undefined as never);
  },
  // Everything is in the candidate: any process can reach the endpoint.
  handleOf: () => ({}),
  attach(candidate) {
    const c = asHttp(candidate);
    return { candidateId: c.id, url: c.url, headers: c.headers, ...(c.api ? { api: c.api } : {}), teardown: async () => {} };
  },
  /** Any HTTP answer means the endpoint is there; a refused or unanswered connection is a failure. */
  async waitReady(deployment) {
    try {
      const response = await request(deployment.url, { method: 'HEAD', headers: deployment.headers, signal: AbortSignal.timeout(5_000) });
      await response.body.dump();
    } catch (error) {
      const why = (error as { code?: string }).code ?? (error as Error).name;
      throw new CandidateError('failed', `cannot reach ${deployment.url} (${why})`, { cause: error });
    }
  },
  invoker(deployment: HttpDeployment, context: AdapterContext) {
    if (deployment.api)
      return openAiStreamInvoker({ url: deployment.url, api: deployment.api, headers: deployment.headers, timeoutMs: context.timeoutMs });
    return httpInvoker({ url: deployment.url, headers: deployment.headers, timeoutMs: context.timeoutMs, connections: 64 });
  },
  // An endpoint on this machine shares it with the generator: its server's CPU is told apart from other processes'.
  processIds: (deployment) => loopbackListenerPids(deployment.url),
  costPerInstanceHour: (candidate) => asHttp(candidate).costPerHour,
  estimateMeasurementCost: (candidate, plan) => hourlyMeasurementCost(asHttp(candidate).costPerHour, plan, 0, candidate.id),
};
