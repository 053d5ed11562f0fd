/**
 * SageMaker Batch Transform candidates: per candidate, a transform job on one instance that scores
 * a sample of the sweep's payloads from the candidate's S3 folder. The job measures itself: its
 * start, its billed time and the times its output files were written (see lib/offline/job-timing).
 * It takes no requests of the sweep. Teardown stops a job still running and empties the folder.
 */
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateTransformJobCommand, DescribeTransformJobCommand, type SageMakerClient, StopTransformJobCommand } from '@aws-sdk/client-sagemaker';

import { ModelsweepError } from '../../errors';
import { jobPhase, jobTimingOf } from '../../offline/job-timing';
import type { Candidate } from '../../spec/expand';
import { CandidateError, hourlyMeasurementCost, SetupError, type TargetAdapter } from '../adapter';
import { checkAwsAccess, regionOf } from '../cloud/aws-access';
import { ownerTagList, resourceName, type ResourceOwner } from '../cloud/resource-tags';
import { classify, isQuota, readinessOf, teardownSteps } from '../cloud/retry';
import { KIND_RULES } from '../kind-rules';
import { candidateFolder, FOLDER_LAYOUT, type S3Folder, s3Url, type SageMakerAdapterOptions, sageMakerApi, type TransformCandidate } from './common';
import { checkBuckets } from './deploy';
import { sweepModels } from './models';
import { emptyFolder } from './teardown';
import { checkSample, sampleFileName, sampleFiles, sampleSplit } from './transform-sample';

const KIND = 'sagemaker-batch-transform';

export interface TransformDeployment {
  readonly candidateId: string;
  readonly candidate: TransformCandidate;
  readonly region: string | undefined;
  readonly jobName: string;
  readonly modelName?: string;
  /** The sample under `in/`, the job's output under `out/`: deleted at teardown. */
  readonly folder: S3Folder;
  teardown(): Promise<void>;
}

const asTransform = (c: Candidate): TransformCandidate => {
  if (c.kind !== KIND) throw new ModelsweepError('invalid-input', `the transform-job adapter cannot run a ${c.kind} candidate`);
  return c;
};

/** S3 gives an object's LastModified to the second. */
const S3_TIME_RESOLUTION_MS = 1000;

/**
 * Transform jobs, for offline sweeps: one model per distinct model definition per sweep (deleted
 * when the sweep ends), and per candidate a job and its S3 folder. Every job is tagged with the
 * sweep, the candidate and an expiry, so `modelsweep janitor` stops one a killed sweep left running.
 */
