// A worker's registration costs the master two writes on its connection (docs/benchmarks.md, bench:master): the
// CHALLENGE, then WELCOME and RegisteredWorker together. The master carries out an input's effects in the turn
// of the message that caused them when none of them has to wait (recovery mode NONE persists nothing:
// NullPersistenceStore returns no promise), so its reply joins the WELCOME its connection holds until the end
// of the turn (src/rpc/connection.ts). Every write the master's end of the connection makes is counted at
// node:net's Socket.write, in this process: a reply that left a microtask later would be a third write, which a
// relay reading the bytes could not tell apart, since the kernel joins the two writes before anyone reads.

import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { after, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { startMasterDaemon, type MasterDaemon } from '../../../src/daemons/master-daemon.ts';
import { MasterToWorker, type WorkerToMaster } from '../../../src/protocol/messages.ts';
import { RpcEnv } from '../../../src/rpc/index.ts';
import { Kind, decodeEnvelope } from '../../../src/rpc/wire.ts';
import { FrameDecoder } from '../../../src/rpc/frame-decoder.ts';
import { memoryLogger } from '../../../src/util/logger.ts';
import { waitFor } from '../../helpers/process.ts';

const SECRET = 'registration-writes-secret-7vQk2Lm';

function conf(): FlintConf {
  return new FlintConf([
    ['flint.authenticate', 'true'],
    ['flint.authenticate.secret', SECRET],
  ]);
}

/** The envelope kinds in the bytes of one write. */
function kindsOf(bytes: Uint8Array): number[] {
  const decoder = new FrameDecoder(1 << 20);
  decoder.append(Buffer.from(bytes));
  const kinds: number[] = [];
  for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
    assert.ok(Buffer.isBuffer(frame), 'an oversized frame');
    const decoded = decodeEnvelope(frame);
    assert.ok(decoded.ok, `a bad frame: ${decoded.ok ? '' : decoded.reason}`);
    kinds.push(decoded.envelope.kind);
  }
  return kinds;
}

const stops: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const stop of stops.reverse()) await stop();
});

test('the master answers a registration with two writes: CHALLENGE, then WELCOME and RegisteredWorker in one', async () => {
  const master: MasterDaemon = await startMasterDaemon({ conf: conf(), logger: memoryLogger(), host: '127.0.0.1', port: 0, webUiPort: 0 });
  stops.push(() => master.shutdown('test over'));
  const worker = await RpcEnv.create({ name: 'fakeWorker', host: '127.0.0.1', port: 0, conf: conf() });
  stops.push(() => worker.shutdown());
  const got: MasterToWorker[] = [];
  const ref = worker.setupEndpoint<MasterToWorker>('Worker', { messages: MasterToWorker, receive: (m) => void got.push(m) });
  const port = worker.address?.port ?? 0;

  // Every write made on the master's end of a connection (its local port is the master's RPC port).
  const writes: number[][] = [];
  const write = Socket.prototype.write;
  Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]): boolean {
    if (this.localPort === master.rpcPort && chunk instanceof Uint8Array) writes.push(kindsOf(chunk));
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  try {
    const toMaster = worker.endpointRef<WorkerToMaster>(`flint://Master@127.0.0.1:${master.rpcPort}`);
    toMaster.send({
      type: 'RegisterWorker',
      id: `worker-20260101000000-127.0.0.1-${port}`,
      host: '127.0.0.1',
      port,
      workerAddress: ref.address,
      cores: 2,
      memoryMb: 512,
      workerWebUiUrl: 'http://127.0.0.1:1',
      masterAddress: master.masterUrl,
    });
    await waitFor(() => got.find((m) => m.type === 'RegisteredWorker'), { what: 'RegisteredWorker', timeoutMs: 15_000 });
  } finally {
    Socket.prototype.write = write;
  }
  assert.deepEqual(writes, [[Kind.CHALLENGE], [Kind.WELCOME, Kind.SEND]], `the master's writes: ${JSON.stringify(writes)}`);
});
