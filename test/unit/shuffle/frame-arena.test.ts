// The shuffle writer's frame bodies cut from pooled slabs (src/shuffle/frame-arena.ts): each body zeroed and
// apart from the others, large ones on their own, slabs back to the thread's pool on release and reused. The
// writer's output with these bodies, across spills, is checked in shuffle-writer.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameArena, SLAB_BYTES } from '../../../src/shuffle/frame-arena.ts';
import { pooledByteCount, takeBytes, giveBack } from '../../../src/shuffle/column-pool.ts';
import { encodeFrameBody, decodeFrameBody } from '../../../src/shuffle/frames.ts';

test('bodies are zeroed, 8-aligned and never overlap, even in slabs that come back dirty', () => {
  // A dirty slab in the pool: the arena's first slab is this one.
  const dirty = takeBytes(SLAB_BYTES);
  dirty.fill(0xab);
  giveBack(dirty);
  const arena = new FrameArena();
  const bodies: Buffer[] = [];
  let total = 0;
  for (let i = 0; i < 200; i += 1) {
    const body = arena.allocate(1 + ((i * 7919) % 20_000));
    total += (body.length + 7) & ~7;
    assert.ok(body.every((b) => b === 0), `body ${i} is zeroed`);
    assert.equal(body.byteOffset % 8, 0, `body ${i} starts 8-aligned`);
    body.fill(i + 1);
    bodies.push(body);
  }
  assert.equal(bodies[0]?.buffer, dirty.buffer, 'the pooled slab was reused');
  bodies.forEach((body, i) => assert.ok(body.every((b) => b === i + 1), `body ${i} was not overwritten by a later one`));
  // A slab is all of the pool's buffer (2 MiB less a little: column-pool.ts): about 2 MB of bodies take one or two.
  const slabBytes = dirty.buffer.byteLength;
  assert.ok(arena.slabs >= Math.ceil(total / slabBytes) && arena.slabs <= Math.ceil(total / slabBytes) + 1, `${arena.slabs} slabs for ${total} bytes of bodies`);
  const before = pooledByteCount();
  arena.release();
  assert.equal(arena.slabs, 0);
  assert.ok(pooledByteCount() > before, 'the slabs went back to the pool');
});

test('a body larger than a quarter slab gets memory of its own; the arena goes on cutting after it', () => {
  const arena = new FrameArena();
  const small = arena.allocate(100);
  const large = arena.allocate(SLAB_BYTES / 4 + 1);
  const next = arena.allocate(100);
  assert.notEqual(large.buffer, small.buffer);
  assert.equal(next.buffer, small.buffer);
  assert.equal(next.byteOffset, small.byteOffset + 104);
  assert.equal(arena.slabs, 1);
  arena.release();
});

test('frames encoded into an arena decode to the records, each kind of column', () => {
  const arena = new FrameArena();
  const batches: unknown[][] = [
    Array.from({ length: 1000 }, (_, i) => [i, i * 0.5]),
    Array.from({ length: 300 }, (_, i) => [`k${i}`, i]),
    Array.from({ length: 7 }, (_, i) => [`é${i}`, -i, `x`]),
  ];
  const bodies = batches.map((records) => encodeFrameBody(records, arena.allocate));
  batches.forEach((records, i) => assert.deepEqual(decodeFrameBody(bodies[i] as Uint8Array), records));
  arena.release();
});
