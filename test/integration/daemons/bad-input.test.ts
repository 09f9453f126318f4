// Bad input to the daemons:
//   - malformed flags and configuration values: one clear `flint: …` line naming what is wrong, exit code 1,
//     no stack trace, nothing started;
//   - bad messages to a running master: refused with the RPC layer's codes, logged, and the master keeps
//     serving (/json answers, asks are answered, a good worker still registers).

import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RpcRemoteError } from '../../../src/errors.ts';
import { MasterQueryReplies, type WorkerToMaster } from '../../../src/protocol/messages.ts';
import { RpcEnv, type RpcEndpointRef } from '../../../src/rpc/index.ts';
import { memoryLogger, type LogLine } from '../../../src/util/logger.ts';
import { authConf, MAIN, masterJson, newSecret, startMaster, startWorker, untilMasterJson, writeSecretFile, type MasterDaemon } from '../../helpers/daemons.ts';
import { ChildGroup, NODE_BIN, spawnChild, waitFor, type ChildHandle, type Exit } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

/** A CLI that exits at once takes under a second; thirteen start together, on a machine that may be busy. */
const EXIT_WITHIN_MS = 60_000;
const OPEN = ['--conf', 'flint.authenticate=false'];
const LOCAL = ['--host', '127.0.0.1', '--port', '0', '--webui-port', '0'];

// ---- helpers -------------------------------------------------------------------------------------------

