/** A Lambda candidate's deployment, and its teardown: the alias and the version go, and $LATEST is put back if it still waits for that. */
import { DeleteAliasCommand, DeleteFunctionCommand } from '@aws-sdk/client-lambda';

import { teardownSteps } from '../cloud/retry';
import type { LambdaApi, LambdaCandidate, LambdaDeployment } from './common';

/**
 * A candidate's alias (and version): teardown deletes what exists, then puts $LATEST back if it
 * still waits for that (after a deploy, `restoreLatest` is a no-op when nothing is pending).
 */
export function deploymentOf(
  { clients, retry }: LambdaApi,
  c: LambdaCandidate,
  alias: string,
  state: { version(): string | undefined; aliasCreated(): boolean; restorePending(): boolean; restoreLatest(): Promise<void> },
): LambdaDeployment {
  const client = clients(c.region);
  return {
    region: c.region,
    functionName: c.functionName,
    alias,
    architecture: c.architecture,
    maxParallelInvocations: c.maxParallelInvocations,
    ...(c.api ? { api: c.api } : {}),
    candidateId: c.id,
    version: state.version,
    restorePending: state.restorePending,
    teardown: () => {
      const version = state.version();
      return teardownSteps(
        [
          ...(state.aliasCreated()
            ? ([[`delete alias ${alias}`, () => client.send(new DeleteAliasCommand({ FunctionName: c.functionName, Name: alias }))]] as const)
            : []),
          ...(version
            ? ([
                [`delete version ${version}`, () => client.send(new DeleteFunctionCommand({ FunctionName: c.functionName, Qualifier: version }))],
              ] as const)
            : []),
          ...(state.restorePending() ? ([[`restore $LATEST of ${c.functionName}`, state.restoreLatest]] as const) : []),
        ],
        retry,
      );
    },
  };
}
