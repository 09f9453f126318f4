import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOST_SLICE_MS, MachineHost } from '../../../src/daemons/machine-host.ts';
import { silentLogger } from '../../../src/util/logger.ts';

/** Busy for `ms`: a stand-in for an expensive input (a schedule() pass over thousands of workers). */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

test('a burst of slow inputs lets the event loop turn between slices, in order', async () => {
  const handled: number[] = [];
  const host = new MachineHost<number, never>(
    {
      handle(input) {
        spin(HOST_SLICE_MS / 2);
        handled.push(input);
        return [];
      },
    },
    () => {},
    { now: Date.now, logger: silentLogger },
  );
  let handledWhenTheLoopTurned = -1;
  setImmediate(() => (handledWhenTheLoopTurned = handled.length));
  const done = Array.from({ length: 20 }, (_, i) => host.submit(i));
  await Promise.all(done);
  assert.deepEqual(handled, Array.from({ length: 20 }, (_, i) => i), 'every input, in order');
  assert.ok(handledWhenTheLoopTurned > 0 && handledWhenTheLoopTurned < 20, `the loop turned after ${handledWhenTheLoopTurned} of 20 inputs`);
});

test('cheap inputs are handled synchronously, in one go', () => {
  const handled: number[] = [];
  const host = new MachineHost<number, never>({ handle: (input) => (handled.push(input), []) }, () => {}, { now: Date.now, logger: silentLogger });
  for (let i = 0; i < 100; i++) void host.submit(i);
  assert.equal(handled.length, 100);
});
