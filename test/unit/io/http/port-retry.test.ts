// listenWithRetries: Spark's `Utils.startServiceOnPort` with real sockets on 127.0.0.1. Ports are occupied
// first, then the helper must step over them, give up with a PortInUseError naming the range and
// flint.port.maxRetries, or stop at once on an error that is not a taken port.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, describe, test } from 'node:test';
import { FlintConf } from '../../../../src/conf/flint-conf.ts';
import { ConfigError, PortInUseError, isFlintError } from '../../../../src/errors.ts';
import { isBindCollision, listenWithRetries, portAfter, readPortMaxRetries } from '../../../../src/io/http/port-retry.ts';
import { memoryLogger } from '../../../../src/util/logger.ts';

const opened: Server[] = [];
after(() => Promise.all(opened.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))));

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      opened.push(server);
      resolve(server);
    });
  });
}

function portOf(server: Server): number {
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  return address.port;
}

/** `count` consecutive ports, all taken by us: found by taking a free one and then the ones above it. */
async function occupyRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await listen(0);
    const start = portOf(first);
    if (start + count > 65_535) continue;
    let ok = true;
    for (let p = start + 1; p < start + count && ok; p++) {
      ok = await listen(p).then(
        () => true,
        () => false,
      );
    }
    if (ok) return start;
  }
  throw new Error(`could not occupy ${count} consecutive ports`);
}

describe('listenWithRetries', () => {
  test('steps over taken ports to the first free one, warning for each', async () => {
    const start = await occupyRun(3);
    const log = memoryLogger();
    const tried: number[] = [];
    const server = await listenWithRetries(
      start,
      (port) => {
        tried.push(port);
        return listen(port);
      },
      { serviceName: 'test UI', maxRetries: 16, logger: log },
    );
    // start+3 could have been taken by another process meanwhile; what matters is that ours were stepped over.
    assert.deepEqual(tried.slice(0, 3), [start, start + 1, start + 2]);
    assert.equal(portOf(server), tried.at(-1));
    assert.ok(portOf(server) >= start + 3);
    assert.equal(log.lines.filter((l) => l.level === 'warn').length, tried.length - 1);
  });

  test('gives up after maxRetries with an error naming the first and last port and the setting', async () => {
    const start = await occupyRun(4);
    const tried: number[] = [];
    await assert.rejects(
      listenWithRetries(
        start,
        (port) => {
          tried.push(port);
          return listen(port);
        },
        { serviceName: 'master web UI', maxRetries: 3 },
      ),
      (err: unknown) => {
        assert.ok(err instanceof PortInUseError && isFlintError(err));
        assert.equal(err.code, 'FLINT_PORT_IN_USE');
        assert.equal(err.firstPort, start);
        assert.equal(err.lastPort, start + 3);
        assert.match(err.message, new RegExp(`master web UI could not bind: every port from ${start} to ${start + 3} \\(4 ports\\) was in use`));
        assert.match(err.message, /flint\.port\.maxRetries \(now 3\)/);
        assert.ok(isBindCollision(err.cause));
        return true;
      },
    );
    assert.deepEqual(tried, [start, start + 1, start + 2, start + 3]);
  });

  test('maxRetries 0 tries the one port', async () => {
    const start = await occupyRun(1);
    await assert.rejects(listenWithRetries(start, listen, { serviceName: 'RPC', maxRetries: 0 }), /RPC could not bind: port \d+ was in use/);
  });

  test('port 0 asks the kernel for any free port, once', async () => {
    const tried: number[] = [];
    const server = await listenWithRetries(
      0,
      (port) => {
        tried.push(port);
        return listen(port);
      },
      { serviceName: 'test UI', maxRetries: 16 },
    );
    assert.deepEqual(tried, [0]);
    assert.ok(portOf(server) > 0);
  });

  test('an error other than a taken port stops the search at once', async () => {
    let calls = 0;
    const denied = Object.assign(new Error('listen EACCES: permission denied'), { code: 'EACCES' });
    await assert.rejects(
      listenWithRetries(
        80,
        async () => {
          calls++;
          throw denied;
        },
        { serviceName: 'test UI', maxRetries: 16 },
      ),
      (err: unknown) => err === denied,
    );
    assert.equal(calls, 1);
  });

  test('a port out of range is refused before anything binds', async () => {
    for (const port of [-1, 65_536, 1.5]) {
      await assert.rejects(listenWithRetries(port, listen, { serviceName: 'x', maxRetries: 1 }), RangeError);
    }
  });
});

test('past 65535 the next port wraps to 1024, never to a privileged port (Spark)', () => {
  assert.deepEqual([0, 1, 2].map((o) => portAfter(65_535, o)), [65_535, 1024, 1025]);
  assert.equal(portAfter(0, 5), 0);
  assert.equal(portAfter(8080, 16), 8096);
});

test('flint.port.maxRetries defaults to 16 and must be a non-negative integer', () => {
  assert.equal(readPortMaxRetries(new FlintConf()), 16);
  assert.equal(readPortMaxRetries(new FlintConf([['flint.port.maxRetries', '100']])), 100);
  assert.equal(readPortMaxRetries(new FlintConf([['spark.port.maxRetries', '3']])), 3);
  assert.throws(() => readPortMaxRetries(new FlintConf([['flint.port.maxRetries', '-1']])), ConfigError);
});
