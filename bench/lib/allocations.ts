// The bytes a process allocates over a stretch of its work, for the allocation rows of bench:rpc-syscalls
// (docs/benchmarks.md, "The work per message"). V8's sampling heap profiler, through the in-process inspector,
// with the objects garbage collection took kept in its profile: the figure is what was allocated, not what is still
// alive at the end. The profiler scales each sample by the chance of its size being sampled, so the total is an
// estimate, whose error shrinks as the bytes measured grow (a few thousand round trips give millions of bytes).
// With FLINT_BENCH_ALLOC_PROFILE_DIR set, each sampled stretch is also written there as `<pid>-<n>.heapprofile`
// (Chrome DevTools opens it), to see which code allocates.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';

/** The mean distance between samples, in bytes: small, so that the objects of a message are sampled. */
const SAMPLING_INTERVAL_BYTES = 64;

interface ProfileNode {
  readonly selfSize: number;
  readonly children: readonly ProfileNode[];
}

function totalSelfSize(root: ProfileNode): number {
  let total = 0;
  const stack: ProfileNode[] = [root];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    total += node.selfSize;
    stack.push(...node.children);
  }
  return total;
}

/** Samples this process's allocations from `start()` until `stop()`, which resolves with the bytes allocated. */
export class AllocationSampler {
  static #written = 0;
  readonly #session = new Session();
  #running = false;

  get running(): boolean {
    return this.#running;
  }

  async start(): Promise<void> {
    if (this.#running) throw new Error('the allocation sampler is already running');
    this.#session.connect();
    await this.#session.post('HeapProfiler.enable');
    await this.#session.post('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_INTERVAL_BYTES,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    this.#running = true;
  }

  async stop(): Promise<number> {
    if (!this.#running) throw new Error('the allocation sampler is not running');
    this.#running = false;
    const { profile } = (await this.#session.post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
    const dir = process.env['FLINT_BENCH_ALLOC_PROFILE_DIR'];
    if (dir !== undefined && dir !== '') writeFileSync(join(dir, `${process.pid}-${(AllocationSampler.#written += 1)}.heapprofile`), JSON.stringify(profile));
    await this.#session.post('HeapProfiler.disable');
    this.#session.disconnect();
    return Math.round(totalSelfSize(profile.head));
  }
}
