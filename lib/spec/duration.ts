import { ModelsweepError } from '../errors';
const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The grammar of a duration: a number and a unit, e.g. `500ms`, `60s`, `2m`, `1.5h`. */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Milliseconds in a duration such as `"60s"`; throws an error saying what is allowed. */
export function parseDurationMs(text: string): number {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) throw new ModelsweepError('invalid-input', `"${text}" is not a duration; use a number and a unit: 500ms, 60s, 2m or 1h`);
  return Number(match[1]) * UNITS_MS[match[2]];
}
