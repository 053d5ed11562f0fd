import {
  type Architecture,
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListTagsCommand,
  PublishVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';

import { lambdaMonthlyCost, requestsPerMonth } from '../cost/estimate';
import { ModelsweepError } from '../errors';
import { type InvokeOutcome, type Invoker, type Payload, payloadBytes } from '../load/invoker';
import type { OpenAiApi } from '../load/streaming-apis';
import type { Candidate } from '../spec/expand';
import { Semaphore } from '../util/semaphore';
import { type AdapterContext, CandidateError, type Deployment, SetupError, type TargetAdapter } from './adapter';
import { lambdaStreamInvoker } from './aws-streaming-invokers';
import { checkAwsAccess, regionOf } from './cloud/aws-access';
import { ownerFromTags, ownerTags, resourceName, type ResourceOwner, TAG_KEYS } from './cloud/resource-tags';
import { classify, pollUntil, rethrowAsFailed, retrying, type RetryOptions, retryOptionsOf, teardownSteps, withRetry } from './cloud/retry';
import { KIND_RULES } from './kind-rules';
import { platformFieldsOfLogTail } from './lambda-report';

type LambdaCandidate = Extract<Candidate, { kind: 'lambda' }>;

/** The tag that says a sweep changed the function's $LATEST, with what to restore (base64 JSON). */
export const RESTORE_TAG = 'modelsweep:restore';
/** Lambda takes code as a request body up to this size; larger code would need S3. */
const MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024;
/** Failures that mean the code cannot execute on the architecture it was given. */
const WRONG_ARCHITECTURE = /exec format error|invalid ELF header|wrong ELF class|ELF file's architecture|cannot execute binary file/i;
export const UNSUPPORTED_ARCHITECTURE = 'UnsupportedArchitecture';

export interface LambdaAdapterOptions {
  /** A client for a region. @default one SDK client per region */
  readonly client?: (region: string | undefined) => LambdaClient;
  /** Downloads a zip function's code (to re-upload it for another architecture). @default fetch */
  readonly fetchCode?: (url: string) => Promise<Uint8Array>;
  /** Between checks that an update has been applied. @default 2000 */
  readonly pollIntervalMs?: number;
  /** @default 300000 */
  readonly updateTimeoutMs?: number;
  readonly retry?: RetryOptions;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The parts of $LATEST a candidate changes, as they were before. */
export interface OriginalConfiguration {
  readonly memorySizeMb: number;
  readonly architecture: Architecture;
  readonly environment: Record<string, string>;
}

interface LambdaDeployment extends Deployment {
  readonly region: string | undefined;
  readonly functionName: string;
  readonly alias: string;
  readonly architecture: LambdaCandidate['architecture'];
  readonly maxParallelInvocations: number;
  /** Set when the function streams tokens (InvokeWithResponseStream). */
  readonly api?: OpenAiApi;
  /** The version the sweep published (not one that existed before), which teardown deletes. */
  version(): string | undefined;
  /** Whether $LATEST still waits to be restored (the restore right after publishing failed). */
  restorePending(): boolean;
}

const asLambda = (c: Candidate): LambdaCandidate => {
  if (c.kind !== 'lambda') throw new ModelsweepError('invalid-input', `the Lambda adapter cannot run a ${c.kind} candidate`);
  return c;
};

const sameEnvironment = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/**
 * Lambda functions, one memory × architecture candidate at a time: $LATEST is changed only long
 * enough to publish a version (tagged with what to restore, so the janitor can finish the job if
 * the sweep dies), then restored at once; the candidate is measured through an alias to its
 * version. Teardown deletes the alias and the version. Works for zip and container-image functions.
 */
export function lambdaAdapter(options: LambdaAdapterOptions = {}): TargetAdapter<LambdaDeployment> {
  const clients = new Map<string, LambdaClient>();
  const clientFor =
    options.client ??
    ((region: string | undefined) => {
      let client = clients.get(region ?? '');
      if (!client) clients.set(region ?? '', (client = new LambdaClient({ region })));
      return client;
    });
  const retry = retryOptionsOf(options);
  const call = retrying(retry);
  const fetchCode = options.fetchCode ?? fetchFunctionCode;
  const updated = (client: LambdaClient, functionName: string, context: AdapterContext) =>
    waitForUpdate(client, functionName, { ...options, retry, signal: context.signal });

  /**
   * A candidate's alias (and version): teardown deletes what exists, then puts $LATEST back if it
   * still waits for that (after a deploy, `restoreLatest` is a no-op when nothing is pending).
   */
  const deploymentOf = (
    c: LambdaCandidate,
    alias: string,
    state: { version(): string | undefined; aliasCreated(): boolean; restorePending(): boolean; restoreLatest(): Promise<void> },
  ): LambdaDeployment => {
    const client = clientFor(c.region);
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
  };

  return {
    kind: 'lambda',
    ...KIND_RULES.lambda,

    async checkAccess(candidates) {
      for (const region of new Set(candidates.map((c) => asLambda(c).region))) {
        const client = clientFor(region);
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
      const client = clientFor(c.region);
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

      const deployment = deploymentOf(c, alias, {
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
      const client = clientFor(deployment.region);
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
      const client = clientFor(c.region);
      const alias = String(handle.alias);
      const version = handle.version ? String(handle.version) : undefined;
      // $LATEST as the restore note on the function says, if the step that changed it could not put it back.
      const restoreLatest = async () => {
        const fn = await call(() => client.send(new GetFunctionCommand({ FunctionName: c.functionName })));
        const { Tags = {} } = await call(() => client.send(new ListTagsCommand({ Resource: fn.Configuration!.FunctionArn! })));
        const note = Tags[RESTORE_TAG] !== undefined ? parseRestoreTag(Tags[RESTORE_TAG]) : undefined;
        if (note) await restoreFromNote(client, c.functionName, note, options);
      };
      return deploymentOf(c, alias, {
        version: () => version,
        aliasCreated: () => true,
        restorePending: () => handle.restorePending === true,
        restoreLatest,
      });
    },

    invoker(deployment, context) {
      const client = clientFor(deployment.region);
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

    costPerInstanceHour: () => undefined,

    priceKeys: (candidate) => [{ catalog: 'lambda', region: regionOf(asLambda(candidate)) }],

    perRequestMonthlyCost(candidate, phase, traffic, prices) {
      const c = asLambda(candidate);
      // Lambda bills its own measured duration; client latency (which adds the network) is the fallback.
      const billedDurationMs = phase.billedDurationMs?.mean ?? phase.latencyMs.mean;
      return lambdaMonthlyCost(
        {
          region: regionOf(c),
          architecture: c.architecture,
          memoryMb: c.memorySizeMb,
          billedDurationMs,
          requestsPerMonth: requestsPerMonth(traffic.averageRps, prices),
        },
        prices,
      ).monthlyUsd;
    },

    estimateMeasurementCost(candidate, plan, prices) {
      const c = asLambda(candidate);
      const usd = lambdaMonthlyCost(
        {
          region: regionOf(c),
          architecture: c.architecture,
          memoryMb: c.memorySizeMb,
          billedDurationMs: plan.assumedDurationMs,
          requestsPerMonth: plan.requests,
        },
        prices,
      ).monthlyUsd;
      return { usd, basis: `up to ${plan.requests} invocations × ${plan.assumedDurationMs} ms at ${c.memorySizeMb} MB ${c.architecture}` };
    },
  };
}

/** Downloads a zip function's code from the URL GetFunction gives. */
async function fetchFunctionCode(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new ModelsweepError('platform', `downloading the function's code: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

interface UpdateWaitOptions {
  readonly pollIntervalMs?: number;
  readonly updateTimeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly signal?: AbortSignal;
  readonly retry: RetryOptions;
}

/** Waits until the last change to the function (or a version) has been applied. */
async function waitForUpdate(client: LambdaClient, functionName: string, options: UpdateWaitOptions): Promise<void> {
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
  };

  async function invokeOnce(payload: Payload): Promise<InvokeOutcome> {
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
      return { ok: true, ...platformFieldsOfLogTail(response.LogResult) };
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
