/**
 * Putting a function's $LATEST back: the restore note a sweep tags it with before changing it,
 * the owner written on aliases and versions, and the restore itself (the janitor's too).
 */
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  type LambdaClient,
  UntagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';

import { ModelsweepError } from '../../errors';
import { ownerFromTags, ownerTags, type ResourceOwner, TAG_KEYS } from '../cloud/resource-tags';
import { pollUntil, retrying, type RetryOptions, retryOptionsOf, withRetry } from '../cloud/retry';
import { type LambdaAdapterOptions, type OriginalConfiguration, RESTORE_TAG, sameEnvironment } from './common';

export /** Downloads a zip function's code from the URL GetFunction gives. */
async function fetchFunctionCode(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new ModelsweepError('platform', `downloading the function's code: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

export interface UpdateWaitOptions {
  readonly pollIntervalMs?: number;
  readonly updateTimeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly signal?: AbortSignal;
  readonly retry: RetryOptions;
}

/** Waits until the last change to the function (or a version) has been applied. */
export async function waitForUpdate(client: LambdaClient, functionName: string, options: UpdateWaitOptions): Promise<void> {
  await pollUntil(
    async () => {
      const config = await withRetry(() => client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName })), options.retry);
      if (config.LastUpdateStatus === 'Failed')
        throw new ModelsweepError('platform', `update of ${functionName} failed: ${config.LastUpdateStatusReason ?? 'no reason given'}`);
      return config.LastUpdateStatus === 'InProgress' ? undefined : true;
    },
    {
      intervalMs: options.pollIntervalMs ?? 2_000,
      timeoutMs: options.updateTimeoutMs ?? 300_000,
      sleep: options.sleep,
      signal: options.signal,
      what: `update of ${functionName}`,
    },
  );
}

/**
 * Puts a function's $LATEST back as a restore note says (what the janitor does when a sweep died
 * before it could), then removes the note and the sweep's tags. Only what differs is changed.
 */
export async function restoreFromNote(
  client: LambdaClient,
  functionName: string,
  note: Partial<OriginalConfiguration>,
  options: Omit<LambdaAdapterOptions, 'client'> = {},
): Promise<void> {
  const retry = retryOptionsOf(options);
  const call = retrying(retry);
  const fn = await call(() => client.send(new GetFunctionCommand({ FunctionName: functionName })));
  const config = fn.Configuration!;
  if (note.architecture && (config.Architectures?.[0] ?? 'x86_64') !== note.architecture) {
    const code =
      config.PackageType === 'Image'
        ? { ImageUri: fn.Code?.ImageUri }
        : { ZipFile: await (options.fetchCode ?? fetchFunctionCode)(fn.Code!.Location!) };
    await call(() => client.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ...code, Architectures: [note.architecture!] })));
    await waitForUpdate(client, functionName, { ...options, retry });
  }
  const memoryDiffers = note.memorySizeMb !== undefined && config.MemorySize !== note.memorySizeMb;
  const environmentDiffers = note.environment !== undefined && !sameEnvironment(config.Environment?.Variables ?? {}, note.environment);
  if (memoryDiffers || environmentDiffers) {
    await call(() =>
      client.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: functionName,
          ...(memoryDiffers ? { MemorySize: note.memorySizeMb } : {}),
          ...(environmentDiffers ? { Environment: { Variables: note.environment } } : {}),
        }),
      ),
    );
    await waitForUpdate(client, functionName, { ...options, retry });
  }
  await call(() => client.send(new UntagResourceCommand({ Resource: config.FunctionArn!, TagKeys: [RESTORE_TAG, ...Object.values(TAG_KEYS)] })));
}

/** Aliases and versions take no tags: their description carries the sweep's owner instead. */
export const ownerDescription = (owner: ResourceOwner): string => JSON.stringify({ modelsweep: ownerTags(owner) });

/** The owner {@link ownerDescription} wrote, or undefined for an alias or version that is not a sweep's. */
export function ownerFromDescription(description: string | undefined): ResourceOwner | undefined {
  if (!description?.startsWith('{"modelsweep"')) return undefined;
  try {
    return ownerFromTags((JSON.parse(description) as { modelsweep: Record<string, string> }).modelsweep);
  } catch {
    return undefined;
  }
}

/** What to put back, small enough for a tag value (256 characters of base64); environment left out if it does not fit. */
export function restoreTag(original: OriginalConfiguration): string {
  const full = Buffer.from(JSON.stringify(original)).toString('base64');
  if (full.length <= 256) return full;
  return Buffer.from(JSON.stringify({ memorySizeMb: original.memorySizeMb, architecture: original.architecture })).toString('base64');
}

export function parseRestoreTag(value: string): Partial<OriginalConfiguration> | undefined {
  try {
    return JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}
