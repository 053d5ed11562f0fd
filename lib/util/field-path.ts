/** A field path for error messages: ['candidates', 2, 'memorySizesMb', 0] → `candidates[2].memorySizesMb[0]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}
