import { z } from 'zod';

import { COMMITMENTS, priceLayerSchema } from '../catalog/price-catalog';
import { isWellFormedInstanceType } from '../catalog/sagemaker-instances';
import { formatDurationMs } from '../format/format';
import { OPENAI_APIS } from '../load/streaming-apis';
import { isProportion, QUALITY_METRICS } from '../quality/metrics';
import { parseJsonPointer } from '../util/json-pointer';
import { DURATION_PATTERN, parseDurationMs } from './duration';
import { contentTypeProblem, headerProblem } from './http-fields';
import { LIMITS } from './limits';

/** The candidate kinds a sweep can measure. */
export const CANDIDATE_KINDS = [
  'sagemaker-realtime',
  'sagemaker-serverless',
  'sagemaker-async',
  'sagemaker-batch-transform',
  'lambda',
  'azureml',
  'http',
  'local',
] as const;
export type CandidateKind = (typeof CANDIDATE_KINDS)[number];
/** Kinds the platform scales and bills per request (the others by the instance-hour): see KIND_RULES' `scaling`. */
export const PER_REQUEST_KINDS: ReadonlySet<CandidateKind> = new Set(['sagemaker-serverless', 'lambda']);
/** Kinds that answer through a queue or a job, minutes later at worst: sized for an offline job, never for a latency SLO. */
export const OFFLINE_ONLY_KINDS: ReadonlySet<CandidateKind> = new Set(['sagemaker-async', 'sagemaker-batch-transform']);

/**
 * A strict object whose unknown-key error names the allowed keys, so a typo such as
 * `memorySize` says `allowed: memorySizesMb, ...` instead of only "unrecognized".
 */
