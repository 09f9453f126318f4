// AskTimeouts: an ask not settled within its timeout expires (not before), once; a settled one never does; asks of
// one timeout share a lane and expire in the order they were made; answered asks behind a waiting one do not pile
// up; the lane's timer holds the process open only while an ask waits; stop() clears everything.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AskTimeouts, TimedAsk } from '../../../src/rpc/ask-timeouts.ts';

class Probe extends TimedAsk {
  readonly name: string;
  readonly expired: Promise<number>;
  expiredAt: number | undefined;
  expiries = 0;
  #done: (at: number) => void = () => {};

  constructor(name: string) {
    super();
    this.name = name;
    this.expired = new Promise((resolve) => {
      this.#done = resolve;
    });
  }

  expire(): void {
    this.expiries++;
    this.expiredAt = performance.now();
    this.#done(this.expiredAt);
  }

  abandons = 0;

  override abandoned(): void {
    this.abandons++;
  }
}

describe('AskTimeouts', () => {
  test('an ask left waiting expires once, no earlier than its timeout; settle() then returns false', async () => {
    const timeouts = new AskTimeouts();
    const ask = new Probe('a');
    const start = performance.now();
    timeouts.add(ask, 30);
    const at = await ask.expired;
    assert.ok(at - start >= 29, `expired after ${at - start} ms, before its 30 ms`);
    assert.equal(ask.settled, true);
    assert.equal(ask.settle(), false, 'an expired ask cannot be answered any more');
    assert.equal(ask.expiries, 1);
    timeouts.stop();
  });

  test('answered asks never expire, and the lane goes once its timer has passed', async () => {
    const timeouts = new AskTimeouts();
    const answered = [new Probe('a'), new Probe('b'), new Probe('c')];
    for (const a of answered) timeouts.add(a, 20);
    for (const a of answered) assert.equal(a.settle(), true);
    assert.equal(timeouts.lanes, 1);
    // A later ask of the same lane, left waiting, expires after the answered ones' deadlines have passed.
    const late = new Probe('late');
    timeouts.add(late, 20);
    await late.expired;
    for (const a of answered) assert.equal(a.expiries, 0, `${a.name} was answered`);
    assert.equal(timeouts.lanes, 0, 'an empty lane is dropped when its timer fires');
    timeouts.stop();
  });

  test('asks of one timeout expire in the order they were made; other timeouts have lanes of their own', async () => {
    const timeouts = new AskTimeouts();
    const order: string[] = [];
    const asks = ['a', 'b', 'c'].map((n) => new Probe(n));
    const short = new Probe('short');
    for (const a of asks) timeouts.add(a, 40);
    timeouts.add(short, 10);
    assert.equal(timeouts.lanes, 2);
    for (const a of [...asks, short]) void a.expired.then(() => order.push(a.name));
    await Promise.all([...asks, short].map((a) => a.expired));
    assert.deepEqual(order, ['short', 'a', 'b', 'c']);
    timeouts.stop();
  });

  test('one ask waiting behind 100,000 answered ones: the lane holds a bounded number, and the waiting one still expires', async () => {
    const timeouts = new AskTimeouts();
    const slow = new Probe('slow');
    timeouts.add(slow, 200);
    let most = 0;
    for (let i = 0; i < 100_000; i++) {
      const quick = new Probe(`q${i}`);
      timeouts.add(quick, 200);
      quick.settle();
      most = Math.max(most, timeouts.held);
    }
    // At most twice the asks waiting (the slow one and the one just added) plus the lane's slack of 1,024.
    assert.ok(most <= 2 * 2 + 1_024, `the lane held up to ${most} asks for 1 waiting`);
    await slow.expired;
    assert.equal(slow.expiries, 1);
    timeouts.stop();
  });

  test('an ask with a timeout beyond what a Node timer takes is held, not expired at once', async () => {
    const timeouts = new AskTimeouts();
    const far = new Probe('far');
    timeouts.add(far, 30 * 24 * 3600 * 1000); // 30 days: over 2^31 - 1 ms
    const near = new Probe('near');
    timeouts.add(near, 20);
    await near.expired;
    assert.equal(far.expiries, 0);
    assert.equal(far.settled, false);
    timeouts.stop();
  });

  test('stop() clears the timers: nothing expires afterwards', async () => {
    const timeouts = new AskTimeouts();
    const ask = new Probe('a');
    timeouts.add(ask, 10);
    timeouts.stop();
    assert.equal(timeouts.lanes, 0);
    const probe = new Probe('after');
    const other = new AskTimeouts();
    other.add(probe, 30);
    await probe.expired; // well past the stopped ask's deadline
    assert.equal(ask.expiries, 0);
    other.stop();
  });

  test('stop() tells each ask still waiting, once, and no answered or expired one', async () => {
    const timeouts = new AskTimeouts();
    const [waiting, answered, expired, otherLane] = [new Probe('waiting'), new Probe('answered'), new Probe('expired'), new Probe('other lane')];
    timeouts.add(expired, 5);
    timeouts.add(waiting, 60_000);
    timeouts.add(answered, 60_000);
    timeouts.add(otherLane, 90_000);
    answered.settle();
    await expired.expired;
    timeouts.stop();
    assert.deepEqual(
      [waiting, answered, expired, otherLane].map((a) => [a.name, a.abandons]),
      [['waiting', 1], ['answered', 0], ['expired', 0], ['other lane', 1]],
    );
    // settle() after stop() touches no lane (the ask was taken out of its own).
    assert.equal(waiting.settle(), true);
    timeouts.stop();
    assert.equal(waiting.abandons, 1, 'a second stop() finds nothing');
  });

  test('the timer holds the process open while an ask waits, and not once every ask is answered', () => {
    const module = fileURLToPath(new URL('../../../src/rpc/ask-timeouts.ts', import.meta.url));
    const script = (settle: boolean) => `
      import { AskTimeouts, TimedAsk } from ${JSON.stringify(module)};
      class A extends TimedAsk { expire() { console.log('expired'); } }
      const t = new AskTimeouts();
      const a = new A();
      t.add(a, 1500);
      ${settle ? 'a.settle();' : ''}
      const start = performance.now();
      process.on('exit', () => console.log('exit after', Math.round(performance.now() - start)));
    `;
    const run = (settle: boolean) => spawnSync(process.execPath, ['--input-type=module', '-e', script(settle)], { encoding: 'utf8', timeout: 20_000 });
    const waiting = run(false);
    assert.equal(waiting.status, 0, waiting.stderr);
    assert.match(waiting.stdout, /^expired\nexit after (\d+)\n$/);
    assert.ok(Number(/exit after (\d+)/.exec(waiting.stdout)?.[1]) >= 1_400, waiting.stdout);
    const answered = run(true);
    assert.equal(answered.status, 0, answered.stderr);
    assert.doesNotMatch(answered.stdout, /expired/);
    assert.ok(Number(/exit after (\d+)/.exec(answered.stdout)?.[1]) < 1_400, `an answered ask held the process: ${answered.stdout}`);
  });
});
