// Shared-secret authentication between processes (flint.authenticate, flint.authenticate.secret[.file]).
//
//   guarded: a peer process with flint.authenticate=true and the secret in flint.authenticate.secret.file
//   open:    a peer process without authentication
// The test process dials them with envs holding the right secret, a wrong one, or none. Every refusal must
// reach the asker promptly as an AuthenticationError, both sides must log a line saying what went wrong, and
// the secret text must appear in no log, event or error.

import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { AuthenticationError } from '../../../src/errors.ts';
import { RpcEnv, type RpcEndpoint } from '../../../src/rpc/index.ts';
import { memoryLogger, type LogLine } from '../../../src/util/logger.ts';
import { CallbackMessages, type CallbackMessage, type EchoMessage } from '../../fixtures/rpc-peer.ts';
import { ChildGroup, readReadyLine, waitFor, waitForMessage, type ChildHandle } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const PEER = 'test/fixtures/rpc-peer.ts';
const RIGHT = 'right-secret-Qm7xK2pZ';
const WRONG = 'wrong-secret-Vb3nR8tY';
/** An auth refusal must arrive well before any timeout. */
const PROMPT_MS = 2_000;
const ASK_TIMEOUT_MS = 10_000;

function authConf(secret: string | undefined): FlintConf {
  return secret === undefined
    ? new FlintConf()
    : new FlintConf([
        ['flint.authenticate', 'true'],
        ['flint.authenticate.secret', secret],
      ]);
}

/** Asks Ping and returns the error, with how long it took. */
async function failedPing(env: RpcEnv, target: string): Promise<{ err: unknown; ms: number }> {
  const started = performance.now();
  const ref = env.endpointRef<EchoMessage>(`flint://Echo@${target.slice('flint://'.length)}`);
  const err = await ref.ask({ type: 'Ping', n: 1 }, ASK_TIMEOUT_MS).then(
    (reply) => assert.fail(`the ask should have been refused, got ${JSON.stringify(reply)}`),
    (e: unknown) => e,
  );
  return { err, ms: performance.now() - started };
}

function stderrLine(child: ChildHandle, match: (line: Record<string, unknown>, text: string) => boolean) {
  return child.stderrJson().find((line) => match(line, JSON.stringify(line)));
}

