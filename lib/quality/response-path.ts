import { parseJsonPointer } from '../util/json-pointer';
import { describe } from './metrics';

export type ReadAnswer = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string };

/**
 * The answer in one response body: parsed as JSON, followed down `path`, then reduced to the index
 * of its highest score where `argmax` is asked (of the first row, for a batch of one). A body that
 * is not JSON, a path into nothing and an argmax over no numbers are problems that name the path
 * and show the start of the response.
 */
export function readAnswer(body: Uint8Array | string, pointer: string, argmax: boolean): ReadAnswer {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: `the response is not JSON: ${JSON.stringify(shown)}` };
  }
  const path = parseJsonPointer(pointer);
  if (typeof path === 'string') return { ok: false, problem: `responsePath ${pointer}: ${path}` };
  let at: unknown = value;
  for (const [i, token] of path.entries()) {
    const here = `/${path.slice(0, i).join('/')}`;
    if (Array.isArray(at)) {
      const index = /^(0|[1-9]\d*)$/.test(token) ? Number(token) : Number.NaN;
      if (!(index < at.length))
        return {
          ok: false,
          problem: `responsePath ${pointer}: ${here} is a list of ${at.length}, with no element ${JSON.stringify(token)}; the response was ${shown}`,
        };
      at = at[index];
    } else if (at !== null && typeof at === 'object') {
      if (!Object.prototype.hasOwnProperty.call(at, token))
        return { ok: false, problem: `responsePath ${pointer}: ${here} has no member ${JSON.stringify(token)}; the response was ${shown}` };
      at = (at as Record<string, unknown>)[token];
    } else return { ok: false, problem: `responsePath ${pointer}: ${here} is ${describe(at)}, not a list or an object; the response was ${shown}` };
  }
  if (!argmax) return { ok: true, value: at };
  const scores = Array.isArray(at) && Array.isArray(at[0]) ? (at[0] as unknown[]) : at;
  if (!Array.isArray(scores) || scores.length === 0 || !scores.every((s) => typeof s === 'number'))
    return { ok: false, problem: `responsePath ${pointer} with argmax: needs a list of scores, got ${describe(at)}; the response was ${shown}` };
  let best = 0;
  for (let i = 1; i < scores.length; i++) if ((scores[i] as number) > (scores[best] as number)) best = i;
  return { ok: true, value: best };
}
