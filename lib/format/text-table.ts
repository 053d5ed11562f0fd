export type Align = 'left' | 'right';

/**
 * Rows of cells as aligned text lines: each column as wide as its widest cell, two spaces
 * between columns, trailing spaces trimmed. `align[i]` says how column i is padded (default
 * left); with `headerRule`, a row of dashes under each column follows the first row.
 */
export function textTable(rows: readonly string[][], options: { align?: readonly Align[]; headerRule?: boolean } = {}): string[] {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(0, ...rows.map((r) => (r[i] ?? '').length)));
  const all = options.headerRule && rows.length > 0 ? [rows[0], widths.map((w) => '-'.repeat(w)), ...rows.slice(1)] : rows;
  return all.map((row) =>
    row
      .map((cell, i) => (options.align?.[i] === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

/** A rule of dashes as wide as the widest of `lines`. */
export function rule(lines: readonly string[]): string {
  return '-'.repeat(Math.max(0, ...lines.map((l) => l.length)));
}
