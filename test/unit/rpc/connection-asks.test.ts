// A connection's asks in flight (connection.ts `#pending`), over a real loopback socket between two Connections:
// replies settle their asks, one for an id never asked (0 included, the id the map keeps for itself) is dropped,
// and a close fails what is still in flight.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Connection } from '../../../src/rpc/connection.ts';
import { Kind } from '../../../src/rpc/wire.ts';
import { openConnectionPair, type ConnectionPair } from '../../helpers/connection-pair.ts';
import { waitFor } from '../../helpers/process.ts';

let pair: ConnectionPair;
let client: Connection;
let accepted: Connection;
let closedWith: Error | undefined;

before(async () => {
  // Read through 'data' events, as a server's accepted connections do (the dialing side's reads are
  // connection-reads.test.ts's).
  pair = await openConnectionPair({ viaDataEvents: true, client: { onClose: (_conn, failure) => (closedWith = failure ?? new Error('closed')) } });
  ({ client, accepted } = pair);
});

after(() => pair?.close());

test('replies settle their asks; a reply to an id never asked, 0 included, is dropped and counts nothing', async () => {
  assert.equal(client.pendingAsks, 0);
  const answers: unknown[] = [];
  const first = client.registerAsk({ resolve: (v) => answers.push(['first', v]), reject: (e) => answers.push(['first failed', e.message]) });
  const second = client.registerAsk({ resolve: (v) => answers.push(['second', v]), reject: (e) => answers.push(['second failed', e.message]) });
  assert.equal(client.pendingAsks, 2);

  accepted.send({ kind: Kind.REPLY, askId: 0, body: 'to nobody' });
  accepted.send({ kind: Kind.REPLY, askId: 999, body: 'to nobody either' });
  accepted.send({ kind: Kind.REPLY, askId: first, body: 'one' });
  await waitFor(() => answers.length === 1, { timeoutMs: 5_000, what: 'the first reply' });
  assert.deepEqual(answers.slice(), [['first', 'one']]);
  assert.equal(client.pendingAsks, 1);

  accepted.send({ kind: Kind.REPLY, askId: 0, body: 'to nobody, again' });
  accepted.send({ kind: Kind.FAILURE, askId: second, code: 'FLINT_TEST', message: 'two failed', stack: null });
  await waitFor(() => answers.length === 2, { timeoutMs: 5_000, what: 'the failure' });
  assert.deepEqual(answers[1], ['second failed', 'two failed']);
  assert.equal(client.pendingAsks, 0);

  // Emptied and filled again: still counted from zero.
  const third = client.registerAsk({ resolve: (v) => answers.push(['third', v]), reject: (e) => answers.push(['third failed', e.message]) });
  assert.equal(client.pendingAsks, 1);
  accepted.send({ kind: Kind.REPLY, askId: third, body: 3 });
  await waitFor(() => answers.length === 3, { timeoutMs: 5_000, what: 'the third reply' });
  assert.equal(client.pendingAsks, 0);
});

test('a close fails the asks still in flight, and only those', async () => {
  const failures: string[] = [];
  client.registerAsk({ resolve: () => failures.push('resolved'), reject: (e) => failures.push(e.message) });
  client.registerAsk({ resolve: () => failures.push('resolved'), reject: (e) => failures.push(e.message) });
  accepted.close();
  await waitFor(() => closedWith !== undefined, { timeoutMs: 5_000, what: 'the client to see the close' });
  assert.equal(failures.length, 2);
  for (const f of failures) assert.match(f, /closed/);
  assert.equal(client.pendingAsks, 0);
});
