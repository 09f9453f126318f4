// FrameDecoder against every way TCP may split a stream: random cut points, 1-byte chunks, and every single
// split of a small stream. Bodies are compared byte for byte with what encodeFrame was given.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FRAME_HEADER_BYTES, FrameDecoder, encodeFrame } from '../../../src/rpc/frame-decoder.ts';

const NUM_RUNS = 200;

/** A body of `length` bytes filled from `seed`, so large bodies cost no shrinking work. */
function patterned(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const smallBody = (minLength: number) => fc.uint8Array({ minLength, maxLength: 64 }).map((b) => Buffer.from(b));
const largeBody = fc
  .record({ length: fc.integer({ min: 64 * 1024, max: 300 * 1024 }), seed: fc.integer() })
  .map(({ length, seed }) => patterned(length, seed));
const emptyBody = fc.constant(Buffer.alloc(0));

/** Lists of bodies; `withEmpty` mixes in zero-length bodies, `withLarge` bodies of 64 to 300 KiB. */
function bodies({ withEmpty, withLarge, maxLength = 12 }: { withEmpty: boolean; withLarge: boolean; maxLength?: number }) {
  const parts: Array<{ arbitrary: fc.Arbitrary<Buffer>; weight: number }> = [{ arbitrary: smallBody(1), weight: 8 }];
  if (withEmpty) parts.push({ arbitrary: emptyBody, weight: 2 });
  if (withLarge) parts.push({ arbitrary: largeBody, weight: 1 });
  return fc.array(fc.oneof(...parts), { maxLength });
}

/** Cuts `stream` at the given offsets (taken modulo its length, duplicates kept, so empty chunks occur). */
function cut(stream: Buffer, offsets: number[]): Buffer[] {
  const points = offsets.map((o) => (stream.length === 0 ? 0 : o % (stream.length + 1))).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(stream.subarray(from, p));
    from = p;
  }
  chunks.push(stream.subarray(from));
  return chunks;
}

function oneByteChunks(stream: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
  return chunks;
}

function maxLength(list: Buffer[]): number {
  return list.reduce((m, b) => Math.max(m, b.length), 0);
}

/** Pushes every chunk; fails the test on any `ok: false`. */
function decodeAll(decoder: FrameDecoder, chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    const result = decoder.push(chunk);
    assert.equal(result.ok, true, 'no frame is over the limit');
    out.push(...result.frames);
  }
  return out;
}

