// The syscall budget of an ask (docs/benchmarks.md, "The work per message"): with strace attached to both real
// processes (bench/lib/syscalls.ts), an ask round trip makes one write and one read on each side, as the raw
// node:net ping-pong does, and at most two event-loop waits. A second write per message (a flush split in two, a
// frame header written apart) or an extra wake-up fails it.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { budgetProblems, ensureStrace, measureSyscalls, perTrip, startPeer, stopPeer, type Peer } from '../../../bench/lib/syscalls.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const ROUND_TRIPS = 1_000;
/** Timers that fire while strace counts add a few calls over the window: a few hundredths per round trip. */
const SLACK = 0.05;

describe('the syscall budget of an ask', { timeout: 120_000 }, () => {
  let dir: string;
  let peer: Peer | undefined;

  before(async () => {
    ensureStrace();
    dir = tempDir('flint-syscall-budget-');
    peer = await startPeer();
  });

  after(async () => {
    if (peer) await stopPeer(peer);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('one write and one read per side per round trip, and nothing the raw ping-pong does not do', async () => {
    const raw = await measureSyscalls('raw', peer as Peer, dir, ROUND_TRIPS);
    const ask = await measureSyscalls('ask', peer as Peer, dir, ROUND_TRIPS);
    for (const side of ['client', 'peer'] as const) {
      const counts = ask[side];
      const seen = JSON.stringify(Object.fromEntries(counts));
      assert.ok(Math.abs(perTrip(counts, 'write', ROUND_TRIPS) + perTrip(counts, 'writev', ROUND_TRIPS) - 1) <= SLACK, `ask ${side}: writes ${seen}`);
      assert.ok(Math.abs(perTrip(counts, 'read', ROUND_TRIPS) - 1) <= SLACK, `ask ${side}: reads ${seen}`);
      assert.deepEqual(budgetProblems(counts, raw[side], ROUND_TRIPS, SLACK), [], `ask ${side}: ${seen}; raw: ${JSON.stringify(Object.fromEntries(raw[side]))}`);
    }
  });
});
