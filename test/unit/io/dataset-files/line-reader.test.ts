// Reading a split's lines (src/io/dataset-files/line-reader.ts): Hadoop's LineRecordReader rules, so that over all
// the splits of a file every line is read exactly once, whatever the split and chunk sizes, with '\r\n', empty
// lines, no final newline, multi-byte UTF-8 across chunk boundaries and lines longer than a chunk. Gzip reads the
// same lines as the plain file.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { LineAssembler, planTextSplits, readGzipLines, readSplitLines } from '../../../../src/io/dataset-files/index.ts';
import type { FileSplit } from '../../../../src/io/dataset-files/index.ts';
import { tempDir } from '../../../helpers/temp-dir.ts';

const root = tempDir('flint-lines-');
after(() => rmSync(root, { recursive: true, force: true }));

/** The reference: what `text` holds as lines ('\n' ends a line, '\r\n' too; a leading BOM is not content). */
function referenceLines(text: string): string[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body === '') return [];
  const lines = body.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

function readAll(splits: FileSplit[], chunkBytes?: number, decodeBytes?: number): string[] {
  const options = { ...(chunkBytes === undefined ? {} : { chunkBytes }), ...(decodeBytes === undefined ? {} : { decodeBytes }) };
  return splits.flatMap((split) => [...readSplitLines(split, options)]);
}

async function readGzip(split: FileSplit): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of readGzipLines(split)) lines.push(line);
  return lines;
}

function write(name: string, content: string | Buffer): string {
  const path = join(root, name);
  writeFileSync(path, content);
  return path;
}

const piece = fc.oneof(
  fc.constantFrom('a', 'b', ' ', 'é', '€', '😀', '数', '\r', '\n', '\r\n', '\n\n', '\uFEFF'),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constantFrom('x'.repeat(70), 'é'.repeat(40)),
);
const content = fc.array(piece, { maxLength: 60 }).map((pieces) => pieces.join(''));

test('over all splits, every line is read exactly once, in order, whatever the read and decode sizes (property)', () => {
  const path = join(root, 'property.txt');
  fc.assert(
    fc.property(
      content,
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 300 }),
      fc.integer({ min: 1, max: 64 }),
      fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
      (text, minPartitions, maxSplitBytes, chunkBytes, decodeBytes) => {
        writeFileSync(path, text);
        const splits = planTextSplits(path, minPartitions, { maxSplitBytes });
        assert.deepEqual(readAll(splits, chunkBytes, decodeBytes), referenceLines(text));
      },
    ),
    { numRuns: 400 },
  );
});

test('a line starting exactly at a split boundary is read once, by the split before (Hadoop 2+)', () => {
  const path = write('boundary.txt', 'abc\ndef\nghi\n');
  const splits: FileSplit[] = [
    { path, start: 0, length: 4, gzip: false },
    { path, start: 4, length: 4, gzip: false },
    { path, start: 8, length: 4, gzip: false },
  ];
  assert.deepEqual(splits.map((s) => [...readSplitLines(s)]), [['abc', 'def'], ['ghi'], []]);
  // A boundary inside a line: the line crossing it belongs to the split where it starts.
  const mid: FileSplit[] = [
    { path, start: 0, length: 5, gzip: false },
    { path, start: 5, length: 7, gzip: false },
  ];
  assert.deepEqual(mid.map((s) => [...readSplitLines(s)]), [['abc', 'def'], ['ghi']]);
});

test('examples: \\r\\n, empty lines, no final newline, a lone \\r kept, BOM dropped, empty file', () => {
  const cases: Array<[string, string[]]> = [
    ['', []],
    ['\n', ['']],
    ['\n\n', ['', '']],
    ['one', ['one']],
    ['one\ntwo\n', ['one', 'two']],
    ['one\r\ntwo\r\n\r\nthree', ['one', 'two', '', 'three']],
    ['a\rb\n', ['a\rb']],
    ['\uFEFFhead\nbody', ['head', 'body']],
    ['é😀\n数据\r\n', ['é😀', '数据']],
  ];
  for (const [text, lines] of cases) {
    const path = write('example.txt', text);
    const splits = planTextSplits(path, 1);
    for (const chunkBytes of [1, 2, 3, 1024]) assert.deepEqual(readAll(splits, chunkBytes), lines, JSON.stringify(text));
  }
});

test('a line much longer than a chunk, and multi-byte characters across every chunk boundary', () => {
  const long = 'é😀x'.repeat(5000);
  const path = write('long.txt', `short\n${long}\n${long}\r\nend`);
  for (const chunkBytes of [1, 7, 4096]) {
    assert.deepEqual(readAll(planTextSplits(path, 5), chunkBytes), ['short', long, long, 'end']);
  }
  // The default read (1 MiB) holds the whole file; lines are decoded 10 bytes of lines at a time, a longer line whole.
  assert.deepEqual(readAll(planTextSplits(path, 1), undefined, 10), ['short', long, long, 'end']);
});

