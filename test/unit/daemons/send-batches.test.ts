// SendBatches (src/daemons/send-batches.ts): the task messages of one turn to one peer leave as one batch, a lone
// one as itself, in order with everything else sent to that peer.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BATCH_BYTES, SendBatches, type SendBatching } from '../../../src/daemons/send-batches.ts';
import { TASK_BATCH_MAX } from '../../../src/protocol/task-messages.ts';

type Msg = { readonly type: string; readonly n?: number; readonly data?: Uint8Array; readonly tasks?: Msg[] };

const batching: SendBatching = { type: 'Task', wrap: (messages) => ({ type: 'Tasks', tasks: messages }) as Msg };

function recorder(): { sent: Array<[string, Msg]>; batches: SendBatches<string> } {
  const sent: Array<[string, Msg]> = [];
  return { sent, batches: new SendBatches<string>(batching, (peer, message) => sent.push([peer, message as Msg])) };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const task = (n: number): Msg => ({ type: 'Task', n });

describe('SendBatches', () => {
  test('a lone message leaves as itself at the end of the turn', async () => {
    const { sent, batches } = recorder();
    batches.send('a', task(1));
    assert.deepEqual(sent, [], 'held until the end of the turn');
    await turn();
    assert.deepEqual(sent, [['a', task(1)]]);
  });

  test("one turn's messages to one peer leave as one batch, in order; each peer has its own", async () => {
    const { sent, batches } = recorder();
    batches.send('a', task(1));
    batches.send('b', task(2));
    batches.send('a', task(3));
    batches.send('a', task(4));
    await turn();
    assert.deepEqual(sent, [
      ['a', { type: 'Tasks', tasks: [task(1), task(3), task(4)] }],
      ['b', task(2)],
    ]);
    // The next turn starts afresh.
    batches.send('a', task(5));
    await turn();
    assert.deepEqual(sent.at(-1), ['a', task(5)]);
  });

  test('another message to a peer, or an ask (before), first sends what is held for it; other peers keep theirs', async () => {
    const { sent, batches } = recorder();
    batches.send('a', task(1));
    batches.send('b', task(2));
    const kill: Msg = { type: 'Kill', n: 1 };
    batches.send('a', kill);
    assert.deepEqual(sent, [
      ['a', task(1)],
      ['a', { type: 'Kill', n: 1 }],
    ]);
    batches.send('b', task(3));
    batches.before('b');
    assert.deepEqual(sent.at(-1), ['b', { type: 'Tasks', tasks: [task(2), task(3)] }]);
    await turn();
    assert.equal(sent.length, 3, 'nothing left to send');
  });

  test(`a batch holds at most ${TASK_BATCH_MAX} messages`, async () => {
    const { sent, batches } = recorder();
    for (let n = 0; n < TASK_BATCH_MAX + 3; n++) batches.send('a', task(n));
    await turn();
    assert.equal(sent.length, 2);
    assert.equal(sent[0]?.[1].tasks?.length, TASK_BATCH_MAX);
    assert.equal(sent[1]?.[1].tasks?.length, 3);
  });

  test('a large message goes on its own, after what was held, and batches stay under BATCH_BYTES', async () => {
    const { sent, batches } = recorder();
    batches.send('a', task(1));
    const big: Msg = { type: 'Task', n: 2, data: new Uint8Array(BATCH_BYTES) };
    batches.send('a', big);
    assert.deepEqual(sent, [
      ['a', task(1)],
      ['a', big],
    ]);
    const medium = (n: number): Msg => ({ type: 'Task', n, data: new Uint8Array(BATCH_BYTES / 5) });
    for (let n = 0; n < 6; n++) batches.send('a', medium(n));
    await turn();
    const batchSizes = sent.slice(2).map(([, m]) => (m.tasks?.length ?? 1));
    assert.deepEqual(batchSizes, [4, 2]);
  });

  test('property: per peer, the messages arrive in the order sent, each exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ peer: fc.constantFrom('a', 'b', 'c'), kind: fc.constantFrom('Task', 'Task', 'Task', 'Other', 'ask'), turnEnd: fc.boolean() }), { maxLength: 60 }),
        async (steps) => {
          const { sent, batches } = recorder();
          const expected = new Map<string, Msg[]>();
          let n = 0;
          for (const step of steps) {
            if (step.kind === 'ask') batches.before(step.peer);
            else {
              const message: Msg = { type: step.kind, n: n++ };
              batches.send(step.peer, message);
              expected.set(step.peer, [...(expected.get(step.peer) ?? []), message]);
            }
            if (step.turnEnd) await turn();
          }
          await turn();
          const got = new Map<string, Msg[]>();
          for (const [peer, message] of sent) {
            const unpacked = message.tasks ?? [message];
            if (message.type === 'Tasks') assert.ok(unpacked.length >= 2, 'a batch has two or more');
            got.set(peer, [...(got.get(peer) ?? []), ...unpacked]);
          }
          assert.deepEqual(got, expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
