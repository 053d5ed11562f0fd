/**
 * The generative model servers AWS ships as Deep Learning Containers for SageMaker, and how each
 * is told what to serve: one place for their repositories and the environment variables they read
 * (their own documentation: LMI's OPTION_*, TGI's launcher variables, the vLLM image's SM_VLLM_*,
 * each turned into the server's flag of the same name).
 */
export const GENERATIVE_SERVERS = {
  /** Large Model Inference (DJL Serving with vLLM/TensorRT-LLM/LMI-Dist). */
  lmi: { repository: 'djl-inference', title: 'LMI' },
  /** Hugging Face Text Generation Inference. */
  tgi: { repository: 'huggingface-pytorch-tgi-inference', title: 'TGI' },
  /** vLLM's SageMaker image. */
  vllm: { repository: 'vllm', title: 'vLLM' },
} as const;

export type GenerativeServer = keyof typeof GENERATIVE_SERVERS;

/** What a generative server is asked to do; unset fields are left to the server's defaults. */
export interface GenerativeServing {
  /** A Hugging Face model id, or a path (`/opt/ml/model` when the model data is mounted). */
  readonly modelId: string;
  readonly tensorParallelDegree?: number;
  readonly maxModelLength?: number;
  readonly maxConcurrentSequences?: number;
}

/** The container environment that makes `server` serve as asked. */
export function generativeEnvironment(server: GenerativeServer, serving: GenerativeServing): Record<string, string> {
  const names = ENVIRONMENT_NAMES[server];
  return Object.fromEntries(
    (Object.keys(names) as (keyof GenerativeServing)[]).flatMap((field) =>
      serving[field] === undefined ? [] : [[names[field], String(serving[field])]],
    ),
  );
}

const ENVIRONMENT_NAMES: Record<GenerativeServer, Record<keyof GenerativeServing, string>> = {
  lmi: {
    modelId: 'HF_MODEL_ID',
    tensorParallelDegree: 'OPTION_TENSOR_PARALLEL_DEGREE',
    maxModelLength: 'OPTION_MAX_MODEL_LEN',
    maxConcurrentSequences: 'OPTION_MAX_ROLLING_BATCH_SIZE',
  },
  tgi: {
    modelId: 'HF_MODEL_ID',
    tensorParallelDegree: 'SM_NUM_GPUS',
    maxModelLength: 'MAX_TOTAL_TOKENS',
    maxConcurrentSequences: 'MAX_CONCURRENT_REQUESTS',
  },
  vllm: {
    modelId: 'SM_VLLM_MODEL',
    tensorParallelDegree: 'SM_VLLM_TENSOR_PARALLEL_SIZE',
    maxModelLength: 'SM_VLLM_MAX_MODEL_LEN',
    maxConcurrentSequences: 'SM_VLLM_MAX_NUM_SEQS',
  },
};