test('with the default sizes, 3 MiB of lines of every length up to 200 KiB read as written', () => {
  const lines: string[] = [];
  for (let i = 0, bytes = 0; bytes < 3 * 1024 * 1024; i++) {
    const line = `${i}:${'ab é'.repeat((i * 7919) % (i % 9 === 0 ? 50_000 : 300))}`;
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
  }
  const path = write('default-sizes.txt', `${lines.join('\n')}\n`);
  assert.deepEqual(readAll(planTextSplits(path, 3)), lines);
});

test('a read or decode size that is not a positive whole number is refused, naming it', () => {
  const path = write('sizes.txt', 'a\n');
  assert.throws(() => readSplitLines(planTextSplits(path, 1)[0] as FileSplit, { decodeBytes: 0 }), /decodeBytes must be a positive whole number of bytes, got 0/);
  assert.throws(() => readSplitLines(planTextSplits(path, 1)[0] as FileSplit, { chunkBytes: 1.5 }), /chunkBytes must be a positive whole number of bytes, got 1.5/);
});

test('leaving the loop early closes the file; a split can be read again', () => {
  const path = write('early.txt', 'a\nb\nc\n');
  const [split] = planTextSplits(path, 1);
  assert.ok(split);
  const lines = readSplitLines(split);
  for (const line of lines) {
    assert.equal(line, 'a');
    break;
  }
  assert.deepEqual([...lines], ['a', 'b', 'c']);
});

test('a file gone at read time names the file (FLINT_INPUT_NOT_FOUND)', () => {
  const path = write('gone.txt', 'x\n');
  const [split] = planTextSplits(path, 1);
  assert.ok(split);
  unlinkSync(path);
  assert.throws(() => [...readSplitLines(split)], {
    code: 'FLINT_INPUT_NOT_FOUND',
    message: new RegExp(`^Input file ${path} does not exist`),
  });
  assert.throws(() => readSplitLines(split, { chunkBytes: 0 }), { code: 'FLINT_INPUT_INVALID' });
  assert.throws(() => readSplitLines({ ...split, gzip: true }), { code: 'FLINT_INPUT_INVALID', message: /readGzipLines/ });
});

test('gzip reads the same lines as the plain file (property)', async () => {
  const path = join(root, 'property.gz');
  await fc.assert(
    fc.asyncProperty(content, async (text) => {
      writeFileSync(path, gzipSync(text));
      const splits = planTextSplits(path, 3, { maxSplitBytes: 8 });
      assert.equal(splits.length, 1);
      const [split] = splits;
      assert.ok(split?.gzip);
      assert.deepEqual(await readGzip(split), referenceLines(text));
    }),
    { numRuns: 100 },
  );
});

test('gzip: several members read as one stream; a large file streams', async () => {
  const path = write('members.gz', Buffer.concat([gzipSync('a\nb'), gzipSync('c\n'), gzipSync('é\r\n')]));
  assert.deepEqual(await readGzip({ path, start: 0, length: 1, gzip: true }), ['a', 'bc', 'é']);
  const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i} ${'é'.repeat(i % 7)}`);
  const big = write('big.gz', gzipSync(lines.join('\n') + '\n'));
  assert.deepEqual(await readGzip({ path: big, start: 0, length: 1, gzip: true }), lines);
});

test('gzip: a corrupt or truncated file names the file (FLINT_INPUT_CORRUPT), a missing one FLINT_INPUT_NOT_FOUND', async () => {
  const notGzip = write('plain.gz', 'this is not gzip\n');
  await assert.rejects(readGzip({ path: notGzip, start: 0, length: 17, gzip: true }), {
    code: 'FLINT_INPUT_CORRUPT',
    message: new RegExp(`^${notGzip} is not a valid gzip file: `),
  });
  const whole = gzipSync('x\n'.repeat(1000));
  const truncated = write('truncated.gz', whole.subarray(0, whole.length - 10));
  await assert.rejects(readGzip({ path: truncated, start: 0, length: 1, gzip: true }), { code: 'FLINT_INPUT_CORRUPT' });
  await assert.rejects(readGzip({ path: join(root, 'nope.gz'), start: 0, length: 1, gzip: true }), {
    code: 'FLINT_INPUT_NOT_FOUND',
  });
  assert.deepEqual(await readGzip({ path: write('empty.gz', ''), start: 0, length: 0, gzip: true }), []);
});

test('LineAssembler: lines split across pushes, a character split across pushes', () => {
  const bytes = Buffer.from('\uFEFFab\r\ncé😀\n\nlast');
  const assembler = new LineAssembler();
  const lines = [...bytes].flatMap((byte) => assembler.push(Buffer.from([byte])));
  assert.deepEqual([...lines, assembler.finish()], ['ab', 'cé😀', '', 'last']);
  assert.equal(assembler.finish(), undefined);
});
