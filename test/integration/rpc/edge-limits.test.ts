// The limits at the RPC edge of a real master (authentication on), against peers that never authenticate or
// never read (docs/security.md, "Limits before authentication"):
//   - a flood of connections each declaring a 128 MiB frame and sending part of it: the master's RSS stays
//     bounded, and it still serves /json and registers a good worker;
//   - a HELLO carrying an 8 MB env id, and one carrying a 60 KB env id: every log line stays short;
//   - connections past flint.rpc.handshake.maxConnectionsPerAddress are closed at once;
//   - a peer that asks and never reads is disconnected past flint.rpc.io.maxQueuedBytes.

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readRpcSettings } from '../../../src/rpc/rpc-env.ts';
import { Connection } from '../../../src/rpc/connection.ts';
import { encodeFrame } from '../../../src/rpc/frame-decoder.ts';
import { Kind, PROTOCOL_MAGIC, encodeEnvelopeBody } from '../../../src/rpc/wire.ts';
import { silentLogger } from '../../../src/util/logger.ts';
import { authConf, masterJson, newSecret, startMaster, startWorker, untilMasterJson, writeSecretFile, type MasterDaemon } from '../../helpers/daemons.ts';
import { rawConnect, type RawConnection } from '../../helpers/net.ts';
import { ChildGroup, waitFor } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const MB = 1024 * 1024;

/** The resident set of process `pid`, in bytes (VmRSS in /proc/<pid>/status). */
function rssBytes(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(line, `VmRSS of ${pid}`);
  return Number(line[1]) * 1024;
}

/** Opens a raw TCP connection from `localAddress`; resolves once connected (or failed: then closed is true). */
function helloFrame(env: string, version = 1): Buffer {
  return encodeFrame(encodeEnvelopeBody({ kind: Kind.HELLO, magic: PROTOCOL_MAGIC, version, env, nonce: new Uint8Array(32), wantsAuth: true, principal: 'daemon' }));
}

/** The longest line the master has written to stderr so far. */
function longestLine(master: MasterDaemon): number {
  return Math.max(...master.child.stderr().split('\n').map((l) => l.length));
}

