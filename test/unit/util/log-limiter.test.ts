import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LogLimiter } from '../../../src/util/log-limiter.ts';
import { boundLogFields, memoryLogger, truncateForLog } from '../../../src/util/logger.ts';

function setup(burst = 3) {
  let now = 0;
  const log = memoryLogger();
  const limiter = new LogLimiter(log, { burst, windowMs: 10_000, now: () => now, timers: false });
  return { log, limiter, advance: (ms: number) => (now += ms) };
}

describe('LogLimiter', () => {
  test('writes the first lines of a key in a window, then one summary of the rest', () => {
    const { log, limiter, advance } = setup();
    for (let i = 0; i < 100; i++) limiter.warn('bad frame', { i }, `bad frame ${i}`);
    assert.deepEqual(log.lines.map((l) => l.msg), ['bad frame 0', 'bad frame 1', 'bad frame 2']);
    advance(10_000);
    limiter.warn('bad frame', { i: 100 }, 'bad frame 100');
    assert.equal(log.lines.length, 5);
    assert.equal(log.lines[3]?.msg, 'bad frame (repeated 97 more times in the last 10 s)');
    assert.equal(log.lines[3]?.fields['repeated'], 97);
    assert.equal(log.lines[3]?.level, 'warn');
    assert.equal(log.lines[4]?.msg, 'bad frame 100', 'a new window starts with the event that ended the last');
  });

  test('keys are limited separately', () => {
    const { log, limiter } = setup(1);
    for (let i = 0; i < 5; i++) {
      limiter.warn('a', {}, 'a');
      limiter.log('info', 'b', {}, 'b');
    }
    assert.deepEqual(log.lines.map((l) => `${l.level}:${l.msg}`), ['warn:a', 'info:b']);
    limiter.flush();
    assert.deepEqual(log.lines.slice(2).map((l) => l.msg), ['a (repeated 4 more times in the last 1 s)', 'b (repeated 4 more times in the last 1 s)']);
  });

  test('flush(false) summarises only the windows that ended; nothing is written for a quiet key', () => {
    const { log, limiter, advance } = setup(1);
    limiter.warn('old', {}, 'old');
    limiter.warn('old', {}, 'old');
    advance(6_000);
    limiter.warn('new', {}, 'new');
    limiter.warn('new', {}, 'new');
    advance(5_000);
    limiter.flush(false);
    assert.deepEqual(log.lines.map((l) => l.msg), ['old', 'new', 'old (repeated 1 more times in the last 11 s)']);
    limiter.close();
    assert.equal(log.lines.at(-1)?.msg, 'new (repeated 1 more times in the last 5 s)');
    limiter.flush();
    assert.equal(log.lines.length, 4);
  });

  test('the number of keys tracked is bounded', () => {
    let now = 0;
    const log = memoryLogger();
    const limiter = new LogLimiter(log, { burst: 1, maxKeys: 2, now: () => now, timers: false });
    for (let i = 0; i < 10; i++) limiter.warn(`k${i % 3}`, {}, 'x');
    now += 1;
    assert.ok(log.lines.length <= 10);
  });
});

describe('bounded log values', () => {
  test('long strings are cut with a marker; nesting and arrays are bounded', () => {
    assert.equal(truncateForLog('x'.repeat(250)), `${'x'.repeat(200)}…(50 more chars)`);
    assert.equal(truncateForLog('short'), 'short');
    const bounded = boundLogFields({ peer: 'p'.repeat(8_000_000), list: Array.from({ length: 50 }, (_, i) => i), a: { b: { c: { d: { e: 1 } } } } }) as Record<string, unknown>;
    assert.equal(String(bounded['peer']).length, 200 + '…(7999800 more chars)'.length);
    assert.equal((bounded['list'] as unknown[]).length, 21);
    assert.deepEqual(bounded['a'], { b: { c: { d: '[…]' } } });
  });

  test('memoryLogger applies the same bounds', () => {
    const log = memoryLogger();
    log.warn({ env: 'e'.repeat(1_000) }, 'm'.repeat(1_000));
    assert.ok(String(log.lines[0]?.fields['env']).length < 250);
    assert.ok(String(log.lines[0]?.msg).length < 550);
  });
});
