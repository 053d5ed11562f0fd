// The streaming APIs a candidate or `modelsweep load` may speak, and what their request bodies
// must be. Apart from the invoker so that spec validation (which the constructs run at synth)
// does not load the HTTP client.

/** The OpenAI-compatible APIs (vLLM, TGI, LMI, llama.cpp's server and others speak them). */
export const OPENAI_APIS = ['openai-chat', 'openai-completions'] as const;
export type OpenAiApi = (typeof OPENAI_APIS)[number];

/** Why a payload cannot be an OpenAI request body, or undefined when it can (a JSON object). */
export function openAiBodyProblem(body: string | Uint8Array): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch (error) {
    return `is not JSON (${(error as Error).message})`;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? undefined : 'must be a JSON object (an OpenAI request body)';
}
