/**
 * A place in a JSON document: a JSON pointer (RFC 6901), `/outputs/probabilities/data`
 * or `/0/label`; the empty pointer is the whole document. `~1` stands for `/` and `~0` for `~`.
 */
export function parseJsonPointer(pointer: string): string[] | string {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return 'must be a JSON pointer: empty, or starting with / (e.g. /outputs/0)';
  const tokens = pointer.slice(1).split('/');
  if (tokens.some((t) => /~(?![01])/.test(t))) return 'a ~ in a JSON pointer must be ~0 (for ~) or ~1 (for /)';
  return tokens.map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}
