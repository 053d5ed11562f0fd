/**
 * A transform job's sample: the sweep's payloads, one per line, split into equal files. The same
 * for every candidate of a sweep, so their jobs score the same rows.
 */
import { type Payload, payloadBytes, weightedPayloadPicker } from '../../load/invoker';
import { TRANSFORM_SAMPLE_FILES } from '../../spec/schema';
import { SetupError } from '../adapter';

/** One file of the sample: its name under the candidate's `in/`, its lines, and its body. */
export interface SampleFile {
  readonly name: string;
  readonly lines: number;
  readonly body: string;
}

/** The sample's files carry their index in their name; their outputs are `<name>.out`. */
export const sampleFileName = (index: number): string => `part-${String(index).padStart(2, '0')}`;

/** Lines in each of the sample's files: as equal as `sampleRows` allows, the first files taking the rest. */
export function sampleSplit(sampleRows: number): number[] {
  const files = Math.min(TRANSFORM_SAMPLE_FILES, sampleRows);
  const each = Math.floor(sampleRows / files);
  return Array.from({ length: files }, (_, i) => each + (i < sampleRows % files ? 1 : 0));
}

/**
 * Each payload as one line: a JSON body compacted onto one line, any other body as it is. A
 * transform job splits its input by line, so a body with a line break would be cut in two, and one
 * job has one content type: either is a setup error that names the payload.
 */
function sampleLines(payloads: readonly Payload[]): { lines: string[]; contentType: string } {
  if (payloads.length === 0) throw new SetupError('sagemaker-batch-transform candidates need payloads: the lines of their sample');
  const contentType = payloads[0]!.contentType;
  const lines = payloads.map((p, i) => {
    const name = p.name ? `payloads[${i}] (${p.name})` : `payloads[${i}]`;
    if (p.contentType !== contentType)
      throw new SetupError(`${name} is ${p.contentType}, but payloads[0] is ${contentType}: a transform job's sample has one content type`);
    const text = Buffer.from(payloadBytes(p)).toString('utf8');
    const line = /json/i.test(contentType) ? compactJson(text) : text;
    if (/[\r\n]/.test(line))
      throw new SetupError(`${name} holds a line break: a transform job splits its sample by line, so each payload must be one line`);
    return line;
  });
  return { lines, contentType };
}

const compactJson = (text: string): string => {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
};

/** The sample's lines and content type, or a {@link SetupError} where the payloads cannot make one of `sampleRows` lines. */
export function checkSample(payloads: readonly Payload[], sampleRows: number): { lines: string[]; contentType: string } {
  const sample = sampleLines(payloads);
  const longest = Math.max(...sample.lines.map((l) => Buffer.byteLength(l) + 1));
  if (sampleRows * longest > SAMPLE_MAX_BYTES)
    throw new SetupError(
      `sampleRows: ${sampleRows.toLocaleString('en-US')} lines of up to ${longest.toLocaleString('en-US')} bytes exceed the ${SAMPLE_MAX_BYTES / 1024 ** 2} MiB a sample may hold; give fewer sampleRows`,
    );
  return sample;
}

/** The most bytes a sample may hold: it is written a file at a time, each built in memory. */
export const SAMPLE_MAX_BYTES = 800 * 1024 ** 2;

/**
 * The sample's files, one at a time (so that only one is in memory): `sampleRows` lines drawn from
 * the payloads by weight, with a fixed seed, so every candidate gets the same sample.
 */
export function* sampleFiles(payloads: readonly Payload[], sampleRows: number): Generator<SampleFile> {
  const { lines } = checkSample(payloads, sampleRows);
  const index = new Map(payloads.map((p, i) => [p, i]));
  const pick = weightedPayloadPicker(payloads, 1);
  for (const [i, count] of sampleSplit(sampleRows).entries()) {
    const body = Array.from({ length: count }, () => lines[index.get(pick())!]!).join('\n');
    yield { name: sampleFileName(i), lines: count, body: `${body}\n` };
  }
}
