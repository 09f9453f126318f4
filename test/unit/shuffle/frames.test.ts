// The block format (src/shuffle/frames.ts): frames decode back to their records however the bytes are cut into
// chunks; a truncated block fails with FLINT_SHUFFLE_CORRUPT; readFramesFromFile reads a byte range in chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FrameReader, decodeFrameBody, encodeFrame, readFrameBodiesFromFile, readFramesFromFile } from '../../../src/shuffle/frames.ts';
import { decodeRecord, encodeRecord } from '../../../src/task/record-codec.ts';
import { anyKey, withTempDir } from './arbitraries.ts';

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Cuts `bytes` at the given fractions. */
function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.slice(from, p));
    from = p;
  }
  return out;
}

test('a frame is a u32 LE length and the codec bytes of the records array', () => {
  const frame = encodeFrame([['a', 1]]);
  const length = new DataView(frame.buffer).getUint32(0, true);
  assert.equal(length, frame.length - 4);
  const reader = new FrameReader();
  reader.push(frame);
  assert.deepEqual(reader.next(), [['a', 1]]);
  assert.equal(reader.next(), undefined);
  reader.end();
});

test('FrameReader decodes any chunking of any frames (property)', () => {
  const frames = fc.array(fc.array(fc.tuple(anyKey, anyKey), { maxLength: 5 }), { maxLength: 6 });
  fc.assert(
    fc.property(frames, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), (batches, cuts) => {
      const block = concat(batches.map(encodeFrame));
      const reader = new FrameReader();
      const decoded: unknown[][] = [];
      for (const chunk of chunks(block, cuts)) {
        reader.push(chunk);
        for (let records = reader.next(); records !== undefined; records = reader.next()) decoded.push(records);
      }
      reader.end();
      assert.deepStrictEqual(decoded, decodeRecord(encodeRecord(batches)), 'what the codec round-trips');
    }),
    { numRuns: 400 },
  );
});

test('FrameReader.end fails clearly on a truncated block', () => {
  const frame = encodeFrame([1, 2, 3]);
  for (const cut of [1, 3, 4, frame.length - 1]) {
    const reader = new FrameReader();
    reader.push(frame.subarray(0, cut));
    assert.equal(reader.next(), undefined);
    assert.throws(() => reader.end(), { code: 'FLINT_SHUFFLE_CORRUPT', message: /ended inside a frame: .* remain; the block was truncated/ });
  }
  const notArray = new Uint8Array([1, 0, 0, 0, 0x05]); // a frame holding the number 5
  const reader = new FrameReader();
  reader.push(notArray);
  assert.throws(() => reader.next(), { code: 'FLINT_SHUFFLE_CORRUPT', message: /holds number 5, expected an array of records/ });
});

test('readFramesFromFile reads a byte range in small chunks, and says when the file is short', () => {
  withTempDir((dir) => {
    const path = join(dir, 'block');
    const batches = Array.from({ length: 20 }, (_, i) => Array.from({ length: i }, (_, j) => [`k${j}`, new Uint8Array([i, j])]));
    const prefix = new Uint8Array(13).fill(7);
    const block = concat(batches.map(encodeFrame));
    writeFileSync(path, concat([prefix, block, prefix]));
    for (const chunkBytes of [1, 5, 64, 1 << 20]) {
      assert.deepStrictEqual([...readFramesFromFile(path, prefix.length, block.length, chunkBytes)], batches);
    }
    assert.deepEqual([...readFramesFromFile(path, 0, 0)], []);
    assert.throws(() => [...readFramesFromFile(path, prefix.length, block.length + 100)], { code: 'FLINT_SHUFFLE_CORRUPT', message: /ends at byte .* the file was truncated/ });
    assert.throws(() => [...readFramesFromFile(path, prefix.length, block.length - 2)], { code: 'FLINT_SHUFFLE_CORRUPT' });
    // Abandoning the generator early closes the file (no fd leak: many early stops in a row work).
    for (let i = 0; i < 2000; i += 1) readFramesFromFile(path, prefix.length, block.length, 64).next();
  });
});

test('readFrameBodiesFromFile with recycle: the read buffers are reused, and what was decoded stays intact', () => {
  withTempDir((dir) => {
    // Columnar frames of pairs and strings, record-codec frames holding Uint8Array values (msgpack gives those as
    // views of its input), and one frame larger than two chunks, so that a frame spans several reads.
    const batches: unknown[][] = [];
    for (let f = 0; f < 120; f += 1) {
      if (f % 3 === 0) batches.push(Array.from({ length: 1000 }, (_, i) => [f * 1000 + i, -i * 0.5]));
      else if (f % 3 === 1) batches.push(Array.from({ length: 500 }, (_, i) => [`w${f}-${i}`, i]));
      else batches.push(Array.from({ length: 200 }, (_, i) => ({ f, i, bytes: Uint8Array.of(f, i & 0xff, 7) })));
    }
    batches.push([Array.from({ length: 200_000 }, (_, i) => `${i}`).join(',')].map((s) => [s, 1]));
    const frames = batches.map((records) => encodeFrame(records));
    const path = join(dir, 'block');
    writeFileSync(path, Buffer.concat(frames));
    const total = frames.reduce((n, f) => n + f.length, 0);
    const chunk = 256 * 1024;
    assert.ok(total > 4 * chunk, `${total} bytes: several chunks`);
    const decoded: unknown[][] = [];
    const columnarBuffers = new Set<ArrayBufferLike>();
    for (const body of readFrameBodiesFromFile(path, 0, total, chunk, { recycle: true })) {
      // Bodies that lie in one read are views of its buffer; one cut by two reads is a copy of its own.
      if (body[0] === 0xc1 && body.buffer.byteLength >= chunk) columnarBuffers.add(body.buffer);
      decoded.push(decodeFrameBody(body)); // decoded now; the body's bytes may be overwritten after
    }
    assert.deepEqual(decoded, batches, 'every record decoded from a recycled buffer is intact at the end');
    assert.ok(columnarBuffers.size <= 3, `${columnarBuffers.size} buffers held the columnar frames: reused`);
    // Without recycle every chunk is fresh.
    const fresh = new Set<ArrayBufferLike>();
    for (const body of readFrameBodiesFromFile(path, 0, total, chunk)) if (body[0] === 0xc1 && body.buffer.byteLength >= chunk) fresh.add(body.buffer);
    assert.ok(fresh.size > 3, `${fresh.size} fresh buffers without recycle`);
  });
});
