import { stringify } from 'yaml';

import { PriceBook } from '../../lib/cost/price-book';
import { runSweep, type RunSweepOptions, type SweepOutcome } from '../../lib/local/run-sweep';
import type { SweepResults } from '../../lib/report/sweep-results';
import { loadSweepResults } from '../../lib/report/write-report';
import { parseSpec } from '../../lib/spec/load-spec';
import { startLocalDynamo } from '../../lib/store/local-dynamo';
import { ResultsStore } from '../../lib/store/results-store';
import type { AdapterSet } from '../../lib/workflow/default-adapters';

export const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/model-server:1';
export const ROLE = 'arn:aws:iam::123456789012:role/sagemaker-exec';

/** A small sweep spec around the given candidate groups: one short open phase, no warmup, every candidate deployed. */
export function cloudSpec(candidates: unknown[], extra: Record<string, unknown> = {}) {
  return {
    name: 'cloud-test',
    model: { name: 'demo' },
    payloads: [{ body: '{"instances":[[1,2,3]]}' }],
    candidates,
    // About 100 requests: enough to size instances from (see MIN_REQUESTS_TO_SIZE).
    load: { phases: [{ mode: 'open', rate: 250, duration: '400ms' }], timeout: '2s' },
    slo: { percentile: 95, latencyMs: 200, maxErrorRate: 0.05 },
    traffic: { averageRps: 10, peakRps: 30 },
    // Adapter tests follow every candidate through deploy, measure and delete: none may be skipped.
    candidateSearch: { mode: 'exhaustive' },
    ...extra,
  };
}

/** Runs a sweep in process against an in-memory dynalite, with the given adapters. */
export async function runCloudSweep(
  spec: unknown,
  adapters: AdapterSet,
  options: Partial<RunSweepOptions> = {},
): Promise<SweepOutcome & { stored: number; results: SweepResults | undefined }> {
  const dynamo = await startLocalDynamo({ tableName: 'results' });
  try {
    const store = new ResultsStore(dynamo.client, 'results');
    const outcome = await runSweep(parseSpec(stringify(spec), 'spec.yaml', '/'), {
      store,
      prices: PriceBook.snapshot(),
      adapters,
      sleep: async () => {},
      readyPollMs: 0,
      ...options,
    });
    return {
      ...outcome,
      stored: (await store.listCandidateResults(outcome.sweepId)).length,
      results: await loadSweepResults(store, outcome.sweepId),
    };
  } finally {
    await dynamo.close();
  }
}

/**
 * A deployment registry that keeps nothing: every workflow step must find its deployment again
 * from the handle, as when each step runs in its own Lambda invocation.
 */
export class ForgetfulRegistry<V> extends Map<string, V> {
  override set(): this {
    return this;
  }
}

/** Commands sent to mocked SDK clients, in order across clients: [name, input]. */
export type CommandLog = Array<[string, Record<string, any>]>;

/** An AWS SDK error as a service returns it: its name and HTTP status. */
export const awsError = (name: string, message = name, status = 400) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

/** A mock's answer that first records the command in `log`: `client.on(Command).callsFake(loggedTo(log)('Command', answer))`. */
export const loggedTo =
  (log: CommandLog) =>
  (name: string, answer: (input: any) => unknown = () => ({})) =>
  (input: any) => {
    log.push([name, input]);
    return answer(input);
  };

/** Names of resources created and deleted, from a command log: every Create has its Delete. */
export function createdAndDeleted(log: CommandLog, nameField: (input: Record<string, any>) => string | undefined) {
  const created = log.filter(([c]) => c.startsWith('Create')).map(([c, i]) => `${c.slice(6)}:${nameField(i)}`);
  const deleted = log.filter(([c]) => c.startsWith('Delete')).map(([c, i]) => `${c.slice(6)}:${nameField(i)}`);
  return { created: [...new Set(created)].sort(), deleted: [...new Set(deleted)].sort() };
}
