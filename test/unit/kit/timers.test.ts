// The kit's timer model (src/kit/timers.ts): one timer per key, a new generation per arming, stale firings ignored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TimerBook } from '../../../src/kit/timers.ts';

test('arming gives a new generation; only the firing of the current one counts, once', () => {
  const book = new TimerBook<string>();
  const first = book.start('hb', 'heartbeat', 1000);
  assert.deepEqual(first, { kind: 'StartTimer', key: 'hb', generation: 1, timer: 'heartbeat', delayMs: 1000 });
  const second = book.start('hb', 'heartbeat again', 2000);
  assert.equal(second.generation, 2);
  assert.equal(book.fired('hb', first.generation), undefined, 'replaced: stale');
  assert.equal(book.fired('hb', second.generation), 'heartbeat again');
  assert.equal(book.fired('hb', second.generation), undefined, 'a timer fires once');
  assert.equal(book.isArmed('hb'), false);
});

test('cancelling disarms and says so only when something was armed; cancelAll empties the book', () => {
  const book = new TimerBook<number>();
  assert.equal(book.cancel('x'), undefined);
  const armed = book.start('x', 1, -5);
  assert.equal(armed.delayMs, 0, 'a negative delay fires at once');
  assert.deepEqual(book.cancel('x'), { kind: 'CancelTimer', key: 'x' });
  assert.equal(book.fired('x', armed.generation), undefined, 'cancelled: stale');
  book.start('a', 1, 10);
  book.start('b', 2, 10);
  assert.deepEqual(book.armed().map((t) => t.key), ['a', 'b']);
  assert.deepEqual(book.cancelAll(), [
    { kind: 'CancelTimer', key: 'a' },
    { kind: 'CancelTimer', key: 'b' },
  ]);
  assert.deepEqual(book.armed(), []);
});
