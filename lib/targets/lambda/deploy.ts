/**
 * Deploying a Lambda candidate: checking access, publishing a version with its configuration
 * behind an alias, waiting for it, and attaching to one a past step made.
 */
import {
  CreateAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  type LambdaClient,
  ListTagsCommand,
  PublishVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';

import { type AdapterContext, CandidateError, SetupError, type TargetAdapter } from '../adapter';
import { checkAwsAccess } from '../cloud/aws-access';
import { ownerTags, resourceName, type ResourceOwner } from '../cloud/resource-tags';
import { classify, pollUntil, rethrowAsFailed } from '../cloud/retry';
import { asLambda, type LambdaApi, type LambdaDeployment, type OriginalConfiguration, RESTORE_TAG, sameEnvironment } from './common';
import { fetchFunctionCode, ownerDescription, parseRestoreTag, restoreFromNote, restoreTag, waitForUpdate } from './restore';
import { deploymentOf } from './teardown';

/** Lambda takes code as a request body up to this size; larger code would need S3. */
const MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024;

/** The adapter's deploy half: {@link TargetAdapter}'s checkAccess, deploy, waitReady, handleOf and attach. */
export function lambdaDeploySteps(
  api: LambdaApi,
): Pick<TargetAdapter<LambdaDeployment>, 'checkAccess' | 'deploy' | 'waitReady' | 'handleOf' | 'attach'> {
  const { options, clients, call, retry } = api;
  const fetchCode = options.fetchCode ?? fetchFunctionCode;
  const updated = (client: LambdaClient, functionName: string, context: AdapterContext) =>
    waitForUpdate(client, functionName, { ...options, retry, signal: context.signal });

  return {
    async checkAccess(candidates) {
      for (const region of new Set(candidates.map((c) => asLambda(c).region))) {
        const client = clients(region);
        await checkAwsAccess(client, 'lambda candidates');
        // Read-only, and it proves the function is there before anything is changed.
        for (const name of new Set(candidates.filter((c) => asLambda(c).region === region).map((c) => asLambda(c).functionName))) {
          await call(() => client.send(new GetFunctionCommand({ FunctionName: name }))).catch((error) => {
            throw new SetupError(
              `lambda candidates: cannot read function ${name}${region ? ` in ${region}` : ''}: ${(error as Error).name}: ${(error as Error).message}`,
            );
          });
        }
      }
    },

    async deploy(candidate, context) {
      const c = asLambda(candidate);
      const client = clients(c.region);
      const owner: ResourceOwner = { sweepId: context.sweepId, candidateId: c.id, createdAt: context.createdAt, expiresAt: context.expiresAt };
      const alias = resourceName('modelsweep', owner, 128);
      const description = ownerDescription(owner);

      const fn = await call(() => client.send(new GetFunctionCommand({ FunctionName: c.functionName })));
      const config = fn.Configuration!;
      const functionArn = config.FunctionArn!;
      const original: OriginalConfiguration = {
        memorySizeMb: config.MemorySize ?? 128,
        architecture: config.Architectures?.[0] ?? 'x86_64',
        environment: config.Environment?.Variables ?? {},
      };
      const environment = { ...original.environment, ...c.environment };
      const state = { tagged: false, codeChanged: false, configChanged: false, version: undefined as string | undefined, alias: false };

      const restoreLatest = async () => {
        if (state.codeChanged) {
          await call(() =>
            client.send(new UpdateFunctionCodeCommand({ FunctionName: c.functionName, ...codeOf(), Architectures: [original.architecture] })),
          );
          await updated(client, c.functionName, context);
          state.codeChanged = false;
        }
        if (state.configChanged) {
          await call(() =>
            client.send(
              new UpdateFunctionConfigurationCommand({
                FunctionName: c.functionName,
                MemorySize: original.memorySizeMb,
                Environment: { Variables: original.environment },
              }),
            ),
          );
          await updated(client, c.functionName, context);
          state.configChanged = false;
        }
        if (state.tagged) {
          await call(() =>
            client.send(new UntagResourceCommand({ Resource: functionArn, TagKeys: [RESTORE_TAG, ...Object.keys(ownerTags(owner))] })),
          );
          state.tagged = false;
        }
      };

      let zip: Uint8Array | undefined;
      const codeOf = () => (config.PackageType === 'Image' ? { ImageUri: fn.Code?.ImageUri } : { ZipFile: zip });

      const deployment = deploymentOf(api, c, alias, {
        version: () => state.version,
        aliasCreated: () => state.alias,
        restorePending: () => state.tagged,
        restoreLatest,
      });

      try {
        const needsCode = original.architecture !== c.architecture;
        const needsConfig = original.memorySizeMb !== c.memorySizeMb || !sameEnvironment(original.environment, environment);
        if (needsCode && config.PackageType !== 'Image') {
          if ((config.CodeSize ?? 0) > MAX_DIRECT_UPLOAD_BYTES) {
            throw new CandidateError(
              'unavailable',
              `switching ${c.functionName} to ${c.architecture} re-uploads its code, and at ${Math.round((config.CodeSize ?? 0) / 2 ** 20)} MB it is over Lambda's 50 MB direct-upload limit`,
            );
          }
          zip = await fetchCode(fn.Code!.Location!);
        }
        if (needsCode || needsConfig) {
          // Marked before the first change, so a sweep that dies leaves a restore note for the janitor.
          await call(() =>
            client.send(new TagResourceCommand({ Resource: functionArn, Tags: { ...ownerTags(owner), [RESTORE_TAG]: restoreTag(original) } })),
          );
          state.tagged = true;
        }
        if (needsCode) {
          await call(() =>
            client.send(new UpdateFunctionCodeCommand({ FunctionName: c.functionName, ...codeOf(), Architectures: [c.architecture] })),
          );
          // Changed from here on, even if applying it fails later: restoring is always safe.
          state.codeChanged = true;
          await updated(client, c.functionName, context);
        }
        if (needsConfig) {
          await call(() =>
            client.send(
              new UpdateFunctionConfigurationCommand({
                FunctionName: c.functionName,
                MemorySize: c.memorySizeMb,
                Environment: { Variables: environment },
              }),
            ),
          );
          state.configChanged = true;
          await updated(client, c.functionName, context);
        }
        const version = await call(() => client.send(new PublishVersionCommand({ FunctionName: c.functionName, Description: description })));
        // Lambda returns the existing version when nothing changed since it was published: not ours to delete.
        if (version.Description === description) state.version = version.Version;
        await call(() =>
          client.send(
            new CreateAliasCommand({ FunctionName: c.functionName, Name: alias, FunctionVersion: version.Version!, Description: description }),
          ),
        );
        state.alias = true;
      } catch (error) {
        await deployment.teardown().catch(() => {});
        const failure = classify(error, `preparing ${c.functionName} with ${c.memorySizeMb} MB on ${c.architecture}`);
        if (/architecture|not compatible|incompatible/i.test(failure.message))
          throw new CandidateError('unavailable', failure.message, { cause: error });
        throw failure;
      }
      // The version holds the candidate's configuration: $LATEST goes back now, not after the load.
      await restoreLatest().catch(() => {}); // teardown tries again
      return deployment;
    },

    async waitReady(deployment, context) {
      const client = clients(deployment.region);
      await pollUntil(
        async () => {
          const config = await call(() =>
            client.send(new GetFunctionConfigurationCommand({ FunctionName: deployment.functionName, Qualifier: deployment.alias })),
          );
          if (config.State === 'Failed')
            throw new CandidateError(
              'failed',
              `${deployment.functionName}:${deployment.alias} failed to become active: ${config.StateReason ?? config.StateReasonCode ?? 'no reason given'}`,
            );
          return config.State === 'Active' ? true : undefined;
        },
        {
          intervalMs: options.pollIntervalMs ?? 2_000,
          timeoutMs: options.updateTimeoutMs ?? 300_000,
          sleep: options.sleep,
          signal: context.signal,
          what: `${deployment.functionName}:${deployment.alias} active`,
        },
      ).catch(rethrowAsFailed);
    },

    handleOf: (d) => ({ region: d.region ?? null, alias: d.alias, version: d.version() ?? null, restorePending: d.restorePending() }),

    attach(candidate, handle) {
      const c = asLambda(candidate);
      const client = clients(c.region);
      const alias = String(handle.alias);
      const version = handle.version ? String(handle.version) : undefined;
      // $LATEST as the restore note on the function says, if the step that changed it could not put it back.
      const restoreLatest = async () => {
        const fn = await call(() => client.send(new GetFunctionCommand({ FunctionName: c.functionName })));
        const { Tags = {} } = await call(() => client.send(new ListTagsCommand({ Resource: fn.Configuration!.FunctionArn! })));
        const note = Tags[RESTORE_TAG] !== undefined ? parseRestoreTag(Tags[RESTORE_TAG]) : undefined;
        if (note) await restoreFromNote(client, c.functionName, note, options);
      };
      return deploymentOf(api, c, alias, {
        version: () => version,
        aliasCreated: () => true,
        restorePending: () => handle.restorePending === true,
        restoreLatest,
      });
    },
  };
}
