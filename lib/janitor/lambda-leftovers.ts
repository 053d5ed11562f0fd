import {
  DeleteAliasCommand,
  DeleteFunctionCommand,
  type LambdaClient,
  ListTagsCommand,
  paginateListAliases,
  paginateListFunctions,
  paginateListVersionsByFunction,
} from '@aws-sdk/client-lambda';

import { ownerFromTags } from '../targets/cloud/resource-tags';
import { removeIdempotently, retrying, retryOptionsOf } from '../targets/cloud/retry';
import { type LambdaAdapterOptions, RESTORE_TAG } from '../targets/lambda/common';
import { ownerFromDescription, parseRestoreTag, restoreFromNote } from '../targets/lambda/restore';
import type { Leftover, LeftoverFinder } from './janitor';

/**
 * What sweeps left on Lambda in one region: functions whose $LATEST still carries a restore
 * note (put back first), then aliases, then versions, each claimed by the sweep owner in its
 * description. A version is deleted only after the aliases that point to it.
 */
export function lambdaLeftovers(client: LambdaClient, region: string, options: Omit<LambdaAdapterOptions, 'client'> = {}): LeftoverFinder {
  const retry = retryOptionsOf(options);
  const call = retrying(retry);
  return {
    where: `Lambda in ${region}`,
    async find() {
      const restores: Leftover[] = [];
      const aliases: Leftover[] = [];
      const versions: Leftover[] = [];
      for await (const page of paginateListFunctions({ client }, {})) {
        for (const fn of page.Functions ?? []) {
          const functionName = fn.FunctionName!;
          // A role scoped to the sweeps' functions (lambdaIamStatements) cannot read the others: they are not ours.
          const tags = await call(() => client.send(new ListTagsCommand({ Resource: fn.FunctionArn! }))).catch((error) => {
            if ((error as Error).name === 'AccessDeniedException') return undefined;
            throw error;
          });
          if (!tags) continue;
          const Tags = tags.Tags ?? {};
          const note = Tags[RESTORE_TAG] !== undefined ? parseRestoreTag(Tags[RESTORE_TAG]) : undefined;
          const noteOwner = ownerFromTags(Tags);
          if (note && noteOwner) {
            restores.push({
              kind: 'Lambda $LATEST changed by a sweep',
              name: `${region}/${functionName}`,
              owner: noteOwner,
              action: 'restore',
              remove: () => restoreFromNote(client, functionName, note, options),
            });
          }
          for await (const aliasPage of paginateListAliases({ client }, { FunctionName: functionName })) {
            for (const alias of aliasPage.Aliases ?? []) {
              const owner = ownerFromDescription(alias.Description);
              if (owner) {
                aliases.push({
                  kind: 'Lambda alias',
                  name: `${region}/${functionName}:${alias.Name}`,
                  owner,
                  action: 'delete',
                  remove: () =>
                    removeIdempotently(() => client.send(new DeleteAliasCommand({ FunctionName: functionName, Name: alias.Name })), retry),
                });
              }
            }
          }
          for await (const versionPage of paginateListVersionsByFunction({ client }, { FunctionName: functionName })) {
            for (const version of versionPage.Versions ?? []) {
              const owner = version.Version !== '$LATEST' ? ownerFromDescription(version.Description) : undefined;
              if (owner) {
                versions.push({
                  kind: 'Lambda version',
                  name: `${region}/${functionName}:${version.Version}`,
                  owner,
                  action: 'delete',
                  remove: () =>
                    removeIdempotently(
                      () => client.send(new DeleteFunctionCommand({ FunctionName: functionName, Qualifier: version.Version })),
                      retry,
                    ),
                });
              }
            }
          }
        }
      }
      return [...restores, ...aliases, ...versions];
    },
  };
}