/** The remote code of an ask's failure, failing the test when the ask succeeds or fails otherwise. */
async function remoteFailure(ask: Promise<unknown>): Promise<RpcRemoteError> {
  const err = await ask.then(
    (reply) => assert.fail(`the ask should have been refused, got ${JSON.stringify(reply)}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof RpcRemoteError, `expected RpcRemoteError, got ${String(err)}`);
  return err;
}

describe('bad input to the daemons', { timeout: 180_000 }, () => {
  const children = new ChildGroup();
  const envs: RpcEnv[] = [];
  const secret = newSecret();
  let dir: string;
  let secretFile: string;

  /** Runs `flint <args>` and waits (bounded) for it to exit. */
  async function runCli(args: readonly string[], label: string): Promise<{ child: ChildHandle; exit: Exit }> {
    const child = children.add(spawnChild(NODE_BIN, [MAIN, ...args], { label }));
    const exit = await waitFor(() => child.exit, { timeoutMs: EXIT_WITHIN_MS, intervalMs: 25, what: `${label} to exit` });
    return { child, exit };
  }

  /** Exit code 1, a last stderr line `flint: …` matching `message`, no stack trace, and nothing started. */
  function assertCleanFailure({ child, exit }: { child: ChildHandle; exit: Exit }, message: RegExp): void {
    const stderr = child.stderr();
    assert.deepEqual(exit, { code: 1, signal: null }, `${child.label}: exit code 1; stderr:\n${stderr}`);
    const last = stderr.trimEnd().split('\n').at(-1) ?? '';
    assert.match(last, /^flint: /, `${child.label}: the error is one "flint: …" line; stderr:\n${stderr}`);
    assert.match(last, message, `${child.label}: the message says what is wrong`);
    assert.doesNotMatch(stderr, /\n\s+at /, `${child.label}: no stack trace; stderr:\n${stderr}`);
    assert.ok(!child.stderrJson().some((l) => 'rpcPort' in l), `${child.label}: nothing started`);
  }

  before(() => {
    dir = tempDir('flint-bad-input-test-');
    secretFile = writeSecretFile(join(dir, 'secret'), secret);
  });

  after(async () => {
    await Promise.allSettled(envs.map((e) => e.shutdown()));
    await children.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('malformed flags and configuration values: a clear error naming them, exit code 1', async () => {
    const workDir = join(dir, 'work');
    const worker = (...extra: string[]) => ['worker', 'flint://127.0.0.1:7077', ...LOCAL, '--work-dir', workDir, ...extra];
    const cases: Array<[label: string, args: string[], message: RegExp]> = [
      ['master --port abc', ['master', '--host', '127.0.0.1', '--port', 'abc', '--webui-port', '0', ...OPEN], /--port "abc" is not a port/],
      ['master --webui-port 70000', ['master', '--host', '127.0.0.1', '--port', '0', '--webui-port', '70000', ...OPEN], /--webui-port "70000" is not a port/],
      ['worker --cores 0', worker('--cores', '0', ...OPEN), /--cores "0" is not a number of cores; expected a whole number from 1 to 1048576/],
      ['worker --memory lots', worker('--memory', 'lots', ...OPEN), /--memory "lots" is not an amount of memory/],
      ['master flint.worker.timeout=soon', ['master', ...LOCAL, ...OPEN, '--conf', 'flint.worker.timeout=soon'], /flint\.worker\.timeout.*"soon" is not a duration/],
      ['worker flint.worker.timeout=soon', worker('--cores', '1', '--memory', '256m', ...OPEN, '--conf', 'flint.worker.timeout=soon'), /flint\.worker\.timeout.*"soon" is not a duration/],
      ['worker flint.worker.executorCpus=3-1', worker('--cores', '1', '--memory', '256m', ...OPEN, '--conf', 'flint.worker.executorCpus=3-1'), /flint\.worker\.executorCpus="3-1" is invalid: the range 3-1 ends before it starts; expected a list of CPU numbers and ranges such as 0-3,8/],
      ['worker flint.worker.executorCpus=8191', worker('--cores', '1', '--memory', '256m', ...OPEN, '--conf', 'flint.worker.executorCpus=8191'), /flint\.worker\.executorCpus=8191 names CPU 8191, but this worker may run on CPUs [0-9,-]+ only/],
      ['master --conf nokey', ['master', ...LOCAL, ...OPEN, '--conf', 'nokey'], /--conf "nokey": expected key=value/],
      ['worker with an http:// master URL', ['worker', 'http://127.0.0.1:7077', ...LOCAL, ...OPEN], /"http:\/\/127\.0\.0\.1:7077" is not a master URL/],
      ['master with no secret', ['master', ...LOCAL], /flint\.authenticate\.secret/],
      ['worker with no secret', worker('--cores', '1', '--memory', '256m'), /flint\.authenticate\.secret/],
      ['master with a missing secret file', ['master', ...LOCAL, '--conf', `flint.authenticate.secret.file=${join(dir, 'nope')}`], /flint\.authenticate\.secret\.file/],
    ];
    const results = await Promise.all(cases.map(([label, args]) => runCli(args, label)));
    results.forEach((result, i) => assertCleanFailure(result, (cases[i] as (typeof cases)[number])[2]));
  });

  test('an unusable --work-dir (a path under a regular file): a clear error, exit code 1', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory\n');
    const workDir = join(file, 'work');
    const result = await runCli(
      ['worker', 'flint://127.0.0.1:7077', ...LOCAL, '--cores', '1', '--memory', '256m', '--work-dir', workDir, ...OPEN],
      'worker --work-dir under a file',
    );
    assertCleanFailure(result, new RegExp(workDir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  });

  describe('bad messages to a running master', () => {
    let master: MasterDaemon;
    let env: RpcEnv;
    let ref: RpcEndpointRef;
    const lines: LogLine[] = [];

    before(async () => {
      master = await startMaster(children, { label: 'master', secretFile });
      const conf = authConf(secret);
      env = await RpcEnv.create({ name: 'badClient', clientMode: true, conf, logger: memoryLogger(lines) });
      envs.push(env);
      ref = await env.setupEndpointRef(master.url, 'Master');
    });

    test('an ask of an unknown message type: FLINT_RPC_UNKNOWN_MESSAGE', async () => {
      const err = await remoteFailure(ref.ask({ type: 'LaunchTheMissiles' }, 5_000));
      assert.equal(err.remoteCode, 'FLINT_RPC_UNKNOWN_MESSAGE');
      assert.match(err.message, /LaunchTheMissiles/);
    });

    test('a malformed RegisterWorker: refused (FLINT_RPC_MALFORMED_MESSAGE) asked or sent, and never registered', async () => {
      const good: WorkerToMaster = {
        type: 'RegisterWorker',
        id: 'worker-malformed-test',
        host: '127.0.0.1',
        port: 1,
        workerAddress: 'flint://Worker@127.0.0.1:1',
        cores: 1,
        memoryMb: 100,
        workerWebUiUrl: 'http://127.0.0.1:1',
        masterAddress: master.url,
      };
      // Built apart from the call: they are wrong on purpose, so no type of the catalog fits them.
      const portNotANumber = { ...good, port: 'seven' };
      const negativeCores = { ...good, cores: -4 };
      const extraField = { ...good, id: 'worker-malformed-sent', smuggled: 'extra field' };
      const asked = await remoteFailure(ref.ask(portNotANumber, 5_000));
      assert.equal(asked.remoteCode, 'FLINT_RPC_MALFORMED_MESSAGE');
      assert.match(asked.message, /port/);
      const negative = await remoteFailure(ref.ask(negativeCores, 5_000));
      assert.equal(negative.remoteCode, 'FLINT_RPC_MALFORMED_MESSAGE');

      // One-way: no answer can come back, so the master logs the refusal, naming the sender.
      ref.send(extraField);
      const logged = await waitFor(
        () =>
          master.child
            .stderrJson()
            .find((l) => l['msg'] === 'rejected an inbound message' && l['code'] === 'FLINT_RPC_MALFORMED_MESSAGE' && l['peer'] === env.id),
        { what: `the master's log line about the malformed message from ${env.id}` },
      );
      assert.equal(logged['endpoint'], 'Master');

      // A well-formed one-way message asked: the master's handler refuses to answer it.
      const heartbeat: WorkerToMaster = { type: 'Heartbeat', workerId: 'nobody', workerAddress: 'flint://Worker@127.0.0.1:1' };
      const oneWay = await remoteFailure(ref.ask(heartbeat, 5_000));
      assert.match(oneWay.message, /Heartbeat is a one-way message/);

      const json = await masterJson(master.webUiPort);
      assert.ok(!json.workers.some((w) => w.id.startsWith('worker-malformed')), `no worker registered: ${JSON.stringify(json.workers)}`);
    });

    test('bytes that are not Flint RPC on the RPC port: the connection is closed', async () => {
      const socket = connect({ host: '127.0.0.1', port: master.rpcPort });
      socket.on('error', () => {}); // a reset is an acceptable way to close it
      const closed = new Promise<void>((done) => socket.once('close', () => done()));
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await waitFor(() => socket.destroyed || socket.readableEnded, { timeoutMs: 5_000, what: 'the master to close the connection' });
      await closed;
    });

    test('after all that the master keeps serving: asks, /json, and a good worker registers', async () => {
      const state = await ref.ask<{ type: string; status: string }>({ type: 'RequestMasterState' }, { timeoutMs: 5_000, expect: MasterQueryReplies });
      assert.equal(state.type, 'MasterStateResponse');
      assert.equal(state.status, 'ALIVE');
      assert.equal((await masterJson(master.webUiPort)).status, 'ALIVE');

      const { workerId } = await startWorker(children, { label: 'good worker', masterUrl: master.url, secretFile, workDir: join(dir, 'good-worker') });
      await untilMasterJson(master.webUiPort, (j) => j.workers.some((w) => w.id === workerId && w.state === 'ALIVE'), `${workerId} ALIVE`);
      assert.ok(master.child.alive, 'the master is still running');
      assert.ok(!master.child.stderrJson().some((l) => Number(l['level']) >= 50), `no error lines in the master log:\n${master.child.stderr()}`);
    });
  });
});
