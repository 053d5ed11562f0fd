import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { z } from 'zod';

import { resultsText } from '../../lib/report/results-text';
import { loadSweepResults } from '../../lib/report/write-report';
import { expandCandidates } from '../../lib/spec/expand';
import type { SweepSpec } from '../../lib/spec/schema';
import { ResultsStore, type SweepRecord } from '../../lib/store/results-store';
import { firstNotInCloud } from '../../lib/targets/kind-rules';
import { s3BlobStore } from '../../lib/workflow/s3-blob-store';
import { stageSpec } from '../../lib/workflow/stage-spec';
import { newSweepId } from '../../lib/workflow/sweep-id';
import { reportKeys } from '../../lib/workflow/sweep-summary';
import { CliError, EXIT } from './cli-error';
import {
  type CloudDependencies,
  defaultCloud,
  REGION_OPTION,
  STACK_OPTION,
  STORE_DIR_OPTION,
  type StoreFlags,
  type SweepStack,
  withStore,
} from './cloud';
import { concurrencyFlag, interruptible, parseFlags, pollIntervalFlag } from './flags';
import { loadSpecOrFail } from './spec';

/** Step Functions execution names are at most 80 characters; a sweep id longer than that is shortened. */
export const executionNameOf = (sweepId: string) => (sweepId.length <= 80 ? sweepId : `${sweepId.slice(0, 71)}-${sweepId.slice(-8)}`);
/** The ARN of a state machine's execution of that name. */
const executionArnOf = (stateMachineArn: string, sweepId: string) =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionNameOf(sweepId)}`;

/** `modelsweep start <spec> --stack <name>`: a sweep on a deployed BenchmarkSweep, followed until it ends. */
export function startCommand(cloud: CloudDependencies = defaultCloud): Command {
  return new Command('start')
    .description('Start a sweep on a deployed BenchmarkSweep stack (Step Functions in the cloud) and follow it to its recommendation')
    .argument('<spec>', 'the sweep spec (YAML or JSON)')
    .requiredOption('--stack <name>', 'the deployed sweep stack (e.g. ModelsweepSweep from `npx cdk deploy ModelsweepSweep`)')
    .option(...REGION_OPTION)
    .option('--concurrency <n>', "candidates measured at once (default: the stack's maxConcurrency)")
    .option('--no-follow', 'start it and return at once (check on it with `modelsweep status`)')
    .option('--poll-interval <duration>', 'how often to check on it while following', '10s')
    .addHelpText(
      'after',
      '\nExamples:\n  $ modelsweep start examples/sweeps/demo-lambda-weekly.yaml --stack ModelsweepSweep\n  $ modelsweep start spec.yaml --stack ModelsweepSweep --region eu-west-1 --concurrency 8 --no-follow',
    )
    .action(async (file: string, flags: { stack: string; region?: string; concurrency?: string; follow: boolean; pollInterval: string }) => {
      const { pollMs, maxConcurrency } = parseFlags(
        z.object({
          pollMs: pollIntervalFlag('10s or 1m'),
          maxConcurrency: concurrencyFlag().optional(),
        }),
        { pollMs: flags.pollInterval, maxConcurrency: flags.concurrency },
      );
      const loaded = loadSpecOrFail(file);
      const notInCloud = firstNotInCloud(loaded.spec.candidates);
      if (notInCloud) {
        const { candidate, index } = notInCloud;
        throw new CliError(
          `${file}: candidates[${index}].kind: ${candidate.kind} candidates cannot run in the cloud workflow; run this spec with \`modelsweep sweep ${file} --local\``,
        );
      }
      const stack = await cloud.stack(flags.stack, flags.region);
      const sweepId = newSweepId(loaded.spec.name, new Date());
      const specKey = await stageSpec(loaded, s3BlobStore(cloud.s3(flags.region), stack.bucketName), `sweeps/${sweepId}`, { where: 'cloud' });
      const { executionArn } = await cloud.sfn(flags.region).send(
        new StartExecutionCommand({
          stateMachineArn: stack.stateMachineArn,
          name: executionNameOf(sweepId),
          input: JSON.stringify({ specKey, sweepId, ...(maxConcurrency ? { maxConcurrency } : {}) }),
        }),
      );
      console.log(`started sweep ${sweepId} (${loaded.candidates.length} candidates)\n  execution: ${executionArn}`);
      if (!flags.follow) {
        console.log(`  follow it: modelsweep status ${sweepId} --stack ${flags.stack}`);
        return;
      }
      await interruptible(
        async (signal) => {
          process.exitCode = await follow({
            cloud,
            stack,
            region: flags.region,
            sweepId,
            executionArn: executionArn!,
            pollMs,
            signal,
            total: loaded.candidates.length,
          });
        },
        () => console.error(`\nstopped following; the sweep goes on in the cloud: modelsweep status ${sweepId} --stack ${flags.stack}`),
      );
    });
}

interface FollowOptions {
  readonly cloud: CloudDependencies;
  readonly stack: SweepStack;
  readonly region: string | undefined;
  readonly sweepId: string;
  readonly executionArn: string;
  readonly pollMs: number;
  readonly signal: AbortSignal;
  readonly total: number;
}

