// JSON Lines (src/io/dataset-files/json-lines.ts): a bad line names its file and shows its start; a record JSON
// cannot represent fails by its type instead of writing `undefined`; what formats parses back to the same value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatJsonLine, parseJsonLine } from '../../../../src/io/dataset-files/index.ts';

test('records round-trip through one line each (property)', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const line = formatJsonLine(value);
      assert.ok(!line.includes('\n'));
      assert.deepEqual(parseJsonLine(line, { path: '/in.json' }), JSON.parse(JSON.stringify(value)));
    }),
  );
  assert.equal(formatJsonLine({ text: 'two\nlines' }), '{"text":"two\\nlines"}');
});

test('a bad line: FLINT_BAD_JSON_LINE naming the file, where, and the start of the line', () => {
  assert.throws(() => parseJsonLine('{"a": 1,', { path: '/data/in.json', lineHint: 'split 2, line 7' }), {
    code: 'FLINT_BAD_JSON_LINE',
    path: '/data/in.json',
    message: /^Bad JSON line in \/data\/in\.json \(split 2, line 7\): .*\. The line starts: "\{\\"a\\": 1,"\. Expected one JSON value per line/,
  });
  const long = `{"k": "${'v'.repeat(500)}"`;
  assert.throws(() => parseJsonLine(long, { path: '/x.json' }), (err: Error) => {
    assert.match(err.message, /^Bad JSON line in \/x\.json: /);
    assert.match(err.message, /… \(508 characters\)/);
    assert.ok(err.message.length < 400, 'the message shows only the start of the line');
    return true;
  });
  assert.throws(() => parseJsonLine('', { path: '/x.json' }), { code: 'FLINT_BAD_JSON_LINE' });
});

test('a record JSON cannot represent: FLINT_RECORD_NOT_JSON naming the type', () => {
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic['self'] = cyclic;
  const cases: Array<[unknown, string, string]> = [
    [undefined, 'undefined', 'the record is undefined'],
    [() => 1, 'function', 'the record is a function'],
    [Symbol('s'), 'symbol', 'the record is a symbol'],
    [10n, 'bigint', 'it holds a bigint'],
    [{ nested: [1, 2n] }, 'bigint', 'it holds a bigint'],
    [cyclic, 'cycle', 'it holds a cycle (Converting circular structure to JSON'],
    [{ toJSON: () => undefined }, 'toJSON', 'its toJSON() returned something JSON cannot hold'],
  ];
  for (const [record, valueType, detail] of cases) {
    assert.throws(() => formatJsonLine(record), (err: Error & { code?: string; valueType?: string }) => {
      assert.equal(err.code, 'FLINT_RECORD_NOT_JSON');
      assert.equal(err.valueType, valueType);
      assert.ok(err.message.startsWith(`Cannot write a record as JSON: ${detail}`), err.message);
      assert.match(err.message, /Records saved with saveAsJsonFile must be JSON values/);
      return true;
    });
  }
});