export function sageMakerTransformAdapter(options: SageMakerAdapterOptions = {}): TargetAdapter<TransformDeployment> {
  const api = sageMakerApi(options);
  const { clients, call } = api;
  const models = sweepModels(api);
  // A job takes minutes to start and then runs its sample: looked at every half minute unless told otherwise.
  const readiness = { pollMs: options.pollIntervalMs ?? 30_000, timeoutMs: options.readyTimeoutMs ?? 60 * 60_000 };

  const describe = (d: Pick<TransformDeployment, 'region' | 'jobName'>) =>
    call(() => clients(d.region).sagemaker.send(new DescribeTransformJobCommand({ TransformJobName: d.jobName })));

  /** One look: true once the job has completed, an error when it failed or was stopped. */
  const ended = async (d: TransformDeployment): Promise<boolean> => {
    const job = await describe(d);
    if (job.TransformJobStatus === 'Completed') return true;
    if (job.TransformJobStatus === 'Failed' || job.TransformJobStatus === 'Stopped') {
      const reason = job.FailureReason ?? (job.TransformJobStatus === 'Stopped' ? 'stopped before it ended' : 'no reason given');
      throw new CandidateError(
        isQuota({ message: reason }) ? 'unavailable' : 'failed',
        `transform job ${d.jobName} ${job.TransformJobStatus}: ${reason} (logs: CloudWatch log group /aws/sagemaker/TransformJobs, streams ${d.jobName}/…)`,
      );
    }
    return false;
  };

  const deploymentOf = (c: TransformCandidate, jobName: string, modelName: string | undefined, folder: S3Folder, started: { job: boolean }) => {
    const { sagemaker, s3 } = clients(c.region);
    return {
      candidateId: c.id,
      candidate: c,
      region: c.region,
      jobName,
      ...(modelName ? { modelName } : {}),
      folder,
      teardown: () =>
        teardownSteps(
          [
            ...(started.job ? ([[`stop transform job ${jobName}`, () => stopIfRunning(sagemaker, jobName)]] as const) : []),
            [`delete ${s3Url(folder)}`, () => emptyFolder(s3, folder)],
          ],
          api.retry,
        ),
    } satisfies TransformDeployment;
  };

  return {
    kind: KIND,
    ...KIND_RULES[KIND],

    async checkAccess(candidates, context) {
      const transforms = candidates.map(asTransform);
      for (const region of new Set(transforms.map((c) => c.region))) await checkAwsAccess(clients(region).sagemaker, `${KIND} candidates`);
      await checkBuckets(api, KIND, transforms);
      for (const c of transforms) checkSample(context.payloads ?? [], c.sampleRows);
    },

    async deploy(candidate, context) {
      const c = asTransform(candidate);
      const owner: ResourceOwner = { sweepId: context.sweepId, candidateId: c.id, createdAt: context.createdAt, expiresAt: context.expiresAt };
      // A job's name is never free again, even after it ends: each attempt (a resumed sweep's too) gets its own.
      const jobName = resourceName('ms', { sweepId: context.sweepId, candidateId: `${c.id}@${Date.now().toString(36)}` }, 63, c.id);
      const folder = candidateFolder(c, context.sweepId);
      const started = { job: false };
      let deployment = deploymentOf(c, jobName, undefined, folder, started);
      try {
        const { contentType } = checkSample(context.payloads ?? [], c.sampleRows);
        const { s3, sagemaker } = clients(c.region);
        for (const file of sampleFiles(context.payloads ?? [], c.sampleRows)) {
          if (context.signal?.aborted) throw new ModelsweepError('interrupted', 'interrupted while writing the sample');
          const Key = `${folder.prefix}${FOLDER_LAYOUT.requests}${file.name}`;
          await call(() => s3.send(new PutObjectCommand({ Bucket: folder.bucket, Key, Body: file.body, ContentType: contentType })));
        }
        const { name: modelName } = await models.modelFor(c, context);
        deployment = deploymentOf(c, jobName, modelName, folder, started);
        // From here teardown looks for the job: a create whose answer was lost (and whose retry was refused as a duplicate) may have started it.
        started.job = true;
        await call(() =>
          sagemaker.send(
            new CreateTransformJobCommand({
              TransformJobName: jobName,
              ModelName: modelName,
              ...(c.maxConcurrentTransforms !== undefined ? { MaxConcurrentTransforms: c.maxConcurrentTransforms } : {}),
              MaxPayloadInMB: c.maxPayloadInMb,
              BatchStrategy: c.batchStrategy,
              TransformInput: {
                DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: s3Url(folder, FOLDER_LAYOUT.requests) } },
                ContentType: contentType,
                SplitType: 'Line',
              },
              TransformOutput: { S3OutputPath: s3Url(folder, FOLDER_LAYOUT.answers), Accept: c.accept, AssembleWith: 'Line' },
              TransformResources: { InstanceType: c.instanceType as never, InstanceCount: 1 },
              Tags: ownerTagList(owner),
            }),
          ),
        );
        return deployment;
      } catch (error) {
        await deployment.teardown().catch(() => {});
        if (error instanceof SetupError) throw error;
        throw classify(error, `starting transform job ${jobName}`);
      }
    },

    ...readinessOf(ended, readiness, (d) => `transform job ${d.jobName} Completed`, options.sleep),

    handleOf: (d) => ({ region: d.region ?? null, jobName: d.jobName, modelName: d.modelName ?? null }),
    attach(candidate, handle, context) {
      const c = asTransform(candidate);
      // Another step started it; stopping one that has ended is a no-op.
      return deploymentOf(c, String(handle.jobName), handle.modelName ? String(handle.modelName) : undefined, candidateFolder(c, context.sweepId), {
        job: true,
      });
    },

    invoker() {
      throw new ModelsweepError('invalid-input', 'a transform job scores its own sample: it takes no requests (see measureJob)');
    },

    async measureJob(deployment, _context, rowsPerRequest) {
      const job = await describe(deployment);
      const { CreationTime, TransformStartTime, TransformEndTime } = job;
      if (job.TransformJobStatus !== 'Completed' || !CreationTime || !TransformStartTime || !TransformEndTime)
        throw new CandidateError(
          'failed',
          `transform job ${deployment.jobName} is ${job.TransformJobStatus ?? 'unknown'}, not Completed: nothing to measure`,
        );
      const written = await outputTimes(deployment);
      const files = sampleSplit(deployment.candidate.sampleRows).map((lines, i) => {
        const doneAt = written.get(`${sampleFileName(i)}.out`);
        if (doneAt === undefined)
          throw new CandidateError(
            'failed',
            `transform job ${deployment.jobName} completed without writing ${s3Url(deployment.folder, `out/${sampleFileName(i)}.out`)}`,
          );
        return { rows: lines * rowsPerRequest, doneAt };
      });
      const timing = jobTimingOf({
        createdAt: CreationTime.getTime(),
        startedAt: TransformStartTime.getTime(),
        endedAt: TransformEndTime.getTime(),
        files,
        resolutionMs: S3_TIME_RESOLUTION_MS,
      });
      return jobPhase(timing, TransformStartTime, job.MaxConcurrentTransforms ?? deployment.candidate.maxConcurrentTransforms ?? 1, rowsPerRequest);
    },

    releaseSharedResources: models.release,

    priceKeys(candidate) {
      const c = asTransform(candidate);
      return [{ catalog: KIND, region: regionOf(c), type: c.instanceType }];
    },
    costPerInstanceHour(candidate, prices) {
      const c = asTransform(candidate);
      return prices.instanceHour(KIND, regionOf(c), c.instanceType).usd;
    },
    estimateMeasurementCost(candidate, _plan, prices) {
      const c = asTransform(candidate);
      // Billed from the instance's start to the job's end: its start-up and the sample, not the sweep's load plan.
      const hourly = prices.instanceHour(KIND, regionOf(c), c.instanceType).usd;
      return hourlyMeasurementCost(
        hourly,
        { loadSeconds: 0, requests: 0, assumedDurationMs: 0, meanRequestBytes: 0 },
        KIND_RULES[KIND].provisioningSeconds,
        `1 × ${c.instanceType}, a transform job on ${c.sampleRows.toLocaleString('en-US')} sample rows`,
      );
    },
  };

  /** When each output object under the job's `out/` was written, by its name there. */
  async function outputTimes(d: TransformDeployment): Promise<Map<string, number>> {
    const { s3 } = clients(d.region);
    const prefix = `${d.folder.prefix}${FOLDER_LAYOUT.answers}/`;
    const times = new Map<string, number>();
    let token: string | undefined;
    do {
      const page = await call(() => s3.send(new ListObjectsV2Command({ Bucket: d.folder.bucket, Prefix: prefix, ContinuationToken: token })));
      for (const o of page.Contents ?? []) if (o.Key && o.LastModified) times.set(o.Key.slice(prefix.length), o.LastModified.getTime());
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return times;
  }
}

/** Stops a job that is still running; one that has ended (or is stopping) is left as it is. */
async function stopIfRunning(sagemaker: SageMakerClient, jobName: string): Promise<void> {
  const job = await sagemaker.send(new DescribeTransformJobCommand({ TransformJobName: jobName }));
  if (job.TransformJobStatus === 'InProgress') await sagemaker.send(new StopTransformJobCommand({ TransformJobName: jobName }));
}
