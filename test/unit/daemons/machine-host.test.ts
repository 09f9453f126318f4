import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOST_SLICE_MS, MachineHost, ReplyBook } from '../../../src/daemons/machine-host.ts';
import { silentLogger } from '../../../src/util/logger.ts';

/** A clock that moves only when an input says it took time: the slicing does not depend on the machine's load. */
function fakeClock() {
  let now = 0;
  return { now: () => now, spend: (ms: number) => void (now += ms) };
}

test('a burst of slow inputs lets the event loop turn between slices, in order', async () => {
  const handled: number[] = [];
  const clock = fakeClock();
  const host = new MachineHost<number, never>(
    {
      handle(input) {
        clock.spend(HOST_SLICE_MS / 2); // a stand-in for an expensive input (a schedule() pass over thousands of workers)
        handled.push(input);
        return [];
      },
    },
    () => {},
    { now: Date.now, logger: silentLogger, monotonicNow: clock.now },
  );
  let handledWhenTheLoopTurned = -1;
  setImmediate(() => (handledWhenTheLoopTurned = handled.length));
  const done = Array.from({ length: 20 }, (_, i) => host.submit(i));
  await Promise.all(done);
  assert.deepEqual(handled, Array.from({ length: 20 }, (_, i) => i), 'every input, in order');
  assert.equal(handledWhenTheLoopTurned, 2, 'the loop turned once the slice was spent: after two inputs of 5 ms');
});

test('cheap inputs are handled synchronously, in one go', () => {
  const handled: number[] = [];
  const clock = fakeClock();
  const host = new MachineHost<number, never>({ handle: (input) => (handled.push(input), []) }, () => {}, { now: Date.now, logger: silentLogger, monotonicNow: clock.now });
  for (let i = 0; i < 100; i++) void host.submit(i);
  assert.equal(handled.length, 100);
});

test('ReplyBook: each token is answered once, through the replier it was opened for', () => {
  const book = new ReplyBook<string>();
  const seen: string[] = [];
  const replier = (name: string) => ({ reply: (m: string) => void seen.push(`${name}:${m}`), sendFailure: (e: Error) => void seen.push(`${name}!${e.message}`) });
  const a = book.open(replier('a'));
  const b = book.open(replier('b'));
  assert.notEqual(a, b);
  assert.equal(book.size, 2);
  book.carryOut({ kind: 'Reply', token: b, message: 'pong' });
  book.carryOut({ kind: 'Reply', token: b, message: 'again' }); // already answered: nothing
  book.fail(a, 'gone');
  book.carryOut({ kind: 'ReplyFailure', token: a, error: 'late' });
  assert.deepEqual(seen, ['b:pong', 'a!gone']);
  assert.equal(book.size, 0);
});

test('afterInput is told once per handled input, after the machine changed its state', () => {
  let state = 0;
  const seen: number[] = [];
  const host = new MachineHost<number, never>({ handle: (input) => ((state += input), []) }, () => {}, {
    now: Date.now,
    logger: silentLogger,
    monotonicNow: fakeClock().now,
    afterInput: () => seen.push(state),
  });
  for (const input of [1, 2, 3]) void host.submit(input);
  assert.deepEqual(seen, [1, 3, 6]);
});