function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed: ${Object.keys(shape).join(', ')}`
        : undefined,
  });
}

/** One value or a list of values; a list expands into one candidate per value. */
function oneOrMany<T extends z.ZodType>(item: T) {
  return z
    .union([item, z.array(item).min(1, 'needs at least one value').max(LIMITS.listValues, `at most ${LIMITS.listValues} values`)])
    .transform((v) => (Array.isArray(v) ? v : [v]) as Array<z.output<T>>);
}

/** A duration above 0 and at most `maxMs`. */
const durationUpTo = (maxMs: number) =>
  z
    .string()
    .regex(DURATION_PATTERN, 'must be a duration: a number and a unit, e.g. 500ms, 60s, 2m, 1h')
    // Bounded before it becomes a number of ms, so the error shows the duration as written.
    .superRefine((text, ctx) => {
      if (!DURATION_PATTERN.test(text)) return;
      const ms = parseDurationMs(text);
      if (ms <= 0) ctx.addIssue({ code: 'custom', message: 'must be longer than 0' });
      else if (ms > maxMs) ctx.addIssue({ code: 'custom', message: `must be at most ${formatDurationMs(maxMs)}` });
    })
    .transform(parseDurationMs);
const duration = durationUpTo(LIMITS.phaseMs);

/** A number above 0 and at most `max` (so never Infinity). */
const positive = (what: string, max: number) =>
  z
    .number()
    .positive(`${what} must be above 0`)
    .max(max, `${what} must be at most ${max.toLocaleString('en-US')}`);
const positiveInt = (what: string, max: number) =>
  z
    .number()
    .int(`${what} must be a whole number`)
    .min(1, `${what} must be at least 1`)
    .max(max, `${what} must be at most ${max.toLocaleString('en-US')}`);
const rate = (what: string) => positive(`${what} (requests/s)`, LIMITS.rateRps);
const envVars = z.record(z.string(), z.string()).superRefine((vars, ctx) => {
  if (Object.keys(vars).length > LIMITS.listValues) ctx.addIssue({ code: 'custom', message: `at most ${LIMITS.listValues} variables` });
  for (const key of Object.keys(vars)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: 'environment variable names take letters, digits and _, not starting with a digit' });
    }
  }
});
const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lowercase letters, digits and hyphens, starting with a letter or digit');

const instanceType = z.string().refine(isWellFormedInstanceType, 'must be a SageMaker instance type like ml.g5.xlarge');
const serverlessMemory = z
  .number()
  .int()
  .refine((mb) => mb >= 1024 && mb <= 6144 && mb % 1024 === 0, 'SageMaker serverless memory must be 1024, 2048, 3072, 4096, 5120 or 6144 MB');
const lambdaMemory = z
  .number()
  .int('must be a whole number of MB')
  .min(128, 'Lambda memory is 128 to 10240 MB')
  .max(10240, 'Lambda memory is 128 to 10240 MB');

/**
 * Memory sizes as a list, one value, or a range `{ from, to, step }` (as AWS Lambda Power Tuning's
 * power values): from, from + step, … up to to, each a valid size.
 */
function memorySizes(size: z.ZodNumber | z.ZodType<number>, stepMb: number) {
  const range = strict({
    from: size,
    to: size,
    step: z
      .number()
      .int('step must be a whole number of MB')
      .positive('step must be above 0')
      .refine((mb) => mb % stepMb === 0, `step must be a multiple of ${stepMb} MB`),
  })
    .refine((r) => r.to >= r.from, { message: 'to must be at least from', path: ['to'] })
    .refine((r) => !(r.step > 0) || Math.floor((r.to - r.from) / r.step) + 1 <= LIMITS.listValues, {
      message: `makes more than ${LIMITS.listValues} sizes; take a larger step`,
      path: ['step'],
    })
    .transform((r) => Array.from({ length: Math.floor((r.to - r.from) / r.step) + 1 }, (_, k) => r.from + k * r.step));
  return z.union([range, oneOrMany(size)]);
}

/** What a catalog selection may ask of an instance type's accelerators. */
export const GPU_CHOICES = ['required', 'none', 'any'] as const;

/**
 * Constraints every selected type meets; `maxPricePerHour` is the on-demand price in the
 * candidate's region. Fields left out do not constrain.
 */
const hardwareConstraints = {
  /** At least this many vCPUs. */
  minVcpus: positiveInt('minVcpus', 1024).optional(),
  /** At least this much memory. */
  minMemoryGiB: positive('minMemoryGiB', 100_000).optional(),
  /** At most this price per instance-hour, on demand (USD). */
  maxPricePerHour: positive('maxPricePerHour', LIMITS.costPerHourUsd).optional(),
  /** `required`: an NVIDIA GPU; `none`: no accelerator; `any`: whatever the image can run on. @default any */
  gpu: z.enum(GPU_CHOICES, { error: `gpu is ${GPU_CHOICES.join(', ')}` }).default('any'),
  /** At least this much GPU memory, across the instance's GPUs. */
  minGpuMemoryGiB: positive('minGpuMemoryGiB', 100_000).optional(),
};

/**
 * Instance types chosen from the catalog rather than listed: those of `families` (c7i, g5) and
 * `sizes` (xlarge, 2xlarge) that meet the constraints, are priced in the candidate's region and can
 * run its image (see catalog-selection.ts). Burstable (T) types only when their family is named.
 */
export const instanceSelectionSchema = strict({
  families: oneOrMany(z.string().regex(/^[a-z][a-z0-9-]*$/, 'a family is like c7i, g5 or inf2')).optional(),
  sizes: oneOrMany(z.string().regex(/^(medium|large|xlarge|[1-9][0-9]*xlarge)$/, 'a size is like large, xlarge or 2xlarge')).optional(),
  ...hardwareConstraints,
  /** x86_64 or arm64 (Graviton); default: what the image is built for. */
  architecture: z.enum(['x86_64', 'arm64'], { error: 'architecture is x86_64 or arm64' }).optional(),
});
export type InstanceSelection = z.output<typeof instanceSelectionSchema>;

/** Azure VM SKUs chosen from the catalog by constraints (priced in the group's location). */
export const skuSelectionSchema = strict(hardwareConstraints);
export type SkuSelection = z.output<typeof skuSelectionSchema>;

/**
 * Model variants a group sweeps (an int8 or fp16 copy, a smaller model): every configuration of the
 * group once per variant, its id ending in the variant's name. Each variant gives the artifact the
 * kind serves (`artifact`'s fields).
 */
function modelVariants<T extends z.core.$ZodLooseShape>(artifact: T) {
  return z
    .array(
      strict({ name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, 'a variant name is 1 to 31 lowercase letters, digits and hyphens'), ...artifact }),
    )
    .min(1, 'needs at least one variant, or leave models out')
    .max(LIMITS.listValues, `at most ${LIMITS.listValues} variants`)
    .superRefine((variants, ctx) => {
      const seen = new Set<string>();
      variants.forEach((v, i) => {
        const { name } = v as { name: string };
        if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `variant "${name}" is named twice` });
        seen.add(name);
      });
    })
    .optional();
}
/** An S3 folder: a well-formed bucket name, then any key prefix. */
const S3_FOLDER = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:\/\S*)?$/;
const s3Url = z.string().regex(/^s3:\/\//, 'must be an s3:// URL');
const s3Folder = z
  .string()
  .refine((url) => S3_FOLDER.test(url), 'must be an s3://bucket/prefix URL (a bucket name is 3-63 lowercase letters, digits, dots and hyphens)');
/** A transform job's sample is split into this many files: their finishing times are what its throughput's interval is made from. */
export const TRANSFORM_SAMPLE_FILES = 8;
const httpUrl = z.string().refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http:// or https:// URL');
const lambdaFunctionName = z.string().min(1, 'functionName is needed: the function to measure');

const common = {
  /** Prefix of the candidates' ids. */
  name: name.optional(),
  environment: envVars.optional(),
};

/** An AWS region; default: the one the AWS SDK finds (AWS_REGION, the profile). */
const awsRegion = z
  .string()
  .regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'must be an AWS region like us-east-1')
  .optional();

/** What a SageMaker candidate serves: the container image, model data and the role SageMaker runs it with. */
const sagemakerModel = {
  region: awsRegion,
  /** The serving container: an ECR image URI (e.g. one built from modelsweep's model server context). */
  image: z
    .string()
    .regex(
      /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[^\s:@]+([:@][^\s]+)?$/,
      'must be an ECR image URI like 123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag',
    ),
  modelDataUrl: s3Url.optional(),
  /** Model variants, each with its model data (replacing `modelDataUrl`). */
  models: modelVariants({ modelDataUrl: s3Url }),
  /** The IAM role SageMaker assumes to pull the image and the model data. */
  executionRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN like arn:aws:iam::123456789012:role/name'),
  /** Accept header of InvokeEndpoint. @default 'application/json' */
  accept: z.string().min(1).default('application/json'),
};

/** What running a self-managed candidate costs, for the cost model. */
const costPerHour = z
  .number()
  .nonnegative('must be 0 or more (USD per hour)')
  .max(LIMITS.costPerHourUsd, `must be at most ${LIMITS.costPerHourUsd} (USD per hour)`);

/**
 * `http`: whole responses, timed end to end. `openai-chat` / `openai-completions`: the endpoint
 * streams OpenAI-style server-sent events (vLLM, TGI, LMI and llama.cpp's server do; on SageMaker
 * through InvokeEndpointWithResponseStream, on Lambda through InvokeWithResponseStream), and each
 * token is timed; payloads are OpenAI request bodies. @default http
 */
const api = z.enum(['http', ...OPENAI_APIS]).default('http');

const candidateSchemas = [
  strict({
    kind: z.literal('sagemaker-realtime'),
    ...common,
    /** A list of types, or a selection over the catalog (families, sizes, constraints). */
    instanceTypes: z.union([instanceSelectionSchema, oneOrMany(instanceType)]),
    instanceCounts: oneOrMany(positiveInt('an instance count', LIMITS.instances)).default([1]),
    ...sagemakerModel,
    api,
  }),
  strict({
    kind: z.literal('sagemaker-serverless'),
    ...common,
    memorySizesMb: memorySizes(serverlessMemory, 1024),
    maxConcurrency: oneOrMany(z.number().int().min(1, 'max concurrency is 1 to 200').max(200, 'max concurrency is 1 to 200')).default([20]),
    provisionedConcurrency: oneOrMany(z.number().int().min(0).max(200)).default([0]),
    ...sagemakerModel,
    /** Also measure a cold start after this long without requests (the first request after deploy is always measured). */
    coldStartAfterIdle: durationUpTo(LIMITS.coldStartIdleMs).optional(),
  }),
  strict({
    kind: z.literal('sagemaker-async'),
    ...common,
    instanceTypes: oneOrMany(instanceType),
    instanceCounts: oneOrMany(positiveInt('an instance count', LIMITS.instances)).default([1]),
    /** Requests one instance takes from the queue at once; a list sweeps it. @default SageMaker's own */
    maxConcurrentInvocationsPerInstance: oneOrMany(positiveInt('maxConcurrentInvocationsPerInstance', 1000)).optional(),
    /**
     * Where requests and answers go: each candidate's inputs, outputs and failures under
     * `<s3Path>/<sweep id>/<candidate id>/`, deleted with it. The execution role must be able to
     * read and write there.
     */
    s3Path: s3Folder,
    ...sagemakerModel,
  }),
  strict({
    kind: z.literal('sagemaker-batch-transform'),
    ...common,
    /** Each type's transform job runs on one instance; the recommendation sizes the job's instance count. */
    instanceTypes: oneOrMany(instanceType),
    /** Requests sent to one instance at once; a list sweeps it. @default SageMaker's own (the container's, else 1) */
    maxConcurrentTransforms: oneOrMany(positiveInt('maxConcurrentTransforms', 1000)).optional(),
    /** A request's largest body (MaxPayloadInMB), 1 to 100; a list sweeps it. @default 6 */
    maxPayloadInMb: oneOrMany(z.number().int().min(1, 'maxPayloadInMb is 1 to 100').max(100, 'maxPayloadInMb is 1 to 100')).default([6]),
    /** `MultiRecord` packs as many lines into a request as `maxPayloadInMb` allows; `SingleRecord` sends one. @default MultiRecord */
    batchStrategy: oneOrMany(z.enum(['MultiRecord', 'SingleRecord'], { error: 'must be MultiRecord or SingleRecord' })).default(['MultiRecord']),
    /**
     * Lines of the sample each candidate's transform job scores (the payloads, one per line, in
     * 8 files): enough that each file takes many seconds, so that its time
     * can be told apart from the job's start-up. @default 20000
     */
    sampleRows: positiveInt('sampleRows', LIMITS.transformSampleRows).default(20_000),
    /**
     * Where each candidate's sample and answers go: `<s3Path>/<sweep id>/<candidate id>/in/` and
     * `…/out`, deleted with it. The execution role must be able to read and write there.
     */
    s3Path: s3Folder,
    ...sagemakerModel,
  }),
  strict({
    kind: z.literal('lambda'),
    ...common,
    /** An existing function to reconfigure per candidate (its original configuration is restored). */
    functionName: lambdaFunctionName,
    /** Model variants, each a function deployed from its own code asset (replacing `functionName`), e.g. by `LambdaModelFunction`. */
    models: modelVariants({ functionName: lambdaFunctionName }),
    memorySizesMb: memorySizes(lambdaMemory, 1),
    architectures: oneOrMany(z.enum(['arm64', 'x86_64'], { error: 'must be arm64 or x86_64' })).default(['arm64']),
    region: awsRegion,
    /** Most invocations in flight at once, so a phase can never burst beyond it. @default 50 */
    maxParallelInvocations: z
      .number()
      .int()
      .min(1, 'maxParallelInvocations is 1 to 1000')
      .max(1000, 'maxParallelInvocations is 1 to 1000')
      .default(50),
    /** A response-streaming function (InvokeWithResponseStream) speaking an OpenAI API. */
    api,
  }),
  strict({
    kind: z.literal('azureml'),
    ...common,
    subscriptionId: z.string().regex(/^[0-9a-fA-F-]{36}$/, 'must be an Azure subscription id (a GUID)'),
    resourceGroup: z.string().regex(/^[-\w._()]{1,90}$/, 'must be an Azure resource group name'),
    workspace: z.string().regex(/^[a-zA-Z0-9][\w-]{2,32}$/, 'must be an Azure ML workspace name'),
    /** The online endpoint the sweep's deployments go under; created (and at the end deleted) if absent. */
    endpointName: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/, 'must be 3-32 letters, digits and hyphens, starting with a letter'),
    /** The registered model, e.g. azureml:resnet:3 or its ARM id. */
    model: z.string().min(1, 'model is needed: a registered model such as azureml:resnet:3'),
    /** Model variants, each a registered model (replacing `model`). */
    models: modelVariants({ model: z.string().min(1, 'model is a registered model such as azureml:resnet-int8:1') }),
    /** Environment (image) to serve it with, e.g. azureml:onnx-env:1; not needed for MLflow models. */
    environmentId: z.string().min(1).optional(),
    /** Scoring code, as a registered code asset and the script in it; not needed for MLflow models. */
    codeId: z.string().min(1).optional(),
    scoringScript: z.string().min(1).optional(),
    /** Azure region of a created endpoint. @default the workspace's */
    location: z
      .string()
      .regex(/^[a-z0-9]+$/, 'must be an Azure region like eastus')
      .optional(),
    /** Requests one instance serves at once; Azure answers 429 beyond it. @default 1 (Azure's default) */
    maxConcurrentRequestsPerInstance: positiveInt('maxConcurrentRequestsPerInstance', 1000).default(1),
    /** A list of SKUs, or a selection over the catalog by constraints (priced in `location`). */
    skus: z.union([skuSelectionSchema, oneOrMany(z.string().regex(/^Standard_[A-Za-z0-9_]+$/, 'must be an Azure VM SKU like Standard_DS3_v2'))]),
    instanceCounts: oneOrMany(positiveInt('an instance count', LIMITS.instances)).default([1]),
  }).refine((g) => (g.codeId === undefined) === (g.scoringScript === undefined), {
    message: 'codeId and scoringScript go together',
    path: ['scoringScript'],
  }),
  strict({
    kind: z.literal('http'),
    ...common,
    url: httpUrl,
    /** Model variants, each served at its own URL (replacing `url`). */
    models: modelVariants({ url: httpUrl }),
    api,
    /** What the endpoint costs to run. */
    costPerHour,
    headers: z
      .record(z.string(), z.string())
      .superRefine((headers, ctx) => {
        if (Object.keys(headers).length > LIMITS.headers) ctx.addIssue({ code: 'custom', message: `at most ${LIMITS.headers} headers` });
        for (const [name, value] of Object.entries(headers)) {
          const problem = headerProblem(name, value);
          if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
        }
      })
      .optional(),
  }),
  strict({
    kind: z.literal('local'),
    ...common,
    /** onnxruntime intra-op threads of the local model server. */
    threads: oneOrMany(z.number().int().min(0, 'threads is 0 (one per core) or more').max(64)).default([0]),
    /** Concurrent requests the model server stacks into one run (dynamic batching); 1 = off. */
    maxBatchSize: oneOrMany(positiveInt('maxBatchSize', 256)).default([1]),
    /** Longest a request waits for others to join its batch. @default 2ms */
    batchDelay: durationUpTo(LIMITS.batchDelayMs).optional(),
    /** The .onnx file; default: the spec's model.path. */
    modelPath: z.string().min(1).optional(),
    /** Model variants, each an .onnx file (replacing `modelPath`). */
    models: modelVariants({ path: z.string().min(1, "path is the variant's .onnx file") }),
    /** What running this configuration costs. @default 0 */
    costPerHour: costPerHour.default(0),
  }),
] as const;

export const candidateGroupSchema = z.discriminatedUnion('kind', candidateSchemas, {
  error: (issue) => (issue.code === 'invalid_union' ? `kind must be one of ${CANDIDATE_KINDS.join(', ')}` : undefined),
});
export type CandidateGroup = z.output<typeof candidateGroupSchema>;

const contentType = z
  .string()
  .superRefine((type, ctx) => {
    const problem = contentTypeProblem(type);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .default('application/json');
const payloadWeight = positive('weight', LIMITS.payloadWeight).default(1);
/** A name shown in tables and reports: printable (no terminal escapes, bells or line breaks), at most 64 characters. */
const displayName = z
  .string()
  .max(64, 'name is at most 64 characters')
  .regex(/^\P{Cc}*$/u, 'name may not contain control characters (escapes, tabs, line breaks)');
const payloadSchema = z.union(
  [
    strict({ file: z.string().min(1), contentType, weight: payloadWeight, name: displayName.optional() }),
    strict({
      body: z.string().refine((b) => Buffer.byteLength(b) <= LIMITS.payloadBytes, `must be at most ${LIMITS.payloadBytes / 1024 / 1024} MiB`),
      contentType,
      weight: payloadWeight,
      name: displayName.optional(),
    }),
  ],
  { error: () => 'each payload needs either "file" (a path) or "body" (inline text), with optional contentType, weight and name' },
);

/**
 * A bucket of prompts for generative candidates: what they say (a text, a file of prompts, or a
 * synthetic prompt of about `inputTokens` words) and how many tokens each request asks back.
 * Each becomes an OpenAI request body (see `prompt-sets.ts`), picked by weight like a payload.
 */
const promptBucketSchema = strict({
  name: displayName.min(1).optional(),
  weight: payloadWeight,
  /** Output tokens each request asks for (`max_tokens`). */
  maxTokens: positiveInt('maxTokens', LIMITS.maxTokens),
  /** One prompt, as text. */
  text: z
    .string()
    .min(1, 'text must not be empty')
    .refine((t) => Buffer.byteLength(t) <= LIMITS.payloadBytes, `must be at most ${LIMITS.payloadBytes / 1024 / 1024} MiB`)
    .optional(),
  /** A file of prompts: `.jsonl` holds one per line (a string, or an object with `messages` or `prompt`); any other file is one prompt. */
  file: z.string().min(1).optional(),
  /** A synthetic prompt of this many words (most tokenizers make about one token of each). */
  inputTokens: positiveInt('inputTokens', LIMITS.promptTokens).optional(),
}).refine((b) => [b.text, b.file, b.inputTokens].filter((v) => v !== undefined).length === 1, {
  message: 'give one of text, file or inputTokens',
});

const openPhase = strict({
  name: displayName.optional(),
  mode: z.literal('open'),
  rate: rate('rate'),
  arrivals: z.enum(['poisson', 'constant'], { error: 'must be poisson or constant' }).default('poisson'),
  duration,
});
const closedPhase = strict({
  name: displayName.optional(),
  mode: z.literal('closed'),
  concurrency: positiveInt('concurrency', LIMITS.concurrency),
  duration,
});
/** Stairs: open-loop phases from `from` to `to` requests/s in steps of `step`, each `stepDuration` long. */
const stairsPhase = strict({
  name: displayName.optional(),
  mode: z.literal('stairs'),
  from: rate('from'),
  to: rate('to'),
  step: rate('step'),
  stepDuration: duration,
  arrivals: z.enum(['poisson', 'constant'], { error: 'must be poisson or constant' }).default('poisson'),
}).refine((s) => s.to >= s.from, { message: 'to must be at least from', path: ['to'] });

const phaseSchema = z.discriminatedUnion('mode', [openPhase, closedPhase, stairsPhase], {
  error: (issue) => (issue.code === 'invalid_union' ? 'mode must be open (a rate), closed (a concurrency) or stairs (from/to/step)' : undefined),
});

const loadSchema = strict({
  warmup: z.union([openPhase, closedPhase]).optional(),
  /** Needed for a real-time sweep; an offline one may leave them out (its saturation search is its load). */
  phases: z.array(phaseSchema).max(LIMITS.phases, `at most ${LIMITS.phases} phases`).default([]),
  /** Find the highest open-loop rate that still meets the SLO, by bisection between two rates. */
  search: strict({
    from: rate('from'),
    to: rate('to'),
    stepDuration: duration,
    /** Stop when the bracket is this narrow, relative to its lower end. */
    precision: z.number().gt(0).lt(1).default(0.1),
  })
    .refine((s) => s.to > s.from, { message: 'to must be above from', path: ['to'] })
    .optional(),
  /** A request unanswered by then counts as a timeout. */
  timeout: durationUpTo(LIMITS.requestTimeoutMs).default(30_000),
});

const percentile = z.number().min(50, 'percentile is 50 to 99.9').max(99.9, 'percentile is 50 to 99.9');

/** A bound on a token latency of streamed responses: its percentile (the SLO's own by default) and ms. */
const tokenBound = strict({
  percentile: percentile.optional(),
  ms: positive('ms', LIMITS.sloLatencyMs),
});

const sloSchema = strict({
  /** Needed for a real-time sweep; an offline one bounds errors only, unless it gives one. */
  percentile: percentile.optional(),
  /** End-to-end: from the intended send to the last byte (or token). Needed for a real-time sweep. */
  latencyMs: positive('latencyMs', LIMITS.sloLatencyMs).optional(),
  maxErrorRate: z.number().min(0, 'maxErrorRate is a fraction from 0 to 1').max(1, 'maxErrorRate is a fraction from 0 to 1').default(0.01),
  minThroughput: rate('minThroughput').optional(),
  /** Streaming candidates: from the intended send to the first token. */
  timeToFirstToken: tokenBound.optional(),
  /** Streaming candidates: between consecutive tokens. */
  interTokenLatency: tokenBound.optional(),
});

const trafficAmount = (field: string) =>
  z
    .number()
    .nonnegative(`${field} must be 0 or more`)
    .max(LIMITS.trafficRps, `${field} must be at most ${LIMITS.trafficRps.toLocaleString('en-US')}`);

/**
 * The forecast, in requests per second, or (generative models with prompts) in output tokens per
 * second: then each request is taken to stream its bucket's maxTokens, and the rates in requests
 * are the token rates over the prompts' weighted mean maxTokens.
 */
const trafficSchema = strict({
  averageRps: trafficAmount('averageRps').optional(),
  peakRps: positive('peakRps', LIMITS.trafficRps).optional(),
  averageOutputTokensPerSecond: trafficAmount('averageOutputTokensPerSecond').optional(),
  peakOutputTokensPerSecond: positive('peakOutputTokensPerSecond', LIMITS.trafficRps).optional(),
  /** 24 values, one per hour, in the forecast's unit. */
  hourlyProfile: z
    .array(
      z
        .number()
        .nonnegative('hourly values are 0 or more')
        .max(LIMITS.trafficRps, `hourly values are at most ${LIMITS.trafficRps.toLocaleString('en-US')}`),
    )
    .length(24, 'hourlyProfile needs 24 values, one per hour')
    .refine((hours) => hours.some((v) => v > 0), 'hourlyProfile is all zeros: there is no traffic to size for; give each hour its share of the day')
    .optional(),
}).superRefine((t, ctx) => {
  const inRequests = t.averageRps !== undefined || t.peakRps !== undefined;
  const inTokens = t.averageOutputTokensPerSecond !== undefined || t.peakOutputTokensPerSecond !== undefined;
  if (inRequests && inTokens) {
    ctx.addIssue({
      code: 'custom',
      path: ['averageOutputTokensPerSecond'],
      message: 'give the forecast in requests (averageRps, peakRps) or in output tokens per second, not both',
    });
    return;
  }
  const [average, peak] = inTokens ? (['averageOutputTokensPerSecond', 'peakOutputTokensPerSecond'] as const) : (['averageRps', 'peakRps'] as const);
  for (const field of [average, peak]) if (t[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `${field} is needed` });
  if (t[average] !== undefined && t[peak] !== undefined && t[peak] < t[average])
    ctx.addIssue({ code: 'custom', path: [peak], message: `${peak} must be at least ${average}` });
});

/**
 * What a candidate's answers are worth: a labelled dataset sent through each deployed candidate (its
 * requests apart from the load phases), each answer read from the response and scored, and a bound
 * the metric's 95% interval must clear.
 */
const qualitySchema = strict({
  /** A JSONL file: one `{"input": <request body>, "expected": <right answer>}` per line (`expected` may be left out with `metric: agreement`). */
  dataset: z.string().min(1, 'dataset is a .jsonl file of examples'),
  /** Where the answer is in a JSON response: a JSON pointer such as `/outputs/probabilities/data`. @default '' (the whole response) */
  responsePath: z
    .string()
    .superRefine((pointer, ctx) => {
      const parsed = parseJsonPointer(pointer);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
    })
    .default(''),
  /** Reduce a list of scores to the index of the highest (a class), before comparing. @default false */
  argmax: z.boolean().default(false),
  metric: z.enum(QUALITY_METRICS, { error: `metric is one of ${QUALITY_METRICS.join(', ')}` }),
  /** top-k: the expected class must be among this many highest scores. @default 5 */
  k: positiveInt('k', 1000).default(5),
  /** Content type of the examples' request bodies. @default 'application/json' */
  contentType,
  /** Send only the first this many examples. @default all of them */
  examples: positiveInt('examples', LIMITS.qualityExamples).optional(),
  /**
   * The model variant (a name in a group's `models`) the others are compared with: its answers are
   * the right ones for `metric: agreement`, and its score the base of `slo.maxDropFromReference`.
   */
  reference: z.string().min(1, 'reference is the name of a model variant').optional(),
  /**
   * The quality SLO: `min` for a share of right answers (accuracy, top-k, exact-match, agreement),
   * `max` for an error, or `maxDropFromReference` (a share such as 0.01: at least 99% of the
   * reference variant's score, MLPerf's rule) with `reference`.
   */
  slo: strict({
    min: z.number().min(0, 'min is a share from 0 to 1').max(1, 'min is a share from 0 to 1').optional(),
    max: z.number().min(0, 'max is 0 or more').max(1e12, 'max is at most 1e12').optional(),
    maxDropFromReference: z
      .number()
      .min(0, 'maxDropFromReference is a share from 0 to 1, such as 0.01 for at least 99% of the reference')
      .lt(1, 'maxDropFromReference is a share from 0 to 1, such as 0.01 for at least 99% of the reference')
      .optional(),
  }),
}).superRefine((q, ctx) => {
  for (const problem of qualitySpecProblems(q)) ctx.addIssue({ code: 'custom', ...problem });
});

/** What is wrong with how a quality section's metric, reference and bounds go together. */
function qualitySpecProblems(q: {
  metric: (typeof QUALITY_METRICS)[number];
  reference?: string;
  slo: { min?: number; max?: number; maxDropFromReference?: number };
}): Array<{ path: string[]; message: string }> {
  const { metric, slo } = q;
  if (metric === 'agreement' && q.reference === undefined)
    return [{ path: ['reference'], message: 'agreement needs a reference: the model variant whose answers the others should give' }];
  if (slo.maxDropFromReference !== undefined) {
    if (q.reference === undefined)
      return [{ path: ['reference'], message: 'slo.maxDropFromReference needs a reference: the model variant whose score is the base' }];
    if (!isProportion(metric) || metric === 'agreement')
      return [
        {
          path: ['slo', 'maxDropFromReference'],
          message: `bounds a share of right answers against labels (accuracy, top-k or exact-match), not ${metric}`,
        },
      ];
    const other = (['min', 'max'] as const).find((b) => slo[b] !== undefined);
    return other ? [{ path: ['slo', other], message: 'give one bound: maxDropFromReference, or min/max, not both' }] : [];
  }
  const proportion = isProportion(metric);
  const wanted = proportion ? 'min' : 'max';
  const other = proportion ? 'max' : 'min';
  if (slo[other] !== undefined)
    return [
      {
        path: ['slo', other],
        message: `${metric} is ${proportion ? 'a share of right answers: bound it with min' : 'an error: bound it with max'}`,
      },
    ];
  if (slo[wanted] === undefined) return [{ path: ['slo', wanted], message: `${wanted} is needed: the bound ${metric} must clear` }];
  return [];
}
export type QualitySpec = z.output<typeof qualitySchema>;

/**
 * An offline (batch) job instead of a traffic forecast: each candidate is measured at saturation,
 * closed-loop at a concurrency that doubles until throughput stops growing, and the job is priced
 * from that throughput: the cheapest candidate (with its instance count) that ends by the deadline.
 */
const offlineSchema = strict({
  /** Rows the job scores. */
  rows: positiveInt('rows', LIMITS.offlineRows),
  /** How long the job may take, start-up included: 6h. */
  deadline: durationUpTo(LIMITS.offlineDeadlineMs),
  /** Rows each request carries: the payloads' batch. @default 1 */
  rowsPerRequest: positiveInt('rowsPerRequest', 1_000_000).default(1),
  /**
   * Batches per request to search as well as concurrency: each size gets its own saturation
   * search, on requests of that many rows built from the payloads' rows at `path` (a JSON array,
   * or a tensor `{ dims, data }` whose first dimension is the batch). Give `sizes` to search those,
   * or `upTo` to double from 1 until throughput stops growing (as concurrency does). The cheapest
   * size per row wins.
   * @default none: each payload as it is
   */
  batch: strict({
    /** Where the rows are in a payload: a JSON pointer such as `/inputs` or `/inputs/input`. */
    path: z.string().superRefine((pointer, ctx) => {
      const parsed = parseJsonPointer(pointer);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
      else if (parsed.length === 0) ctx.addIssue({ code: 'custom', message: 'must point inside the payload, at its rows (e.g. /inputs)' });
    }),
    /** Rows a request, each searched in turn. */
    sizes: z
      .array(positiveInt('a batch size', LIMITS.batchRows))
      .min(1, 'needs at least one size')
      .max(8, 'at most 8 sizes: each is a saturation search of its own')
      .optional(),
    /** The largest batch of a search that doubles from 1 until two doublings in a row each add under `saturation.minGain`. */
    upTo: positiveInt('upTo', LIMITS.batchRows).optional(),
  })
    .refine((b) => (b.sizes === undefined) !== (b.upTo === undefined), {
      message: 'give sizes (the batches to search) or upTo (double from 1 until throughput stops growing), one of them',
      path: ['sizes'],
    })
    .optional(),
  /** The most instances of a candidate the job may run on. @default 100 */
  maxInstances: positiveInt('maxInstances', LIMITS.offlineInstances).default(100),
  /**
   * The most invocations of a candidate billed per request (Lambda) the job may run at once: your
   * account's concurrency limit in the region, less what else runs there. @default 1000
   */
  maxConcurrentInvocations: positiveInt('maxConcurrentInvocations', LIMITS.offlineInstances).default(1000),
  /** The saturation search: concurrency from `from`, doubling, to `to`, each step `stepDuration` long. */
  saturation: strict({
    /** @default 1 */
    from: positiveInt('from', LIMITS.concurrency).default(1),
    /** @default 64 */
    to: positiveInt('to', LIMITS.concurrency).default(64),
    /** @default 5s */
    stepDuration: duration.default(5000),
    /** A doubling of concurrency that adds less than this share of throughput means saturated. @default 0.1 */
    minGain: z.number().min(0.01, 'minGain is 0.01 to 1').max(1, 'minGain is 0.01 to 1').default(0.1),
    /**
     * A step whose throughput's 95% interval is wider than ± this share is measured again, twice
     * as long, up to four times `stepDuration`. @default 0.05
     */
    precision: z.number().min(0.001, 'precision is 0.001 to 1').max(1, 'precision is 0.001 to 1').default(0.05),
  })
    .refine((s) => s.to >= s.from, { message: 'to must be at least from', path: ['to'] })
    .default({ from: 1, to: 64, stepDuration: 5000, minGain: 0.1, precision: 0.05 }),
}).refine((o) => o.batch === undefined || o.rowsPerRequest === 1, {
  message: 'rowsPerRequest is for payloads sent as they are; with batch, each request carries one of batch.sizes rows (leave rowsPerRequest out)',
  path: ['rowsPerRequest'],
});
export type OfflineSpec = z.output<typeof offlineSchema>;

/** How the candidates of a grid are searched (see `candidateSearch`). */
export const SEARCH_MODES = ['prune', 'exhaustive', 'guided'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

const strategySchema = z
  .union(
    [
      z.enum(['cost', 'speed', 'balanced'], { error: 'strategy is cost, speed, balanced, or { type: balanced, weight: 0..1 }' }),
      strict({
        type: z.enum(['cost', 'speed', 'balanced']),
        /** balanced only: the weight of cost against latency, 0 (all latency) to 1 (all cost). */
        weight: z.number().min(0, 'weight is 0 to 1').max(1, 'weight is 0 to 1').default(0.5),
      }),
    ],
    { error: () => 'strategy is cost, speed, balanced, or { type: balanced, weight: 0..1 }' },
  )
  .transform((s) => (typeof s === 'string' ? { type: s, weight: 0.5 } : s));

export const sweepSpecSchema = strict({
  name,
  model: strict({
    /** Names resources, keys and the recommendation's SSM parameter, so it is kept to a safe charset. */
    name: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
        'must be 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit (it names cloud resources and keys)',
      ),
    /** A local .onnx file (used by local candidates). */
    path: z.string().min(1).optional(),
  }),
  /** Request bodies; may be left out when `prompts` are given. */
  payloads: z.array(payloadSchema).max(LIMITS.payloads, `at most ${LIMITS.payloads} payloads`).default([]),
  /** Generative candidates: prompt buckets, sent as OpenAI request bodies alongside any payloads. */
  prompts: z
    .array(promptBucketSchema)
    .min(1, 'needs at least one bucket, or leave prompts out')
    .max(LIMITS.payloads, `at most ${LIMITS.payloads} prompt buckets`)
    .optional(),
  candidates: z
    .array(candidateGroupSchema)
    .min(1, 'needs at least one candidate')
    .max(LIMITS.listValues, `at most ${LIMITS.listValues} candidate groups`),
  /** How each candidate is loaded; an offline sweep may leave it out (its saturation search is its load). */
  load: loadSchema.default({ phases: [], timeout: 30_000 }),
  slo: sloSchema,
  /** Measure each candidate's answers against a labelled dataset, and keep only those that meet `quality.slo`. */
  quality: qualitySchema.optional(),
  /** The traffic a real-time endpoint must serve; or give `offline`. */
  traffic: trafficSchema.optional(),
  /** A batch job to size instead of an endpoint: its rows and deadline (see docs/offline.md). */
  offline: offlineSchema.optional(),
  strategy: strategySchema.default({ type: 'cost', weight: 0.5 }),
  /**
   * Which candidates are deployed: `prune` (the default) measures them cheapest-possible first and
   * skips any that cannot win; `exhaustive` measures every one; `guided` also skips those that a
   * prediction from measured siblings says will lose (a heuristic: see docs/search.md).
   */
  candidateSearch: strict({
    mode: z.enum(SEARCH_MODES, { error: `mode is ${SEARCH_MODES.join(', ')}` }).default('prune'),
    /** Deploy at most this many candidates; the rest are skipped, cheapest-possible first measured. */
    maxDeployments: positiveInt('maxDeployments', LIMITS.listValues).optional(),
    /**
     * guided: how far a prediction from siblings may be off, as a factor: a candidate is skipped
     * only when even `margin` × its predicted capacity would lose. @default 1.5
     */
    margin: z.number().min(1, 'margin is at least 1').max(100, 'margin is at most 100').default(1.5),
  }).default({ mode: 'prune', margin: 1.5 }),
  budget: strict({ maxUsd: positive('maxUsd', LIMITS.budgetUsd) }).optional(),
  /**
   * How candidates are priced: `commitment` (a Savings Plan or reservation term; the report shows
   * on-demand beside it) and `prices`, any part of the price catalog, overriding the price lists
   * and the bundled snapshot (`--prices` overrides it in turn).
   */
  pricing: strict({
    commitment: z.enum(COMMITMENTS, { error: `commitment is one of ${COMMITMENTS.join(', ')}` }).default('on-demand'),
    prices: priceLayerSchema.optional(),
  }).optional(),
  seed: z
    .number()
    .int('seed must be a whole number')
    .min(0, 'seed is 0 or more')
    .max(2 ** 31 - 1, 'seed is at most 2147483647')
    .default(1),
}).transform(({ traffic, slo, ...spec }, ctx) => {
  if (spec.offline) {
    for (const [field, why] of [
      [traffic, 'traffic is for an endpoint; an offline job gives offline instead (not both)'],
      [spec.load.search, 'the rate search is for an endpoint; an offline job is measured by offline.saturation'],
    ] as const)
      if (field !== undefined) ctx.addIssue({ code: 'custom', path: why.startsWith('traffic') ? ['traffic'] : ['load', 'search'], message: why });
    // Without a latency bound, a request is bounded by its timeout only; errors still count.
    return { ...spec, slo: filledSlo(slo, slo.percentile ?? 99, slo.latencyMs ?? spec.load.timeout), traffic: undefined };
  }
  if (traffic === undefined)
    ctx.addIssue({ code: 'custom', path: ['traffic'], message: 'traffic is needed: the forecast to size for (or offline, for a batch job)' });
  if (slo.percentile === undefined)
    ctx.addIssue({ code: 'custom', path: ['slo', 'percentile'], message: 'percentile is needed: the latency percentile the SLO bounds' });
  if (slo.latencyMs === undefined)
    ctx.addIssue({ code: 'custom', path: ['slo', 'latencyMs'], message: 'latencyMs is needed: the bound on that percentile' });
  if (spec.load.phases.length === 0) ctx.addIssue({ code: 'custom', path: ['load', 'phases'], message: 'needs at least one phase' });
  if (traffic === undefined || slo.percentile === undefined || slo.latencyMs === undefined) return z.NEVER;
  return { ...spec, slo: filledSlo(slo, slo.percentile, slo.latencyMs), traffic: trafficInRequests(traffic, spec, ctx) };
});

/** The SLO with its percentile and latency bound set, and each token bound's percentile (the SLO's own by default). */
function filledSlo({ timeToFirstToken, interTokenLatency, ...slo }: z.output<typeof sloSchema>, percentile: number, latencyMs: number) {
  return {
    ...slo,
    percentile,
    latencyMs,
    ...(timeToFirstToken ? { timeToFirstToken: { percentile: timeToFirstToken.percentile ?? percentile, ms: timeToFirstToken.ms } } : {}),
    ...(interTokenLatency ? { interTokenLatency: { percentile: interTokenLatency.percentile ?? percentile, ms: interTokenLatency.ms } } : {}),
  };
}

/** The traffic forecast in requests per second (what capacity and cost are sized for), and in output tokens when it was given so. */
export interface TrafficForecastSpec {
  readonly averageRps: number;
  readonly peakRps: number;
  readonly hourlyProfile?: number[];
  /** Set when the forecast was given in output tokens per second: the tokens each request was taken to stream, and the forecast as given. */
  readonly outputTokens?: { readonly perRequest: number; readonly averagePerSecond: number; readonly peakPerSecond: number };
}

function trafficInRequests(
  traffic: z.output<typeof trafficSchema>,
  spec: { readonly payloads: readonly unknown[]; readonly prompts?: readonly { weight: number; maxTokens: number }[] },
  ctx: z.RefinementCtx,
): TrafficForecastSpec {
  if (traffic.averageOutputTokensPerSecond === undefined || traffic.peakOutputTokensPerSecond === undefined)
    return { averageRps: traffic.averageRps!, peakRps: traffic.peakRps!, ...(traffic.hourlyProfile ? { hourlyProfile: traffic.hourlyProfile } : {}) };
  if (!spec.prompts || spec.payloads.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['traffic', 'averageOutputTokensPerSecond'],
      message:
        'a forecast in output tokens per second needs every request to come from prompts (their maxTokens say how many tokens a request streams); give prompts and no payloads, or give averageRps and peakRps',
    });
    return z.NEVER;
  }
  const weight = spec.prompts.reduce((sum, b) => sum + b.weight, 0);
  const perRequest = spec.prompts.reduce((sum, b) => sum + b.weight * b.maxTokens, 0) / weight;
  return {
    averageRps: traffic.averageOutputTokensPerSecond / perRequest,
    peakRps: traffic.peakOutputTokensPerSecond / perRequest,
    ...(traffic.hourlyProfile ? { hourlyProfile: traffic.hourlyProfile.map((v) => v / perRequest) } : {}),
    outputTokens: { perRequest, averagePerSecond: traffic.averageOutputTokensPerSecond, peakPerSecond: traffic.peakOutputTokensPerSecond },
  };
}

export type SweepSpec = z.output<typeof sweepSpecSchema>;
export type SweepSpecInput = z.input<typeof sweepSpecSchema>;
