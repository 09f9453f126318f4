// A server env listens with flint.rpc.io.backLog (default 4096), not Node's 511: a registration storm of
// thousands of workers otherwise overflows the accept queue, and every dropped SYN costs its worker ≥ 1 s.
// Linux shows a listening socket's backlog as its Send-Q in `ss`; `npm test` installs it (scripts/test-deps.sh) where it is missing.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { RpcEnv } from '../../../src/rpc/index.ts';

function listenBacklog(port: number): number {
  // -H: no header, -l: listening, -t: TCP, -n: numeric. Columns: State Recv-Q Send-Q Local Peer.
  const line = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).trim();
  const sendQ = Number(line.split(/\s+/)[2]);
  assert.ok(Number.isInteger(sendQ), `cannot read the backlog from ss: ${JSON.stringify(line)}`);
  return sendQ;
}

/** What the kernel makes of a requested backlog: it caps it at net.core.somaxconn. */
function effective(requested: number): number {
  try {
    return Math.min(requested, Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8')));
  } catch {
    return requested;
  }
}

test('a server env listens with flint.rpc.io.backLog, 4096 by default', async () => {
  for (const [conf, expected] of [
    [new FlintConf(), effective(4096)],
    [new FlintConf([['flint.rpc.io.backLog', '77']]), 77],
  ] as const) {
    const env = await RpcEnv.create({ name: 'backlog', host: '127.0.0.1', conf });
    try {
      assert.equal(listenBacklog(env.address?.port ?? 0), expected);
    } finally {
      await env.shutdown();
    }
  }
});
