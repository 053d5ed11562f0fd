import { extname, resolve } from 'node:path';

import type { Payload } from '../load/invoker';
import { readBoundedFile } from '../util/bounded-file';
import { LIMITS } from './limits';
import type { SweepSpec } from './schema';

type PromptBucket = NonNullable<SweepSpec['prompts']>[number];

/** One prompt: text, or the chat messages a `.jsonl` line gave. */
type Prompt = { readonly text: string } | { readonly messages: readonly unknown[] };

/** Where a problem with a prompt bucket is: its field, and what is wrong. */
export interface PromptIssue {
  readonly path: Array<string | number>;
  readonly message: string;
}

/**
 * Common English words: a synthetic prompt of N of them is about N tokens for the BPE tokenizers
 * of today's models (a word outside a tokenizer's vocabulary costs two or three).
 */
const WORDS =
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there one all we their can has more when will would who so no if out up what time about'.split(
    ' ',
  );

/** A deterministic prompt of `words` words, different per bucket so a server cannot cache one for all. */
export function syntheticPrompt(words: number, bucket: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[(i * 7 + bucket * 13 + Math.floor(i / WORDS.length)) % WORDS.length]!);
  return out.join(' ');
}

/**
 * The spec's prompt buckets as payloads: one OpenAI chat request body per prompt (`model`, the
 * messages, `max_tokens`; the stream invoker turns it into a completions body for
 * `openai-completions` candidates), named by bucket, a bucket's weight shared among its prompts.
 * With `checkFiles` false, files are not read (a spec staged elsewhere) and their prompts are left out.
 */
export function promptPayloads(
  buckets: readonly PromptBucket[],
  model: string,
  baseDir: string,
  checkFiles: boolean,
): { payloads: Payload[]; issues: PromptIssue[] } {
  const payloads: Payload[] = [];
  const issues: PromptIssue[] = [];
  buckets.forEach((bucket, b) => {
    let prompts: Prompt[];
    if (bucket.text !== undefined) prompts = [{ text: bucket.text }];
    else if (bucket.inputTokens !== undefined) prompts = [{ text: syntheticPrompt(bucket.inputTokens, b) }];
    else {
      if (!checkFiles) return;
      try {
        prompts = promptsOfFile(resolve(baseDir, bucket.file!));
      } catch (error) {
        issues.push({ path: ['prompts', b, 'file'], message: (error as Error).message.replace(/^file: /, '') });
        return;
      }
    }
    const name = bucket.name ?? `prompts[${b}]`;
    for (const prompt of prompts) {
      const messages = 'messages' in prompt ? prompt.messages : [{ role: 'user', content: prompt.text }];
      payloads.push({
        body: JSON.stringify({ model, messages, max_tokens: bucket.maxTokens }),
        contentType: 'application/json',
        weight: bucket.weight / prompts.length,
        name,
      });
    }
  });
  return { payloads, issues };
}

/** A file's prompts: one per line of a `.jsonl` file, else the whole file. Throws naming the line that is wrong. */
function promptsOfFile(path: string): Prompt[] {
  const text = readBoundedFile(path, LIMITS.payloadBytes, 'file').toString('utf8');
  if (extname(path).toLowerCase() !== '.jsonl') {
    if (text.trim() === '') throw new Error(`${path} is empty`);
    return [{ text }];
  }
  const prompts: Prompt[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (prompts.length === LIMITS.promptsPerFile) throw new Error(`${path} has more than ${LIMITS.promptsPerFile.toLocaleString('en-US')} prompts`);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${path} line ${i + 1} is not JSON (${(error as Error).message})`, { cause: error });
    }
    const prompt = promptOf(value);
    if (!prompt) throw new Error(`${path} line ${i + 1} must be a string, or an object with "messages" (a list) or "prompt" (a string)`);
    prompts.push(prompt);
  }
  if (prompts.length === 0) throw new Error(`${path} holds no prompts`);
  return prompts;
}

function promptOf(value: unknown): Prompt | undefined {
  if (typeof value === 'string' && value.length > 0) return { text: value };
  if (typeof value !== 'object' || value === null) return undefined;
  const { messages, prompt } = value as { messages?: unknown; prompt?: unknown };
  if (Array.isArray(messages) && messages.length > 0) return { messages };
  if (typeof prompt === 'string' && prompt.length > 0) return { text: prompt };
  return undefined;
}
