import { z } from 'zod';

import { ModelsweepError } from '../errors';
import { DEFAULT_MAX_BODY_BYTES } from './invocation';

const integerFromEnv = (name: string, min: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min, `${name} must be at least ${min}`);

const envSchema = z.object({
  MODEL_PATH: z.string({ error: 'MODEL_PATH is not set: give the path of the .onnx file to serve' }).min(1, 'MODEL_PATH is empty'),
  MODEL_SERVER_THREADS: integerFromEnv('MODEL_SERVER_THREADS', 0).optional(),
  MAX_BODY_BYTES: integerFromEnv('MAX_BODY_BYTES', 1).optional(),
  MODEL_SERVER_MAX_BATCH: integerFromEnv('MODEL_SERVER_MAX_BATCH', 1).optional(),
  MODEL_SERVER_BATCH_DELAY_MS: integerFromEnv('MODEL_SERVER_BATCH_DELAY_MS', 0).optional(),
  MODEL_SERVER_MAX_IN_FLIGHT: integerFromEnv('MODEL_SERVER_MAX_IN_FLIGHT', 1).optional(),
});

/** The model server's settings, read from the environment (Lambda) or flags (HTTP mode). */
export interface ModelServerConfig {
  readonly modelPath: string;
  /** 0 = onnxruntime's choice. */
  readonly threads: number;
  readonly maxBodyBytes: number;
  /** Concurrent requests stacked into one run, at most; 1 = no batching. */
  readonly maxBatchSize: number;
  /** Longest a request waits for others to join its batch. */
  readonly batchDelayMs: number;
  /** Invocations in flight at once over HTTP; undefined = the server's default (see ModelHttpServerOptions.maxInFlight). */
  readonly maxInFlight?: number;
}

/**
 * Reads `MODEL_PATH`, `MODEL_SERVER_THREADS`, `MAX_BODY_BYTES`, `MODEL_SERVER_MAX_BATCH`,
 * `MODEL_SERVER_BATCH_DELAY_MS` and `MODEL_SERVER_MAX_IN_FLIGHT`, naming the variable that is wrong.
 */
export function configFromEnv(env: NodeJS.ProcessEnv): ModelServerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ModelsweepError('invalid-input', `model server configuration: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  return {
    modelPath: parsed.data.MODEL_PATH,
    threads: parsed.data.MODEL_SERVER_THREADS ?? 0,
    maxBodyBytes: parsed.data.MAX_BODY_BYTES ?? DEFAULT_MAX_BODY_BYTES,
    maxBatchSize: parsed.data.MODEL_SERVER_MAX_BATCH ?? 1,
    batchDelayMs: parsed.data.MODEL_SERVER_BATCH_DELAY_MS ?? 2,
    ...(parsed.data.MODEL_SERVER_MAX_IN_FLIGHT !== undefined ? { maxInFlight: parsed.data.MODEL_SERVER_MAX_IN_FLIGHT } : {}),
  };
}
