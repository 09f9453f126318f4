import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ZooKeeperLeaderElection } from '../../../src/io/zookeeper/zookeeper-leader-election.ts';
import { memoryLogger, type LogLine } from '../../../src/util/logger.ts';
import { waitFor } from '../../helpers/process.ts';
import { SilentListener, ZooKeeperServer } from '../../helpers/zookeeper.ts';

const SESSION_MS = 1_000;
let zk: ZooKeeperServer;
const open: ZooKeeperLeaderElection[] = [];
let n = 0;

before(async () => {
  zk = await ZooKeeperServer.start();
});
after(async () => {
  await Promise.all(open.map((e) => e.close()));
  await zk.destroy();
});

interface Candidate {
  readonly election: ZooKeeperLeaderElection;
  readonly events: Array<'granted' | 'revoked'>;
  readonly lines: LogLine[];
  readonly leads: () => boolean;
}

function candidate(dir: string): Candidate {
  const lines: LogLine[] = [];
  const election = new ZooKeeperLeaderElection({ url: zk.url, dir, sessionTimeoutMs: SESSION_MS, operationTimeoutMs: 2_000, logger: memoryLogger(lines) });
  open.push(election);
  const events: Array<'granted' | 'revoked'> = [];
  election.start({ granted: () => events.push('granted'), revoked: () => events.push('revoked') });
  return { election, events, lines, leads: () => events.at(-1) === 'granted' };
}

/** granted/revoked alternate, starting with granted (the port's contract). */
function assertAlternates(c: Candidate): void {
  c.events.forEach((e, i) => assert.equal(e, i % 2 === 0 ? 'granted' : 'revoked', `events ${c.events.join(',')}`));
}

const leaders = (cs: readonly Candidate[]) => cs.filter((c) => c.leads());

async function exactlyOneLeads(cs: readonly Candidate[], what: string): Promise<Candidate> {
  const [leader] = await waitFor(() => leaders(cs).length === 1 && leaders(cs), { timeoutMs: 15_000, what });
  // Stays so: the others are settled watchers, not about to be granted too (a few more checks of the state).
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(leaders(cs).length, 1, what);
  }
  cs.forEach(assertAlternates);
  return leader!;
}

test('two candidates started at once: exactly one leads; closing it grants the other', async () => {
  const dir = `/flint-election-${n++}`;
  const cs = [candidate(dir), candidate(dir)];
  const leader = await exactlyOneLeads(cs, 'one of two candidates to lead');
  const other = cs.find((c) => c !== leader)!;
  assert.deepEqual(other.events, []);
  const eventsBeforeClose = leader.events.length;
  await leader.election.close();
  await waitFor(() => other.leads(), { timeoutMs: 10_000, what: 'the other candidate to be granted' });
  assert.equal(leader.events.length, eventsBeforeClose, 'no handler called after close');
  assertAlternates(other);
});

test('three candidates: leadership passes in sequence order when leaders close', async () => {
  const dir = `/flint-election-${n++}`;
  const cs = [candidate(dir), candidate(dir), candidate(dir)];
  let rest = cs;
  while (rest.length > 0) {
    const leader = await exactlyOneLeads(rest, `one of ${rest.length} to lead`);
    await leader.election.close();
    rest = rest.filter((c) => c !== leader);
  }
});

test("the leader's session lost (server down past the session timeout): revoked at once; exactly one leads after", async () => {
  const dir = `/flint-election-${n++}`;
  const cs = [candidate(dir), candidate(dir)];
  const leader = await exactlyOneLeads(cs, 'a leader before the outage');
  await zk.stop();
  try {
    await waitFor(() => !leader.leads(), { timeoutMs: 5_000, what: 'the leader to be revoked when its connection is lost' });
    assert.deepEqual(leader.events, ['granted', 'revoked']);
    // Down for longer than the session timeout (measured by the client's own disconnect, not a sleep).
    const downSince = performance.now();
    await waitFor(() => performance.now() - downSince > SESSION_MS * 2, { timeoutMs: 10_000, intervalMs: 100, what: 'the outage to outlast the session' });
    assert.equal(leaders(cs).length, 0, 'nobody leads while ZooKeeper is down');
  } finally {
    await zk.start();
  }
  await exactlyOneLeads(cs, 'exactly one leader after ZooKeeper returns');
});

test('started while ZooKeeper is down: keeps retrying (logged), and is granted once the server starts', async () => {
  const dir = `/flint-election-${n++}`;
  await zk.stop();
  let c: Candidate;
  try {
    c = candidate(dir);
    await waitFor(() => c.lines.some((l) => l.msg === 'ZooKeeper is unreachable; still trying'), {
      timeoutMs: 10_000,
      what: 'the election to log that ZooKeeper is unreachable',
    });
    assert.deepEqual(c.events, []);
  } finally {
    await zk.start();
  }
  await waitFor(() => c.leads(), { timeoutMs: 15_000, what: 'the election to be granted once ZooKeeper is up' });
  assertAlternates(c);
});

test('the server restarts and first leaves the reconnection unanswered: the leader reconnects and leads again', async () => {
  // ZooKeeper 3.8.0 accepts connections while it starts and leaves some open and unanswered; the client must
  // give up on such a handshake and connect again (it used to wait forever, never granted again).
  const c = candidate(`/flint-election-${n++}`);
  await waitFor(() => c.leads(), { timeoutMs: 15_000, what: 'the candidate to lead' });
  await zk.stop();
  const silent = await SilentListener.listen(zk.port);
  try {
    await silent.accepted();
    await waitFor(() => !c.leads(), { timeoutMs: 5_000, what: 'the leader to be revoked when its connection is lost' });
    silent.stopListening(); // the connection stays open and silent
    await zk.start();
    await waitFor(() => c.leads(), { timeoutMs: 20_000, what: 'the candidate to lead again once the server is up' });
    assertAlternates(c);
  } finally {
    silent.destroy();
    await zk.start();
  }
});
