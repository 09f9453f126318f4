// The operators' commands print lists as a table: aligned columns under a header on a terminal, and one
// tab-separated line per row otherwise (for `cut`, `awk` and friends; `--json` is there for anything more).

export interface Column<R> {
  readonly header: string;
  readonly value: (row: R) => string | number | undefined;
  /** Right-aligned on a terminal (numbers). */
  readonly numeric?: boolean;
}

/** Control characters are shown as `?`: a value from the cluster (an app name) cannot move the cursor. */
function cell(value: string | number | undefined): string {
  if (value === undefined || value === '') return '-';
  return [...String(value)].map((ch) => (isControl(ch.charCodeAt(0)) ? '?' : ch)).join('');
}

function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

export function formatTable<R>(rows: readonly R[], columns: ReadonlyArray<Column<R>>, tty: boolean): string {
  const cells = rows.map((row) => columns.map((c) => cell(c.value(row))));
  if (!tty) return cells.map((line) => line.join('\t')).join('\n') + (cells.length > 0 ? '\n' : '');
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((line) => (line[i] as string).length)));
  const pad = (text: string, i: number): string => (columns[i]?.numeric === true ? text.padStart(widths[i] as number) : text.padEnd(widths[i] as number));
  const lines = [columns.map((c, i) => pad(c.header, i)), ...cells.map((line) => line.map(pad))];
  return lines.map((line) => line.join('  ').trimEnd()).join('\n') + '\n';
}