function assertSameFrames(actual: Buffer[], expected: Buffer[]): void {
  assert.equal(actual.length, expected.length, `frame count: got ${actual.length}, want ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as Buffer;
    const e = expected[i] as Buffer;
    assert.ok(Buffer.isBuffer(a), `frame ${i} is a Buffer`);
    assert.equal(a.length, e.length, `frame ${i} length`);
    assert.ok(a.equals(e), `frame ${i} bytes differ`);
  }
}

const stream = (list: Buffer[]): Buffer => Buffer.concat(list.map((b) => encodeFrame(b)));

describe('FrameDecoder: whole frames back from any split of the stream', () => {
  test('encodeFrame writes a 4-byte big-endian length and the body', () => {
    const frame = encodeFrame(new Uint8Array([7, 8, 9]));
    assert.deepEqual([...frame], [0, 0, 0, 3, 7, 8, 9]);
    assert.equal(FRAME_HEADER_BYTES, 4);
    assert.deepEqual([...encodeFrame(Buffer.alloc(0x010203)).subarray(0, 4)], [0, 1, 2, 3]);
  });

  test('non-empty and large bodies, cut at arbitrary points (empty chunks included)', () => {
    fc.assert(
      fc.property(bodies({ withEmpty: false, withLarge: true }), fc.array(fc.nat(), { maxLength: 40 }), (list, offsets) => {
        const decoder = new FrameDecoder(maxLength(list));
        assertSameFrames(decodeAll(decoder, cut(stream(list), offsets)), list);
        assert.equal(decoder.bufferedBytes, 0);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test('non-empty bodies, fed one byte at a time', () => {
    fc.assert(
      fc.property(bodies({ withEmpty: false, withLarge: false }), (list) => {
        const decoder = new FrameDecoder(maxLength(list));
        assertSameFrames(decodeAll(decoder, oneByteChunks(stream(list))), list);
        assert.equal(decoder.bufferedBytes, 0);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test('non-empty bodies, every possible single split of a small stream', () => {
    fc.assert(
      fc.property(bodies({ withEmpty: false, withLarge: false, maxLength: 5 }), (list) => {
        const whole = stream(list);
        for (let at = 0; at <= whole.length; at++) {
          const decoder = new FrameDecoder(64);
          assertSameFrames(decodeAll(decoder, [whole.subarray(0, at), whole.subarray(at)]), list);
          assert.equal(decoder.bufferedBytes, 0, `split at ${at}`);
        }
      }),
      { numRuns: 100 },
    );
  });

  test('a body of exactly the maximum size is accepted; one byte more is refused', () => {
    const body = patterned(1000, 42);
    const okDecoder = new FrameDecoder(1000);
    assertSameFrames(decodeAll(okDecoder, [encodeFrame(body)]), [body]);
    const tight = new FrameDecoder(999);
    const result = tight.push(encodeFrame(body));
    assert.equal(result.ok, false);
    assert.equal(result.ok ? undefined : result.declaredBytes, 1000);
  });

  // src/rpc/frame-decoder.ts #consume: after the 4 header bytes of a zero-length frame are consumed and no
  // chunk is left, `#consume(0)` reads `this.#chunks[0].length` on undefined and push() throws a TypeError.
  test('a zero-length frame that ends the buffered bytes is returned, not a TypeError', () => {
    const decoder = new FrameDecoder(1024);
    let result: ReturnType<FrameDecoder['push']> | undefined;
    assert.doesNotThrow(() => {
      result = decoder.push(encodeFrame(new Uint8Array(0)));
    });
    assert.equal(result?.ok, true);
    assert.equal(result?.frames.length, 1);
    assert.equal(result?.frames[0]?.length, 0);
    assert.equal(decoder.bufferedBytes, 0);
    // Same thing after a non-empty frame in the same chunk.
    const second = new FrameDecoder(1024);
    assert.doesNotThrow(() => second.push(Buffer.concat([encodeFrame(Buffer.from([1])), encodeFrame(Buffer.alloc(0))])));
  });

  test('bodies including empty ones survive arbitrary splits and 1-byte chunks', () => {
    fc.assert(
      fc.property(bodies({ withEmpty: true, withLarge: false }), fc.array(fc.nat(), { maxLength: 40 }), (list, offsets) => {
        const whole = stream(list);
        assertSameFrames(decodeAll(new FrameDecoder(64), cut(whole, offsets)), list);
        assertSameFrames(decodeAll(new FrameDecoder(64), oneByteChunks(whole)), list);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('FrameDecoder: oversized length prefix', () => {
  test('frames before it are returned with ok:false and declaredBytes; nothing after it ever comes out', () => {
    fc.assert(
      fc.property(
        bodies({ withEmpty: false, withLarge: false, maxLength: 6 }),
        fc.integer({ min: 65, max: 0xffffffff }),
        bodies({ withEmpty: false, withLarge: false, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (before, declared, after, offsets) => {
          const header = Buffer.alloc(4);
          header.writeUInt32BE(declared, 0);
          const whole = Buffer.concat([stream(before), header, patterned(16, declared), stream(after)]);
          const decoder = new FrameDecoder(64);
          const got: Buffer[] = [];
          let failures = 0;
          let declaredSeen: number | undefined;
          for (const chunk of cut(whole, offsets)) {
            const result = decoder.push(chunk);
            if (failures > 0) {
              assert.equal(result.frames.length, 0, 'nothing after the failure');
              continue;
            }
            got.push(...result.frames);
            if (!result.ok) {
              failures++;
              declaredSeen = result.declaredBytes;
              assert.equal(decoder.bufferedBytes, 0, 'the buffer is dropped');
            }
          }
          assert.equal(failures, 1, 'exactly one ok:false');
          assert.equal(declaredSeen, declared);
          assertSameFrames(got, before);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  test('a hostile 4 GiB prefix is refused as soon as its 4th byte arrives', () => {
    const decoder = new FrameDecoder(128 * 1024 * 1024);
    for (let i = 1; i <= 3; i++) {
      const r = decoder.push(Buffer.from([0xff]));
      assert.deepEqual(r, { ok: true, frames: [] });
      assert.equal(decoder.bufferedBytes, i);
    }
    const r = decoder.push(Buffer.from([0xff]));
    assert.equal(r.ok, false);
    assert.equal(r.ok ? undefined : r.declaredBytes, 0xffffffff);
    assert.equal(decoder.bufferedBytes, 0);
    assert.deepEqual(decoder.push(encodeFrame(Buffer.from([1, 2]))), { ok: true, frames: [] });
  });
});

describe('FrameDecoder: truncated stream', () => {
  test('the frames before the cut come out; the partial one is held and bufferedBytes counts it', () => {
    fc.assert(
      fc.property(
        bodies({ withEmpty: false, withLarge: false, maxLength: 6 }),
        smallBody(1),
        fc.nat(),
        fc.array(fc.nat(), { maxLength: 20 }),
        (complete, last, keepSeed, offsets) => {
          const lastFrame = encodeFrame(last);
          const keep = 1 + (keepSeed % (lastFrame.length - 1)); // 1 .. lastFrame.length - 1 bytes of it
          const whole = Buffer.concat([stream(complete), lastFrame.subarray(0, keep)]);
          const decoder = new FrameDecoder(64);
          assertSameFrames(decodeAll(decoder, cut(whole, offsets)), complete);
          assert.equal(decoder.bufferedBytes, keep);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  test('a lone truncated frame yields nothing, at every truncation point', () => {
    const frame = encodeFrame(patterned(10, 7));
    for (let keep = 0; keep < frame.length; keep++) {
      const decoder = new FrameDecoder(64);
      const frames = decodeAll(decoder, oneByteChunks(frame.subarray(0, keep)));
      assert.equal(frames.length, 0, `keep ${keep}`);
      assert.equal(decoder.bufferedBytes, keep);
    }
  });
});

describe('FrameDecoder: a limit that changes between frames (the handshake limit, then maxSize)', () => {
  test('next() takes one frame at a time, so a raised limit applies to the very next frame of the same chunk', () => {
    const small = encodeFrame(Buffer.alloc(10, 1));
    const big = encodeFrame(Buffer.alloc(1000, 2));
    const decoder = new FrameDecoder(64);
    decoder.append(Buffer.concat([small, big]));
    const first = decoder.next();
    assert.ok(Buffer.isBuffer(first) && first.length === 10);
    decoder.maxFrameBytes = 4096;
    const second = decoder.next();
    assert.ok(Buffer.isBuffer(second) && second.length === 1000);
    assert.equal(decoder.next(), undefined);
  });

  test('under the small limit a declared big frame is refused at its header, and nothing is held', () => {
    const decoder = new FrameDecoder(64 * 1024);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(128 * 1024 * 1024);
    decoder.append(Buffer.concat([header, Buffer.alloc(1000)]));
    assert.deepEqual(decoder.next(), { declaredBytes: 128 * 1024 * 1024 });
    assert.equal(decoder.bufferedBytes, 0);
    decoder.append(Buffer.alloc(1000));
    assert.equal(decoder.bufferedBytes, 0, 'a failed decoder holds nothing more');
  });
});
