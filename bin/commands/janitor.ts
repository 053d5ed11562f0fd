import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { HttpClient } from '@azure/core-rest-pipeline';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { Command } from 'commander';
import { z } from 'zod';

import { azureMlLeftovers, type AzureWorkspaceRef, parseWorkspaceRef } from '../../lib/janitor/azureml-leftovers';
import { type JanitorReport, type Leftover, type LeftoverFinder, runJanitor } from '../../lib/janitor/janitor';
import { lambdaLeftovers } from '../../lib/janitor/lambda-leftovers';
import { sageMakerLeftovers } from '../../lib/janitor/sagemaker-leftovers';
import { SetupError } from '../../lib/targets/adapter';
import { checkAwsAccess } from '../../lib/targets/cloud/aws-access';
import { azureMlClient, checkAzureAccess } from '../../lib/targets/cloud/azure-access';
import { CliError, EXIT } from './cli-error';
import { durationFlag, parseFlags } from './flags';

/** What the janitor talks to; tests replace the Azure side (AWS SDK clients are mocked by class). */
export interface JanitorDependencies {
  readonly azureCredential?: TokenCredential;
  readonly azureHttpClient?: HttpClient;
  /** Between polls of Azure deletions. @default 15000 */
  readonly azurePollIntervalMs?: number;
}

const flagsSchema = z.object({
  dryRun: z.boolean().default(false),
  olderThan: durationFlag('--older-than', '2h or 90m', 365 * 24 * 3_600_000).optional(),
  region: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, '--region must be an AWS region such as us-east-1')).default([]),
  azureWorkspace: z.array(z.string()).default([]),
  aws: z.boolean().default(true),
  json: z.boolean().default(false),
});

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function janitorCommand(dependencies: JanitorDependencies = {}): Command {
  return new Command('janitor')
    .description('Find what sweeps left on SageMaker, Lambda and Azure ML (by their tags) and remove what has expired')
    .option('--dry-run', 'list what would be removed; remove nothing')
    .option('--older-than <duration>', 'also remove what a sweep created longer ago than this (e.g. 2h), even before it expires')
    .option('--region <region>', 'an AWS region to clean (repeatable; default: the configured region)', collect)
    .option('--azure-workspace <sub/rg/ws>', 'an Azure ML workspace to clean, as subscription-id/resource-group/workspace (repeatable)', collect)
    .option('--no-aws', 'skip AWS (clean only the Azure workspaces given)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Only resources tagged by a sweep (modelsweep:sweep-id, modelsweep:expires-at) are touched; a Lambda',
        'function whose $LATEST a sweep changed is put back as its restore note says. Exit code 1 if anything',
        'could not be removed or a place could not be listed.',
        '',
        'Examples:',
        '  $ modelsweep janitor --dry-run',
        '  $ modelsweep janitor --older-than 2h --region us-east-1 --region eu-west-1',
        '  $ modelsweep janitor --no-aws --azure-workspace 0000-…/ml-rg/ml-ws',
      ].join('\n'),
    )
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(flagsSchema, raw);
      let workspaces: AzureWorkspaceRef[];
      try {
        workspaces = flags.azureWorkspace.map(parseWorkspaceRef);
      } catch (error) {
        throw new CliError(`--azure-workspace: ${(error as Error).message}`, EXIT.badInput, { cause: error });
      }
      if (!flags.aws && workspaces.length === 0) throw new CliError('nothing to clean: --no-aws needs at least one --azure-workspace');

      let finders: LeftoverFinder[];
      try {
        finders = [...(flags.aws ? await awsFinders(flags.region) : []), ...(await azureFinders(workspaces, dependencies))];
      } catch (error) {
        if (error instanceof SetupError) throw new CliError(`nothing was listed or removed: ${error.message}`, EXIT.badInput, { cause: error });
        throw error;
      }
      const report = await runJanitor(finders, {
        dryRun: flags.dryRun,
        olderThanMs: flags.olderThan,
        events: {
          onScan: (where) => console.error(`scanning ${where}`),
          onLeftover: (leftover, outcome, error) => {
            if (!flags.json) console.log(formatLeftover(leftover, outcome, error));
          },
        },
      });
      console.log(flags.json ? JSON.stringify(reportJson(report, flags.dryRun), null, 2) : summary(report, flags.dryRun));
      process.exitCode = report.failed.length > 0 || report.unreachable.length > 0 ? EXIT.failed : EXIT.ok;
    });
}

async function awsFinders(regions: readonly string[]): Promise<LeftoverFinder[]> {
  // With no --region, the configured region's client is checked (region and credentials) once and used.
  const clients =
    regions.length > 0
      ? regions.map((region) => ({ client: new SageMakerClient({ region }), what: `janitor in ${region}` }))
      : [{ client: new SageMakerClient({}), what: 'janitor' }];
  const finders: LeftoverFinder[] = [];
  for (const { client, what } of clients) {
    const region = await checkAwsAccess(client, what, 'pass --region, or set AWS_REGION');
    finders.push(sageMakerLeftovers(client, region, {}, new S3Client({ region })), lambdaLeftovers(new LambdaClient({ region }), region));
  }
  return finders;
}

async function azureFinders(workspaces: readonly AzureWorkspaceRef[], dependencies: JanitorDependencies): Promise<LeftoverFinder[]> {
  if (workspaces.length === 0) return [];
  const credential = dependencies.azureCredential ?? new DefaultAzureCredential();
  await checkAzureAccess(credential, 'janitor');
  return workspaces.map((ref) =>
    azureMlLeftovers(azureMlClient(credential, ref.subscriptionId, dependencies.azureHttpClient), ref, {
      pollIntervalMs: dependencies.azurePollIntervalMs,
    }),
  );
}

const VERBS = {
  removed: { delete: 'deleted', restore: 'restored', stop: 'stopped' },
  'would-remove': { delete: 'would delete', restore: 'would restore', stop: 'would stop' },
  failed: { delete: 'FAILED to delete', restore: 'FAILED to restore', stop: 'FAILED to stop' },
} as const;

function formatLeftover(leftover: Leftover, outcome: keyof typeof VERBS, error?: Error): string {
  const owner = `sweep ${leftover.owner.sweepId}, ${leftover.owner.expiresAt.getTime() <= Date.now() ? 'expired' : 'expires'} ${leftover.owner.expiresAt.toISOString()}`;
  return `${VERBS[outcome][leftover.action].padEnd(17)} ${leftover.kind} ${leftover.name} (${owner})${error ? `: ${error.message}` : ''}`;
}

function summary(report: JanitorReport, dryRun: boolean): string {
  const lines = [
    dryRun
      ? `dry run: ${report.wouldRemove.length} to remove, nothing removed; ${report.kept} tagged by a sweep but not expired, kept`
      : `${report.removed.length} removed, ${report.failed.length} failed; ${report.kept} tagged by a sweep but not expired, kept`,
  ];
  for (const u of report.unreachable) lines.push(`could not list ${u.where}: ${u.error}`);
  return lines.join('\n');
}

function reportJson(report: JanitorReport, dryRun: boolean) {
  const item = (l: Leftover) => ({
    kind: l.kind,
    name: l.name,
    action: l.action,
    sweepId: l.owner.sweepId,
    candidateId: l.owner.candidateId,
    expiresAt: l.owner.expiresAt.toISOString(),
  });
  return {
    dryRun,
    removed: report.removed.map(item),
    wouldRemove: report.wouldRemove.map(item),
    failed: report.failed.map((f) => ({ ...item(f.leftover), error: f.error })),
    kept: report.kept,
    unreachable: report.unreachable,
  };
}