describe('limits at the RPC edge of a master', { timeout: 180_000 }, () => {
  const children = new ChildGroup();
  const secret = newSecret();
  let dir: string;
  let secretFile: string;
  let master: MasterDaemon;

  before(async () => {
    dir = tempDir('flint-edge-');
    secretFile = writeSecretFile(join(dir, 'secret'), secret);
    master = await startMaster(children, {
      label: 'master',
      secretFile,
      conf: ['flint.rpc.handshake.maxConnectionsPerAddress=4', 'flint.rpc.io.maxQueuedBytes=1m'],
    });
  });

  after(async () => {
    await children.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test('1,000 connections declaring 128 MiB frames: RSS bounded, the master still serves', async () => {
    const rss0 = rssBytes(master.child.pid);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(128 * MB);
    const body = Buffer.alloc(256 * 1024, 7);
    let peak = rss0;
    const all: Socket[] = [];
    // Each from its own loopback address (under the per-address cap), in waves of 100, all kept open.
    for (let wave = 0; wave < 10; wave++) {
      const conns = await Promise.all(Array.from({ length: 100 }, (_, i) => rawConnect(master.rpcPort, `127.30.${wave}.${i + 1}`)));
      await Promise.all(
        conns.map(
          ({ socket }) =>
            new Promise<void>((done) => {
              if (socket.destroyed) return done();
              socket.write(Buffer.concat([header, body]), () => done());
              socket.once('close', () => done());
            }),
        ),
      );
      peak = Math.max(peak, rssBytes(master.child.pid));
      all.push(...conns.map((c) => c.socket));
    }
    peak = Math.max(peak, rssBytes(master.child.pid));
    for (const socket of all) socket.destroy();
    const growth = peak - rss0;
    process.stdout.write(`# pre-auth flood: master RSS ${(rss0 / MB).toFixed(0)} MB -> peak ${(peak / MB).toFixed(0)} MB\n`);
    assert.ok(growth <= 64 * MB, `the master's RSS grew by ${(growth / MB).toFixed(0)} MB (at most 64 MB expected)`);
    await masterJson(master.webUiPort);
    const { workerId } = await startWorker(children, { label: 'good worker', masterUrl: master.url, secretFile, workDir: join(dir, 'worker') });
    await untilMasterJson(master.webUiPort, (j) => j.workers.some((w) => w.id === workerId && w.state === 'ALIVE'), `${workerId} ALIVE`);
  });

  test('a HELLO with an 8 MB or a 60 KB env id writes only short log lines', async () => {
    for (const [size, version] of [
      [8 * MB, 1],
      [60 * 1024, 999],
    ] as const) {
      const { socket, closed } = await rawConnect(master.rpcPort, '127.31.0.1');
      socket.write(helloFrame(`flint://${'h'.repeat(size)}:1`, version));
      await waitFor(closed, { timeoutMs: 5_000, what: `the master to close the connection that sent a ${size}-byte env id` });
    }
    // The 60 KB one was decoded and refused for its version: that line is logged, cut short.
    const refused = await waitFor(() => master.child.stderrJson().find((l) => l['code'] === 'FLINT_RPC_PROTOCOL_VERSION'), {
      timeoutMs: 5_000,
      what: 'the version refusal to be logged',
    });
    assert.match(String(refused['msg']), /more chars\)$/);
    const longest = longestLine(master);
    assert.ok(longest < 4_096, `the longest master log line has ${longest} chars`);
    await masterJson(master.webUiPort);
  });

  test('connections past the per-address cap are closed at once', async () => {
    const conns: RawConnection[] = [];
    for (let i = 0; i < 10; i++) conns.push(await rawConnect(master.rpcPort, '127.32.0.1'));
    // The handshake timeout is 10 s; the excess ones must be gone long before it.
    await waitFor(() => conns.filter((c) => c.closed()).length >= 6, { timeoutMs: 3_000, what: 'six connections closed by the master' });
    await new Promise((done) => setTimeout(done, 200));
    assert.equal(conns.filter((c) => c.closed()).length, 6, 'four stay in the handshake (the cap), six are closed');
    const other = await rawConnect(master.rpcPort, '127.32.0.2');
    assert.equal(other.closed(), false, 'another address is still accepted');
    await waitFor(
      () => master.child.stderrJson().find((l) => String(l['msg']).includes('flint.rpc.handshake.maxConnectionsPerAddress')),
      { timeoutMs: 3_000, what: 'the refusal to be logged' },
    );
    for (const c of [...conns, other]) c.socket.destroy();
  });

  test('an asker that never reads is disconnected past flint.rpc.io.maxQueuedBytes', async () => {
    const rss0 = rssBytes(master.child.pid);
    const socket = connect({ host: '127.0.0.1', port: master.rpcPort, localAddress: '127.33.0.1' });
    socket.on('error', () => {});
    let opened = false;
    let closed = false;
    const conn = new Connection({
      socket,
      role: 'client',
      localEnv: 'flint://127.33.0.1:9',
      dialed: `flint://127.0.0.1:${master.rpcPort}`,
      credential: { principal: 'daemon', key: readRpcSettings(authConf(secret)).secret as string },
      principal: 'daemon',
      keyring: undefined,
      maxFrameBytes: 128 * MB,
      handshakeTimeoutMs: 10_000,
      writeHighWaterBytes: 1024 * MB,
      logger: silentLogger,
      hooks: { onOpen: () => (opened = true), onRequest: () => {}, onClose: () => (closed = true) },
    });
    await waitFor(() => opened || closed, { timeoutMs: 10_000, what: 'the handshake' });
    assert.ok(opened, 'authenticated');
    socket.pause(); // never read again
    let asks = 0;
    for (let round = 0; round < 600 && !closed; round++) {
      for (let i = 0; i < 500 && !closed; i++) {
        conn.send({ kind: Kind.ASK, askId: ++asks, endpoint: 'Master', body: { type: 'RequestMasterState' } });
      }
      await new Promise((done) => setTimeout(done, 20));
    }
    const line = await waitFor(() => master.child.stderrJson().find((l) => String(l['msg']).includes('flint.rpc.io.maxQueuedBytes')), {
      timeoutMs: 10_000,
      what: 'the master to log that it disconnects the asker',
    });
    const growth = rssBytes(master.child.pid) - rss0;
    process.stdout.write(`# asker: ${asks} asks sent; master RSS grew ${(growth / MB).toFixed(0)} MB; ${String(line['msg'])}\n`);
    // Measured on a 2-core AMD EPYC: with the 1m limit the master grows 22-38 MB quiet (V8's young generation and
    // the decoding of ~15,000 asks, not the queue) and past 64 MB once in CI; with the limit lifted (2g) the same
    // 300,000 asks grow it by 254 MB. 128 MB sits between the two, so the check still fails without the limit.
    assert.ok(growth <= 128 * MB, `the master's RSS grew by ${(growth / MB).toFixed(0)} MB`);
    socket.destroy();
    await masterJson(master.webUiPort);
  });
});
