/** Invoking a Lambda candidate: through its alias, at most its concurrency at once, with Lambda's billed duration from the log tail. */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

import { type AnswerOutcome, type InvokeOutcome, type Invoker, type Payload, payloadBytes } from '../../load/invoker';
import { Semaphore } from '../../util/semaphore';
import { CandidateError, type TargetAdapter } from '../adapter';
import { lambdaStreamInvoker } from '../aws-streaming-invokers';
import { platformFieldsOfLogTail } from '../lambda-log-metrics';
import type { LambdaApi, LambdaDeployment } from './common';

/** Failures that mean the code cannot execute on the architecture it was given. */
const WRONG_ARCHITECTURE = /exec format error|invalid ELF header|wrong ELF class|ELF file's architecture|cannot execute binary file/i;
export const UNSUPPORTED_ARCHITECTURE = 'UnsupportedArchitecture';

/** The adapter's invoke half: {@link TargetAdapter}'s invoker, and which failures mean the candidate cannot run at all. */
export function lambdaInvokeSteps({ clients }: LambdaApi): Pick<TargetAdapter<LambdaDeployment>, 'invoker' | 'unrunnable'> {
  return {
    invoker(deployment, context) {
      const client = clients(deployment.region);
      const limit = concurrencyLimit(deployment.maxParallelInvocations);
      return deployment.api
        ? lambdaStreamInvoker(client, deployment.functionName, deployment.alias, deployment.api, limit, context.timeoutMs)
        : lambdaInvoker(client, deployment.functionName, deployment.alias, limit, context.timeoutMs);
    },

    unrunnable(failure) {
      if (failure.kind === 'target' && failure.code === UNSUPPORTED_ARCHITECTURE) {
        return new CandidateError('unavailable', "the function's code cannot run on this architecture (its binaries are built for the other one)");
      }
      return undefined;
    },
  };
}

const TIMED_OUT: InvokeOutcome = { ok: false, failure: { kind: 'timeout' } };

/**
 * Runs at most `maxParallel` of the calls it is given at once; the rest wait their turn, in order.
 * Lambda invocations go through it, so a phase never bursts past the function's concurrency.
 */
export function concurrencyLimit(maxParallel: number): <T>(fn: () => Promise<T>) => Promise<T> {
  const places = new Semaphore(maxParallel);
  return (fn) => places.run(fn);
}

/**
 * Invokes through the alias with the log tail, so each success carries Lambda's billed duration
 * and, on a cold start, its init duration. Invocations go through `limit` (see
 * {@link concurrencyLimit}), and the wait for a turn counts in their latency.
 */
export function lambdaInvoker(
  client: LambdaClient,
  functionName: string,
  qualifier: string,
  limit: <T>(fn: () => Promise<T>) => Promise<T>,
  timeoutMs: number,
): Invoker {
  return {
    invoke: (payload: Payload): Promise<InvokeOutcome> => limit(() => invokeOnce(payload)),
    answer: (payload: Payload): Promise<AnswerOutcome> =>
      limit(async () => {
        const outcome = await invokeOnce(payload);
        return outcome.ok ? { ok: true, body: outcome.body ?? new Uint8Array() } : { ok: false, failure: outcome.failure };
      }),
  };

  async function invokeOnce(payload: Payload): Promise<InvokeOutcome & { body?: Uint8Array }> {
    try {
      const response = await client.send(
        new InvokeCommand({
          FunctionName: functionName,
          Qualifier: qualifier,
          InvocationType: 'RequestResponse',
          LogType: 'Tail',
          Payload: payloadBytes(payload),
        }),
        {
          abortSignal: AbortSignal.timeout(timeoutMs),
        },
      );
      if (response.FunctionError)
        return { ok: false, failure: { kind: 'target', code: functionErrorCode(response.FunctionError, response.Payload) } };
      return { ok: true, body: response.Payload ?? new Uint8Array(), ...platformFieldsOfLogTail(response.LogResult) };
    } catch (error) {
      const e = error as Error;
      if (e.name === 'AbortError' || e.name === 'TimeoutError') return TIMED_OUT;
      return { ok: false, failure: { kind: 'target', code: e.name || 'Error' } };
    }
  }
}

/** The error type the function reported (`Runtime.ImportModuleError`), or that its code cannot run on this architecture. */
function functionErrorCode(functionError: string, payload: Uint8Array | undefined): string {
  if (!payload) return functionError;
  try {
    const body = JSON.parse(Buffer.from(payload).toString('utf8')) as { errorType?: string; errorMessage?: string };
    if (WRONG_ARCHITECTURE.test(body.errorMessage ?? '')) return UNSUPPORTED_ARCHITECTURE;
    return body.errorType ?? functionError;
  } catch {
    return functionError;
  }
}
