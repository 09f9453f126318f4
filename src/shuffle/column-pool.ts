// Large typed arrays reused within a thread, for the sorter's columns, the radix sort's scratch and the slabs the
// shuffle writer's frames are cut from (frame-arena.ts). A fresh
// array of megabytes is memory the process has not touched: every 4 KiB page of it faults on first write, and on
// the VMs Flint's benchmarks ran on a fault costs about 15 µs (a fresh 40 MB array takes 150 ms to fill, a reused
// one 3 ms: docs/benchmarks.md, bench:shuffle). A sort of a million pairs used to fault in 40 MB of columns and
// scratch per reduce partition; with the pool an executor's thread faults them in once.
//
// Arrays handed out hold whatever their last user left: the taker writes every element before reading one.
// The pool keeps at most MAX_POOLED_BYTES (128 MiB: a sort's reduce partition of 1.25 million pairs takes 40 MB
// of columns and scratch, with the headroom below 60, and a map task's frame slabs 15 more), and no more than half
// the task's shuffle memory where a thread says so (limitPool): memory a task's shuffle would use anyway, so that
// an executor's threads together keep its memory near its `--executor-memory`.

/** What the pool keeps at most, per thread. */
export const MAX_POOLED_BYTES = 128 * 1024 * 1024;
/** Below this many bytes an array is allocated as usual: small ones come from already touched memory. */
const MIN_POOLED_BYTES = 256 * 1024;

const free: ArrayBuffer[] = [];
let pooledBytes = 0;
let limitBytes = MAX_POOLED_BYTES;

/** Keeps at most half of `shuffleMemoryBytes` (a task's shuffle share), and never more than MAX_POOLED_BYTES. */
export function limitPool(shuffleMemoryBytes: number): void {
  limitBytes = Math.max(0, Math.min(MAX_POOLED_BYTES, Math.floor(shuffleMemoryBytes / 2)));
  evictDownTo(limitBytes);
}

/** Drops the oldest buffers until the pool holds at most `bytes`. */
function evictDownTo(bytes: number): void {
  while (pooledBytes > bytes) pooledBytes -= (free.shift() as ArrayBuffer).byteLength;
}

/**
 * What a fresh buffer for `bytes` is made with: half as much again, so that the next request of about the same
 * size finds it in the pool (a sort's range partitions differ in size by a fifth or more). Below 1 MiB that is
 * rounded up to whole 64 KiB; from 1 MiB on, to a whole number of 2 MiB less MALLOC_SLACK, which malloc maps as
 * exactly that many 2 MiB: the kernel places such a mapping on a 2 MiB boundary, and with
 * `glibc.malloc.hugetlb=1` (which the worker sets for executors: src/io/child-process/huge-pages.ts) backs it
 * with transparent huge pages, one fault per 2 MiB where a 4 KiB page each costs one. On the VM of
 * docs/benchmarks.md 48 MB of 1.5 MiB buffers took 12,387 faults to fill, of 2 MiB − 64 bytes 110.
 */
function headroomOf(bytes: number): number {
  const wanted = bytes + bytes / 2;
  if (wanted < HUGE_PAGE_BYTES / 2) return Math.ceil(wanted / HEADROOM_UNIT) * HEADROOM_UNIT;
  return Math.ceil((wanted + MALLOC_SLACK) / HUGE_PAGE_BYTES) * HUGE_PAGE_BYTES - MALLOC_SLACK;
}

const HEADROOM_UNIT = 64 * 1024;
/** The size of a transparent huge page on x86-64 and of the usual arm64 one. */
export const HUGE_PAGE_BYTES = 2 * 1024 * 1024;
/**
 * Bytes short of a whole number of 2 MiB: glibc adds a 16-byte header to an allocation it maps on its own and
 * rounds the mapping up to a page, so a buffer 64 bytes short is mapped as exactly the whole number.
 */
export const MALLOC_SLACK = 64;

/** A buffer of at least `bytes` (and at most twice that, so a small array does not pin a huge one). */
function takeBuffer(bytes: number): ArrayBuffer {
  if (bytes >= MIN_POOLED_BYTES) {
    let best = -1;
    for (let i = 0; i < free.length; i += 1) {
      const size = (free[i] as ArrayBuffer).byteLength;
      if (size >= bytes && size <= 2 * bytes && (best === -1 || size < (free[best] as ArrayBuffer).byteLength)) best = i;
    }
    if (best !== -1) {
      const [buffer] = free.splice(best, 1) as [ArrayBuffer];
      pooledBytes -= buffer.byteLength;
      return buffer;
    }
    return new ArrayBuffer(headroomOf(bytes));
  }
  return new ArrayBuffer(bytes);
}

/** A Float64Array of length n, its contents undefined (see the header). */
export function takeFloat64(n: number): Float64Array {
  return new Float64Array(takeBuffer(n * 8), 0, n);
}

/** A Uint8Array of length n, its contents undefined (see the header). */
export function takeBytes(n: number): Uint8Array {
  return new Uint8Array(takeBuffer(n), 0, n);
}

/** A Uint32Array of length n, its contents undefined (see the header). */
export function takeUint32(n: number): Uint32Array {
  return new Uint32Array(takeBuffer(n * 4), 0, n);
}

/** Gives an array's memory back; the caller must not use the array (or any view of its buffer) again. */
export function giveBack(array: Float64Array | Uint32Array | Int32Array | Uint8Array): void {
  const buffer = array.buffer;
  const bytes = buffer.byteLength;
  if (!(buffer instanceof ArrayBuffer) || bytes < MIN_POOLED_BYTES || bytes > limitBytes || free.includes(buffer)) return;
  // When full, the oldest buffers go first.
  evictDownTo(limitBytes - bytes);
  free.push(buffer);
  pooledBytes += bytes;
}

/** The pool's current size in bytes (for tests). */
export function pooledByteCount(): number {
  return pooledBytes;
}