describe('authentication between processes', { timeout: 40_000 }, () => {
  const children = new ChildGroup();
  const envs: RpcEnv[] = [];
  const logLines: LogLine[] = [];
  const errors: unknown[] = [];
  let dir: string;
  let guarded: ChildHandle;
  let guardedId: string;
  let open: ChildHandle;
  let openId: string;
  /** Every peer process, for the scan of their output for the secret. */
  const peers: ChildHandle[] = [];

  async function newEnv(label: string, secret: string | undefined, clientMode = true): Promise<RpcEnv> {
    const env = await RpcEnv.create({ name: label, clientMode, conf: authConf(secret), logger: memoryLogger(logLines, { env: label }) });
    envs.push(env);
    return env;
  }

  before(async () => {
    dir = tempDir('flint-auth-test-');
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, `${RIGHT}\n`, { mode: 0o600 });
    guarded = children.spawnNodeScript(PEER, [
      '--name',
      'guarded',
      '--conf',
      'flint.authenticate=true',
      '--conf',
      `flint.authenticate.secret.file=${secretFile}`,
    ]);
    open = children.spawnNodeScript(PEER, ['--name', 'open']);
    guardedId = String((await readReadyLine(guarded))['id']);
    openId = String((await readReadyLine(open))['id']);
    peers.push(guarded, open);
  });

  after(async () => {
    await Promise.allSettled(envs.map((e) => e.shutdown()));
    await children.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the right secret: the handshake passes and asks are answered', async () => {
    const env = await newEnv('rightClient', RIGHT);
    const echo = await env.setupEndpointRef<EchoMessage>(guardedId, 'Echo');
    assert.deepEqual(await echo.ask({ type: 'Ping', n: 5 }, 5_000), { type: 'Pong', n: 6 });
    await waitForMessage(guarded, (m) => m['event'] === 'connected' && m['peer'] === env.id, { what: 'connected event' });

    // A server env with the secret works too, and it is reachable back through a ref (the peer dials it).
    const server = await newEnv('rightServer', RIGHT, false);
    const got: CallbackMessage[] = [];
    const collector: RpcEndpoint<CallbackMessage> = { messages: CallbackMessages, receive: (m) => void got.push(m) };
    const ref = server.setupEndpoint('Collector', collector);
    echo.send({ type: 'CallMeBack', ref: ref.address, token: 'authenticated-callback' });
    await waitFor(() => got.find((m) => m.token === 'authenticated-callback'), { what: 'callback over an authenticated connection' });
  });

  test('a wrong secret: AuthenticationError at once, and both sides log why', async () => {
    const env = await newEnv('wrongClient', WRONG);
    const { err, ms } = await failedPing(env, guardedId);
    errors.push(err);
    assert.ok(err instanceof AuthenticationError, `expected AuthenticationError, got ${String(err)}`);
    assert.equal(err.code, 'FLINT_RPC_AUTH_FAILED');
    assert.match(err.message, /secret differs/);
    assert.ok(ms < PROMPT_MS, `refused after ${ms.toFixed(0)} ms`);

    // This side: a warning naming the peer.
    const mine = logLines.find((l) => l.fields['env'] === 'wrongClient' && l.fields['code'] === 'FLINT_RPC_AUTH_FAILED');
    assert.ok(mine, `no auth warning in this process's log: ${JSON.stringify(logLines)}`);
    assert.equal(mine.level, 'warn');
    assert.match(mine.msg, new RegExp(`authentication with ${guardedId} failed`));

    // The peer: a line naming the client and saying the secrets differ.
    const theirs = await waitFor(
      () => stderrLine(guarded, (l, text) => l['code'] === 'FLINT_RPC_AUTH_FAILED' && text.includes(env.id)),
      { what: "the guarded peer's auth failure line" },
    );
    assert.match(String(theirs['msg']), /secrets differ/);
    assert.ok(!guarded.messages.some((m) => m.value['peer'] === env.id), 'no connected event for a refused client');
    assert.deepEqual(env.connectedPeers(), []);
  });

  test('no secret on the client: AuthenticationError telling to set flint.authenticate; the peer logs it', async () => {
    const env = await newEnv('bareClient', undefined);
    const { err, ms } = await failedPing(env, guardedId);
    errors.push(err);
    assert.ok(err instanceof AuthenticationError, `expected AuthenticationError, got ${String(err)}`);
    assert.match(err.message, /requires authentication/);
    assert.match(err.message, /flint\.authenticate/);
    assert.ok(ms < PROMPT_MS, `refused after ${ms.toFixed(0)} ms`);
    assert.ok(logLines.some((l) => l.fields['env'] === 'bareClient' && l.fields['code'] === 'FLINT_RPC_AUTH_FAILED'));

    const theirs = await waitFor(
      () => stderrLine(guarded, (l, text) => l['code'] === 'FLINT_RPC_AUTH_FAILED' && text.includes(env.id)),
      { what: "the guarded peer's line about a client without a secret" },
    );
    assert.match(String(theirs['msg']), /client has no secret/);
  });

  test('no secret on the server: a client with a secret refuses it; both sides log an authentication line', async () => {
    const env = await newEnv('strictClient', RIGHT);
    const { err, ms } = await failedPing(env, openId);
    errors.push(err);
    assert.ok(err instanceof AuthenticationError, `expected AuthenticationError, got ${String(err)}`);
    assert.match(err.message, /does not authenticate/);
    assert.ok(ms < PROMPT_MS, `refused after ${ms.toFixed(0)} ms`);
    assert.ok(logLines.some((l) => l.fields['env'] === 'strictClient' && l.fields['code'] === 'FLINT_RPC_AUTH_FAILED'));

    // The open peer must say that the client refused it for lack of authentication, naming the client.
    const theirs = await waitFor(
      () => stderrLine(open, (_l, text) => text.includes(env.id) || /authenticat/i.test(text)),
      { timeoutMs: 2_000, what: "the open peer's line about the refused connection" },
    ).catch((e: unknown) => e);
    assert.ok(
      !(theirs instanceof Error),
      `the open peer logged no line naming the client or authentication; its log:\n${open.stderr()}`,
    );
    const text = JSON.stringify(theirs);
    assert.match(text, /authenticat/i, `the open peer's line does not say it was about authentication: ${text}`);
  });

  test('the peer as the dialer with a wrong secret: it logs the failure and the listener logs the refusal', async () => {
    // A third peer with a wrong secret, reached by an env that shares that wrong secret.
    const impostor = children.spawnNodeScript(PEER, ['--name', 'impostor', '--conf', 'flint.authenticate=true', '--conf', `flint.authenticate.secret=${WRONG}`]);
    const impostorId = String((await readReadyLine(impostor))['id']);
    peers.push(impostor);
    const driver = await newEnv('impostorDriver', WRONG);
    const echo = await driver.setupEndpointRef<EchoMessage>(impostorId, 'Echo');
    // The listener here has the right secret; the impostor dials it to deliver a CalledBack.
    const listener = await newEnv('listener', RIGHT, false);
    const got: CallbackMessage[] = [];
    const ref = listener.setupEndpoint<CallbackMessage>('Collector', { messages: CallbackMessages, receive: (m) => void got.push(m) });
    echo.send({ type: 'CallMeBack', ref: ref.address, token: 'never-delivered' });

    const theirs = await waitFor(
      () => stderrLine(impostor, (l) => l['code'] === 'FLINT_RPC_AUTH_FAILED' && String(l['msg']).includes(listener.id)),
      { what: "the impostor's auth failure line" },
    );
    assert.match(String(theirs['msg']), /secret differs/);
    await waitFor(
      () => logLines.find((l) => l.fields['env'] === 'listener' && l.fields['code'] === 'FLINT_RPC_AUTH_FAILED' && l.msg.includes(impostorId)),
      { what: "the listener's line about the refusal" },
    );
    assert.deepEqual(got, []);
    assert.deepEqual(listener.connectedPeers(), []);
  });

  test('flint.authenticate=true without a secret is a ConfigError at start-up', async () => {
    const child = children.spawnNodeScript(PEER, ['--name', 'noSecret', '--conf', 'flint.authenticate=true']);
    const exit = await waitFor(() => child.exit, { timeoutMs: 10_000, what: 'the peer to exit' });
    assert.equal(exit.code, 2);
    assert.equal(child.messages.length, 0, 'it never became ready');
    const line = child.stderrJson().find((l) => l['code'] === 'FLINT_CONFIG_INVALID');
    assert.ok(line, `no ConfigError line: ${child.stderr()}`);
    assert.match(String(line['err']), /flint\.authenticate\.secret/);
    await assert.rejects(RpcEnv.create({ name: 'noSecretHere', conf: new FlintConf([['flint.authenticate', 'true']]) }), /flint\.authenticate\.secret/);
  });

  test('the secret text appears in no log line, stdout line or error, on either side', async () => {
    assert.ok(errors.length >= 3 && peers.length >= 3, 'the refusals above have run');
    const texts: Array<[string, string]> = [['this process log', JSON.stringify(logLines)]];
    for (const err of errors) {
      const e = err as Error;
      texts.push(['an error', `${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e)}`]);
    }
    for (const child of peers) {
      texts.push([`${child.label} stderr`, child.stderr()]);
      texts.push([`${child.label} stdout`, child.stdoutLines.join('\n')]);
    }
    for (const [where, text] of texts) {
      assert.ok(text.length > 0 || where.endsWith('stdout'), `${where} is empty: nothing was checked`);
      for (const secret of [RIGHT, WRONG]) assert.ok(!text.includes(secret), `${where} contains a secret`);
    }
    // The impostor got WRONG on its command line; its logs must not repeat it either (checked above).
    assert.ok(guarded.stderr().includes('FLINT_RPC_AUTH_FAILED'), 'the guarded peer logged auth failures');
  });
});
