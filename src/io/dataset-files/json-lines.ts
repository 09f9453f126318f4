// JSON Lines (one JSON value per line) for `flint.jsonFile` and `ds.saveAsJsonFile`: the record format of Spark's
// `spark.read.json` / `df.write.json` without the schema. Parsing names the file and shows the start of the bad
// line, so a task failure points at the data; formatting refuses a record that JSON cannot hold instead of
// writing the `undefined` that JSON.stringify returns for it. JSON.stringify escapes '\n', so one record is
// always one line.
//
// As JSON.stringify does, inside a record an object property holding undefined or a function is left out,
// NaN and ±Infinity become null, and a Date becomes its ISO string (its toJSON).

import { FlintError } from '../../errors.ts';

/** How much of a bad line an error message shows. */
export const LINE_PREVIEW_CHARS = 80;

/** A line of a JSON input that is not valid JSON. */
export class BadJsonLineError extends FlintError {
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super('FLINT_BAD_JSON_LINE', message, options);
    this.path = path;
  }
}

/** A record to save as JSON that JSON cannot represent: undefined, a function, a symbol, a bigint, a cycle. */
export class JsonRecordError extends FlintError {
  readonly valueType: string;
  /** The same record fails the same way on every attempt. */
  readonly retryable = false;
  constructor(valueType: string, detail: string) {
    super(
      'FLINT_RECORD_NOT_JSON',
      `Cannot write a record as JSON: ${detail}. Records saved with saveAsJsonFile must be JSON values ` +
        '(null, boolean, finite number, string, array, plain object). Fix: map the record to one first ' +
        '(e.g. a bigint to a string).',
    );
    this.valueType = valueType;
  }
}

/**
 * One record from one line. `where.path` is the file, `where.lineHint` says where in it (e.g. "split 3, line 12")
 * when the caller knows. Throws BadJsonLineError naming both and showing the start of the line.
 */
export function parseJsonLine(line: string, where: { readonly path: string; readonly lineHint?: string }): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch (err) {
    const at = where.lineHint === undefined ? '' : ` (${where.lineHint})`;
    throw new BadJsonLineError(
      where.path,
      `Bad JSON line in ${where.path}${at}: ${(err as Error).message}. The line starts: ${preview(line)}. ` +
        'Expected one JSON value per line (JSON Lines).',
      { cause: err },
    );
  }
}

/** One line (no '\n') holding `record` as JSON. Throws JsonRecordError for what JSON cannot represent. */
export function formatJsonLine(record: unknown): string {
  const kind = typeof record;
  if (kind === 'undefined' || kind === 'function' || kind === 'symbol') {
    throw new JsonRecordError(kind, `the record is ${kind === 'undefined' ? 'undefined' : `a ${kind}`}`);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(record);
  } catch (err) {
    throw unrepresentable(err);
  }
  if (text === undefined) {
    // A toJSON that returned undefined, a function or a symbol.
    throw new JsonRecordError('toJSON', 'its toJSON() returned something JSON cannot hold');
  }
  return text;
}

function unrepresentable(err: unknown): unknown {
  if (!(err instanceof TypeError)) return err;
  if (/BigInt/i.test(err.message)) return new JsonRecordError('bigint', 'it holds a bigint');
  if (/circular/i.test(err.message)) {
    return new JsonRecordError('cycle', `it holds a cycle (${err.message.replace(/\s+/g, ' ')})`);
  }
  return new JsonRecordError('unknown', err.message);
}

function preview(line: string): string {
  return line.length <= LINE_PREVIEW_CHARS
    ? JSON.stringify(line)
    : `${JSON.stringify(line.slice(0, LINE_PREVIEW_CHARS))}… (${line.length} characters)`;
}