/** Prints each candidate as it is recorded, then the results; returns the exit code. */
async function follow(o: FollowOptions): Promise<number> {
  const store = new ResultsStore(o.cloud.dynamo(o.region), o.stack.tableName);
  const seen = new Set<string>();
  for (;;) {
    const execution = await o.cloud.sfn(o.region).send(new DescribeExecutionCommand({ executionArn: o.executionArn }));
    for (const record of await store.listCandidateResults(o.sweepId)) {
      if (seen.has(record.candidate.id)) continue;
      seen.add(record.candidate.id);
      console.error(`[${seen.size}/${o.total}] ${record.candidate.id}: ${record.status}${record.reason ? ` (${record.reason})` : ''}`);
    }
    if (execution.status !== 'RUNNING') return finished(store, o, execution.status ?? 'UNKNOWN', execution.error, execution.cause);
    if (o.signal.aborted) return EXIT.interrupted;
    await o.cloud.sleep(o.pollMs);
    if (o.signal.aborted) return EXIT.interrupted;
  }
}

async function finished(store: ResultsStore, o: FollowOptions, status: string, error?: string, cause?: string): Promise<number> {
  const results = await loadSweepResults(store, o.sweepId).catch(() => undefined);
  if (results) {
    console.log(resultsText(results));
    console.log(`report: s3://${o.stack.bucketName}/${reportKeys(o.sweepId).html} (with results.json and results.csv)`);
  } else {
    console.error(`the execution ended ${status}${error ? `: ${error}` : ''}${cause ? ` — ${cause}` : ''}`);
  }
  return status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
}

/** `modelsweep status [sweepId]`: where a sweep is (or the latest sweeps), local or in a deployed stack. */
export function statusCommand(cloud: CloudDependencies = defaultCloud): Command {
  return new Command('status')
    .description('Show where a sweep is: its status and each candidate recorded so far (without a sweep id: the latest sweeps)')
    .argument('[sweepId]', 'the sweep')
    .option(...STORE_DIR_OPTION)
    .option(...STACK_OPTION)
    .option(...REGION_OPTION)
    .option('--json', 'print it as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ modelsweep status\n  $ modelsweep status demo-20261123t013308612z-7b55\n  $ modelsweep status <sweepId> --stack ModelsweepSweep',
    )
    .action(async (sweepId: string | undefined, flags: StoreFlags & { json?: boolean }) => {
      await withStore(flags, cloud, async (store, stack) => {
        if (!sweepId) {
          const sweeps = await store.recentSweeps(20);
          if (flags.json)
            console.log(
              JSON.stringify(
                sweeps.map(({ spec: _s, payloads: _p, ...s }) => s),
                null,
                2,
              ),
            );
          else if (sweeps.length === 0) console.log('no sweeps yet');
          else for (const s of sweeps) console.log(`${s.sweepId}  ${s.status.padEnd(11)}  model ${s.model}  started ${s.createdAt}`);
          return;
        }
        const sweep = await store.getSweep(sweepId);
        if (!sweep) throw new CliError(`no sweep ${sweepId} in the results (modelsweep status lists the latest)`);
        const records = await store.listCandidateResults(sweepId);
        const execution = stack ? await describeExecution(cloud, flags.region, executionArnOf(stack.stateMachineArn, sweepId)) : undefined;
        const selection = await store.getSelection(sweepId);
        const status = statusOf(sweep, records, selection?.selection.recommended, execution?.status);
        if (flags.json) console.log(JSON.stringify(status, null, 2));
        else {
          console.log(
            `sweep ${sweepId} (model ${sweep.model}): ${sweep.status}${execution?.status ? ` (execution ${execution.status})` : ''}, ${records.length} of ${status.candidates} candidates recorded`,
          );
          for (const r of records) console.log(`  ${r.candidate.id}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
          if (sweep.status !== 'running') {
            console.log(`recommendation: ${status.recommended ?? 'none'}`);
            if (sweep.reason) console.log(`reason: ${sweep.reason}`);
          }
        }
        process.exitCode = sweep.status === 'failed' || sweep.status === 'abandoned' ? EXIT.failed : EXIT.ok;
      });
    });
}

/** The execution, or undefined when it cannot be read (started elsewhere, or history expired): the table still knows the sweep. */
async function describeExecution(cloud: CloudDependencies, region: string | undefined, executionArn: string) {
  try {
    return await cloud.sfn(region).send(new DescribeExecutionCommand({ executionArn }));
  } catch {
    return undefined;
  }
}

function statusOf(
  sweep: SweepRecord,
  records: Awaited<ReturnType<ResultsStore['listCandidateResults']>>,
  recommended: string | undefined,
  execution: string | undefined,
) {
  return {
    sweepId: sweep.sweepId,
    model: sweep.model,
    status: sweep.status,
    ...(execution ? { execution } : {}),
    createdAt: sweep.createdAt,
    updatedAt: sweep.updatedAt,
    candidates: expandCandidates(sweep.spec as SweepSpec).length,
    recorded: records.map((r) => ({ id: r.candidate.id, status: r.status, ...(r.reason ? { reason: r.reason } : {}) })),
    ...(recommended ? { recommended } : {}),
    ...(sweep.reason ? { reason: sweep.reason } : {}),
  };
}
