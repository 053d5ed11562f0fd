import { StateMachine } from 'aws-local-stepfunctions';

import type { WorkflowEnv } from '../workflow/env';
import type { ExecutionInput } from '../workflow/events';
import { type StepHandlers, sweepSteps } from '../workflow/steps';
import type { SweepSummary } from '../workflow/sweep-summary';
import { SWEEP_TASKS, type SweepTask, WAIT_READY_STATE } from '../workflow/task-names';

// aws-local-stepfunctions uses Promise.withResolvers (Node 22); Node 20 lacks it.
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export interface LocalExecutionOptions {
  /** Between two readiness checks of a deployment. @default what the state asks (the adapter's poll interval) */
  readonly readyPollMs?: number;
  /** Pause before a retried step. @default 0: locally a retry need not wait for a cloud to calm down */
  readonly retryPauseMs?: number;
  /**
   * Runs a step: the default calls its handler once. Tests deliver a step twice, or fail it, here.
   */
  readonly deliver?: (task: SweepTask, event: unknown, handler: (event: unknown) => Promise<unknown>) => Promise<unknown>;
  /** Every event of the execution, as aws-local-stepfunctions logs it. */
  readonly onEvent?: (event: { readonly type: string; readonly [field: string]: unknown }) => void;
}

/** How a local execution ended. */
export type LocalExecutionResult =
  | { readonly status: 'SUCCEEDED'; readonly summary: SweepSummary }
  | { readonly status: 'FAILED'; readonly error: string; readonly cause: string; readonly summary?: SweepSummary };

/**
 * Runs the BenchmarkSweep state machine definition on this machine with aws-local-stepfunctions:
 * every Task state runs its step handler in this process (the same code the cloud functions run),
 * Wait states are shortened, and results go to whatever store the environment brings.
 */
export async function runLocalExecution(
  definition: Record<string, unknown>,
  input: ExecutionInput,
  env: WorkflowEnv,
  options: LocalExecutionOptions = {},
): Promise<LocalExecutionResult> {
  const steps: StepHandlers = sweepSteps(env);
  let summary: SweepSummary | undefined;
  const handlers = Object.fromEntries(
    (Object.entries(SWEEP_TASKS) as Array<[SweepTask, string]>).map(([task, state]) => [
      state,
      async (event: unknown) => {
        const result = await (options.deliver ? options.deliver(task, event, steps[task]) : steps[task](event));
        if (task === 'selectAndReport') summary = result as SweepSummary;
        return result as never;
      },
    ]),
  );
  const retryIntervalOverrides = Object.fromEntries(Object.values(SWEEP_TASKS).map((state) => [state, options.retryPauseMs ?? 0]));
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false, checkPaths: false } });
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      waitTimeOverrides: options.readyPollMs !== undefined ? { [WAIT_READY_STATE]: options.readyPollMs } : {},
      retryIntervalOverrides,
    },
  });
  const logging = options.onEvent
    ? (async () => {
        for await (const event of execution.eventLogs) options.onEvent!(event as never);
      })()
    : undefined;
  try {
    const result = (await execution.result) as unknown as SweepSummary;
    return { status: 'SUCCEEDED', summary: result };
  } catch (error) {
    const failure = error as { name?: string; message?: string; cause?: { name?: string; message?: string } };
    const root = failure.cause && typeof failure.cause === 'object' ? failure.cause : failure;
    return { status: 'FAILED', error: root.name ?? 'Error', cause: root.message ?? String(error), ...(summary ? { summary } : {}) };
  } finally {
    await logging;
  }
}
