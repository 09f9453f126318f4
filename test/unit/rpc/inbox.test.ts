// Inbox: one task at a time, in post order, even when tasks are async; a throwing task is reported and the
// next one runs; close() drops what is queued (calling each drop handler) and lets the running task finish.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Inbox } from '../../../src/rpc/inbox.ts';

type Delay = 'sync' | 'microtask' | 'immediate' | 'timer0' | 'timer1';
const delayArb = fc.constantFrom<Delay>('sync', 'microtask', 'immediate', 'immediate', 'timer0', 'timer1');

function pause(kind: Exclude<Delay, 'sync'>): Promise<void> {
  switch (kind) {
    case 'microtask':
      return Promise.resolve();
    case 'immediate':
      return new Promise((resolve) => setImmediate(resolve));
    case 'timer0':
      return new Promise((resolve) => setTimeout(resolve, 0));
    case 'timer1':
      return new Promise((resolve) => setTimeout(resolve, 1));
  }
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Tracks how many tasks run at once and the order they start and end in. */
function tracker() {
  let running = 0;
  let maxRunning = 0;
  const started: number[] = [];
  const finished: number[] = [];
  return {
    started,
    finished,
    get maxRunning() {
      return maxRunning;
    },
    enter(i: number) {
      running++;
      maxRunning = Math.max(maxRunning, running);
      started.push(i);
    },
    leave(i: number) {
      running--;
      finished.push(i);
    },
  };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('Inbox: strictly sequential delivery', () => {
  test('async tasks with random short delays, some throwing, run one at a time in post order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ delay: delayArb, throws: fc.constantFrom('no', 'no', 'no', 'before', 'after') }), {
          minLength: 1,
          maxLength: 40,
        }),
        async (plan) => {
          const errors: unknown[] = [];
          const inbox = new Inbox((err) => errors.push(err));
          const t = tracker();
          for (const [i, step] of plan.entries()) {
            const { delay, throws } = step;
            if (delay === 'sync') {
              inbox.post(() => {
                t.enter(i);
                t.leave(i);
                if (throws !== 'no') throw new Error(`task ${i}`);
              });
            } else {
              inbox.post(async () => {
                t.enter(i);
                try {
                  if (throws === 'before') throw new Error(`task ${i}`);
                  await pause(delay);
                  if (throws === 'after') throw new Error(`task ${i}`);
                } finally {
                  t.leave(i);
                }
              });
            }
          }
          await inbox.idle();
          assert.equal(t.maxRunning, 1, 'never more than one task at a time');
          assert.deepEqual(t.started, range(plan.length), 'started in post order');
          assert.deepEqual(t.finished, range(plan.length), 'finished in post order');
          const expectedErrors = plan.flatMap((s, i) => (s.throws === 'no' ? [] : [`task ${i}`]));
          assert.deepEqual(
            errors.map((e) => (e as Error).message),
            expectedErrors,
            'every throw reported, in order',
          );
          assert.equal(inbox.pending, 0);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('a task that is not an Error when thrown is still reported, and the inbox goes on', async () => {
    const errors: unknown[] = [];
    const inbox = new Inbox((err) => errors.push(err));
    const ran: string[] = [];
    inbox.post(() => {
      throw 'a string';
    });
    inbox.post(() => Promise.reject(new Error('rejected')));
    inbox.post(() => {
      ran.push('after');
    });
    await inbox.idle();
    assert.deepEqual(errors.map(String), ['a string', 'Error: rejected']);
    assert.deepEqual(ran, ['after']);
  });

  test('jobs (postJob) run as methods of their object, in order with tasks; close() calls the queued ones\' drop', async () => {
    const inbox = new Inbox(() => assert.fail('no job throws'));
    const order: string[] = [];
    class Job {
      readonly name: string;
      constructor(name: string) {
        this.name = name;
      }
      run(): Promise<void> | void {
        order.push(`run ${this.name}`);
        return this.name === 'slow' ? pause('immediate') : undefined;
      }
      drop(): void {
        order.push(`drop ${this.name}`);
      }
    }
    inbox.postJob(new Job('slow'));
    inbox.post(() => {
      order.push('task');
    });
    inbox.postJob(new Job('queued'));
    assert.equal(inbox.close(), 2);
    assert.equal(inbox.postJob(new Job('after close')), false);
    await inbox.idle();
    assert.deepEqual(order, ['run slow', 'drop queued', 'drop after close']);
  });

  test('a task posted by a running task runs after everything already queued', async () => {
    const inbox = new Inbox(() => assert.fail('no task throws'));
    const order: string[] = [];
    const busy = gate();
    inbox.post(() => busy.promise); // so that a and b are both queued before a runs
    inbox.post(async () => {
      order.push('a');
      inbox.post(() => {
        order.push('posted by a');
      });
      await pause('immediate');
      order.push('a done');
    });
    inbox.post(() => {
      order.push('b');
    });
    busy.open();
    await inbox.idle();
    assert.deepEqual(order, ['a', 'a done', 'b', 'posted by a']);
  });

  test('a start task that awaits runs to completion before the first message (as onStart does)', async () => {
    const inbox = new Inbox(() => assert.fail('no task throws'));
    const log: string[] = [];
    const started = gate();
    inbox.post(async () => {
      log.push('start begins');
      await started.promise;
      log.push('start ends');
    });
    for (const i of range(5)) {
      inbox.post(() => {
        log.push(`message ${i}`);
      });
    }
    await pause('timer1');
    assert.deepEqual(log, ['start begins'], 'messages wait for the start task');
    assert.equal(inbox.pending, 5);
    started.open();
    await inbox.idle();
    assert.deepEqual(log, ['start begins', 'start ends', ...range(5).map((i) => `message ${i}`)]);
  });

  test('thousands of tasks (past the queue compaction point) keep their order', async () => {
    const inbox = new Inbox(() => assert.fail('no task throws'));
    const t = tracker();
    const n = 3000;
    for (const i of range(n)) {
      inbox.post(
        i % 97 === 0
          ? async () => {
              t.enter(i);
              await pause('immediate');
              // Post more while the queue is long, so compaction happens with new tasks arriving.
              if (i < 1000) {
                const j = n + i;
                inbox.post(() => {
                  t.enter(j);
                  t.leave(j);
                });
              }
              t.leave(i);
            }
          : () => {
              t.enter(i);
              t.leave(i);
            },
      );
    }
    await inbox.idle();
    const late = range(1000).filter((i) => i % 97 === 0).map((i) => n + i);
    assert.equal(t.maxRunning, 1);
    assert.deepEqual(t.started.slice(0, n), range(n));
    assert.deepEqual(t.started.slice(n).sort((a, b) => a - b), late);
    assert.equal(t.started.length, n + late.length);
  });
});

describe('Inbox: close()', () => {
  test('drops queued tasks (each drop handler once, task never run), lets the running one finish', async () => {
    const inbox = new Inbox(() => assert.fail('no task throws'));
    const log: string[] = [];
    const running = gate();
    inbox.post(async () => {
      log.push('running begins');
      await running.promise;
      log.push('running ends');
    });
    for (const i of range(4)) {
      inbox.post(
        () => {
          log.push(`ran ${i}`);
        },
        () => log.push(`dropped ${i}`),
      );
    }
    inbox.post(() => {
      log.push('ran without drop handler');
    });
    assert.equal(inbox.pending, 5);
    assert.equal(inbox.close(), 5, 'close returns the dropped count');
    assert.equal(inbox.pending, 0);
    assert.deepEqual(log, ['running begins', 'dropped 0', 'dropped 1', 'dropped 2', 'dropped 3']);
    const idle = inbox.idle();
    running.open();
    await idle;
    assert.deepEqual(log.slice(5), ['running ends']);
    await pause('immediate');
    assert.ok(!log.some((l) => l.startsWith('ran ')), 'dropped tasks never run');
  });

  test('post after close returns false, runs nothing and calls the drop handler at once', async () => {
    const inbox = new Inbox(() => assert.fail('no task throws'));
    inbox.close();
    let ran = false;
    let dropped = 0;
    const accepted = inbox.post(
      () => {
        ran = true;
      },
      () => dropped++,
    );
    assert.equal(accepted, false);
    assert.equal(dropped, 1);
    await inbox.idle();
    assert.equal(ran, false);
    assert.equal(inbox.post(() => {}), false, 'without a drop handler too');
  });

  test('a drop handler of a task that already ran is not called by a later close', async () => {
    const inbox = new Inbox(() => assert.fail('no task throws'));
    let dropped = 0;
    inbox.post(
      () => {},
      () => dropped++,
    );
    await inbox.idle();
    inbox.close();
    assert.equal(dropped, 0);
  });

  // src/rpc/inbox.ts keys drop handlers by task identity (`#drops: Map<InboxTask, DropHandler>`): posting the
  // same function twice keeps only the last handler, so close() calls it twice and never calls the first one;
  // and running the first copy deletes the handler of the second. RpcEnv always posts fresh closures, so
  // this is latent there, but it breaks the documented contract of post(task, onDrop).
  test('the same function posted twice keeps both drop handlers', async () => {
    const inbox = new Inbox(() => assert.fail('no task throws'));
    const running = gate();
    inbox.post(() => running.promise);
    const shared = (): void => {};
    const drops: string[] = [];
    inbox.post(shared, () => drops.push('first'));
    inbox.post(shared, () => drops.push('second'));
    inbox.close();
    running.open();
    await inbox.idle();
    assert.deepEqual(drops, ['first', 'second']);
  });
});
