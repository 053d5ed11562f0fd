/**
 * Requests of a given batch size built from the sweep's payloads: the rows at a JSON pointer in
 * each payload are pooled, and each batched request carries `size` of them in the first payload's
 * place. The rows are either a JSON array (each element a row) or a tensor `{ dims, data }` whose
 * first dimension is the batch (the model server's format), with `data` flat.
 */
import { ModelsweepError } from '../errors';
import { parseJsonPointer } from '../util/json-pointer';
import { type Payload, payloadBytes } from './invoker';

/** A tensor in the model server's JSON format: `dims` and a flat `data`. */
interface Tensor {
  readonly dims: number[];
  readonly data: unknown[];
}

const isTensor = (v: unknown): v is Tensor =>
  typeof v === 'object' &&
  v !== null &&
  Array.isArray((v as Tensor).dims) &&
  Array.isArray((v as Tensor).data) &&
  (v as Tensor).dims.length >= 1 &&
  (v as Tensor).dims.every((d) => Number.isInteger(d) && d > 0);

/** How many batched requests to build for each size: enough variety that a cache cannot answer them all. */
const VARIANTS = 16;

/** One payload's rows at the pointer, and how to put `rows` back: as an array, or as a tensor of the same row shape. */
function rowsOf(json: unknown, tokens: readonly string[], field: string, name: string): { rows: unknown[]; rebuild: (rows: unknown[]) => unknown } {
  const at = tokens.reduce<unknown>((v, t) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[t] : undefined), json);
  if (Array.isArray(at)) {
    if (at.length === 0) throw new ModelsweepError('invalid-input', `${field}: ${name} has no rows there (an empty array)`);
    return { rows: at, rebuild: (rows) => rows };
  }
  if (isTensor(at)) {
    const [batch, ...shape] = at.dims;
    const perRow = shape.reduce((a, b) => a * b, 1);
    if (at.data.length !== batch! * perRow)
      throw new ModelsweepError(
        'invalid-input',
        `${field}: ${name} holds a tensor whose data (${at.data.length} values) does not fill its dims [${at.dims.join(', ')}]`,
      );
    const rows = Array.from({ length: batch! }, (_, i) => at.data.slice(i * perRow, (i + 1) * perRow));
    return { rows, rebuild: (batchRows) => ({ ...at, dims: [batchRows.length, ...shape], data: (batchRows as unknown[][]).flat() }) };
  }
  throw new ModelsweepError(
    'invalid-input',
    `${field}: ${name} has ${at === undefined ? 'nothing' : `a ${typeof at}`} there; it must point at the rows: a JSON array, or a tensor { dims, data } whose first dimension is the batch`,
  );
}

const setAt = (json: unknown, tokens: readonly string[], value: unknown): unknown => {
  if (tokens.length === 0) return value;
  const [head, ...rest] = tokens;
  const copy = Array.isArray(json) ? [...json] : { ...(json as Record<string, unknown>) };
  (copy as Record<string, unknown>)[head!] = setAt((json as Record<string, unknown>)[head!], rest, value);
  return copy;
};

/**
 * Batched requests of `size` rows each, from the rows at `pointer` in every payload (in order; a
 * payload's weight is not used: each row counts once). The first payload is the template. A
 * payload that is not JSON, or has no rows there, or rows of another shape than the first's, is
 * an error naming `field` and the payload.
 */
export function batchPayloads(payloads: readonly Payload[], pointer: string, size: number, field = 'offline.batch.path'): Payload[] {
  const tokens = parseJsonPointer(pointer);
  if (typeof tokens === 'string') throw new ModelsweepError('invalid-input', `${field}: ${tokens}`);
  if (tokens.length === 0) throw new ModelsweepError('invalid-input', `${field}: must point inside the payload, at its rows (e.g. /inputs)`);
  const parsed = payloads.map((p, i) => {
    const name = p.name ? `payloads[${i}] (${p.name})` : `payloads[${i}]`;
    try {
      return { name, json: JSON.parse(Buffer.from(payloadBytes(p)).toString('utf8')) as unknown };
    } catch {
      throw new ModelsweepError('invalid-input', `${field}: ${name} is not JSON, so its rows cannot be batched`);
    }
  });
  if (parsed.length === 0) throw new ModelsweepError('invalid-input', `${field}: there are no payloads to batch`);
  const [template, ...others] = parsed.map(({ json, name }) => ({ json, name, ...rowsOf(json, tokens, field, name) }));
  const shape = (row: unknown) => (Array.isArray(row) ? row.length : typeof row);
  for (const other of others)
    if (shape(other.rows[0]) !== shape(template!.rows[0]))
      throw new ModelsweepError(
        'invalid-input',
        `${field}: ${other.name}'s rows are not shaped as ${template!.name}'s, so they cannot share a batch`,
      );
  const pool = [template!, ...others].flatMap((p) => p.rows);
  const contentType = payloads[0]!.contentType;
  return Array.from({ length: Math.min(VARIANTS, pool.length) }, (_, v) => {
    const rows = Array.from({ length: size }, (_, i) => pool[(v + i) % pool.length]);
    return { body: JSON.stringify(setAt(template!.json, tokens, template!.rebuild(rows))), contentType, name: `batch of ${size}` };
  });
}
