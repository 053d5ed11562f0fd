import { LIMITS } from './limits';

/** One example: the request body it is sent as, and the answer expected (absent where answers are compared with a reference variant's). */
export interface QualityExample {
  /** The request body: `input` as JSON, or as it is when `input` is a string. */
  readonly body: string;
  readonly expected?: unknown;
}

/** At most this many bad lines are named in an error; the count says how many there were. */
const NAMED_PROBLEMS = 5;

/**
 * The examples of a quality dataset: a JSONL text, one `{"input": <request body>, "expected":
 * <value>}` per line (blank lines skipped). Every bad line is a problem naming its line number and
 * what is wrong; the limits (`LIMITS.qualityExamples`, `payloadBytes` per input) are checked as it
 * reads, so a huge file stops at the first line past them. With `labelled: false` (answers are
 * compared with a reference variant's), `expected` may be left out.
 */
export function parseQualityDataset(text: string, labelled = true): { examples: QualityExample[]; problems: string[] } {
  const examples: QualityExample[] = [];
  const problems: string[] = [];
  let bad = 0;
  const problem = (line: number, what: string) => {
    bad++;
    if (problems.length < NAMED_PROBLEMS) problems.push(`line ${line}: ${what}`);
  };
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    if (examples.length >= LIMITS.qualityExamples) {
      problems.push(`has more than ${LIMITS.qualityExamples.toLocaleString('en-US')} examples; use a sample of them`);
      return { examples: [], problems };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      problem(i + 1, `is not JSON: ${line.length > 60 ? `${line.slice(0, 60)}…` : line}`);
      continue;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !('input' in parsed)) {
      problem(i + 1, 'must be an object with "input" (the request body) and "expected" (the right answer)');
      continue;
    }
    const { input, expected } = parsed as { input: unknown; expected?: unknown };
    if (expected === undefined && labelled) {
      problem(i + 1, 'has no "expected": the right answer to score the response against');
      continue;
    }
    const body = typeof input === 'string' ? input : JSON.stringify(input);
    if (Buffer.byteLength(body) > LIMITS.payloadBytes) {
      problem(i + 1, `its input is over ${LIMITS.payloadBytes / 1024 / 1024} MiB, more than one request may carry`);
      continue;
    }
    examples.push(expected === undefined ? { body } : { body, expected });
  }
  if (bad > problems.length) problems.push(`and ${bad - problems.length} more bad lines`);
  if (examples.length === 0 && problems.length === 0) problems.push('has no examples: give one JSON object per line');
  return { examples: problems.length > 0 ? [] : examples, problems };
}
