// A registration that no retry can mend ends at once, with its cause and the fix (src/app/app-client-machine.ts,
// registrationRefused): a wrong secret, or an HTTP server at the master's address. Spark retries these as it
// retries an unreachable master and then reports only "All masters are unresponsive". A real master and a real
// HTTP server, over loopback TCP; the rounds are 20 s long here, as by default, so that only the refusal can
// end the registration within the test's time.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { AppClient } from '../../../src/daemons/app-client.ts';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { startMasterDaemon, type MasterDaemon } from '../../../src/daemons/master-daemon.ts';
import type { ApplicationDescription } from '../../../src/protocol/messages.ts';
import { RpcEnv } from '../../../src/rpc/index.ts';
import { memoryLogger } from '../../../src/util/logger.ts';
import { waitFor } from '../../helpers/process.ts';
import { appClientRecorder } from '../../helpers/app-events.ts';
import { newSecret } from '../../helpers/daemons.ts';

const ROUND_MS = 20_000;
const desc: ApplicationDescription = { name: 'refused', maxCores: 1, memoryPerExecutorMb: 256, command: { mainClass: 'x', arguments: [], environment: {} } } as unknown as ApplicationDescription;
const authConf = (secret: string): FlintConf => new FlintConf([['flint.authenticate', 'true'], ['flint.authenticate.secret', secret]]);

let master: MasterDaemon;
let http: Server;
let httpPort: number;

before(async () => {
  master = await startMasterDaemon({ conf: authConf(newSecret()), logger: memoryLogger(), host: '127.0.0.1', port: 0, webUiPort: 0 });
  http = createServer((_req, res) => res.end('a web page'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  httpPort = (http.address() as AddressInfo).port;
});
after(async () => {
  await master?.shutdown('test over');
  await new Promise((resolve) => http?.close(resolve));
});

/** Registers with `masters` using `secret`; the reason the client died for, and how long that took. */
async function register(masters: string, secret: string): Promise<{ reason: string; ms: number }> {
  const env = await RpcEnv.create({ name: 'driver', clientMode: true, principal: 'app', conf: authConf(secret) });
  const { events, listener } = appClientRecorder();
  const client = new AppClient(env, masters, desc, listener, memoryLogger(), { registrationTimeoutMs: ROUND_MS, registrationRetries: 3 });
  const started = performance.now();
  try {
    client.start();
    const dead = await waitFor(() => events.find((e) => e[0] === 'dead'), { timeoutMs: ROUND_MS / 2, what: 'the app to be declared dead' });
    assert.ok(!events.some((e) => e[0] === 'connected'));
    return { reason: String(dead[1]), ms: performance.now() - started };
  } finally {
    await client.stop();
    await env.shutdown();
  }
}

test('a wrong secret ends the registration at once, naming authentication', async () => {
  const { reason, ms } = await register(master.masterUrl, newSecret());
  assert.match(reason, /^Cannot register with the master, and retrying will not help: /);
  assert.match(reason, /authenticat|secret/i);
  assert.match(reason, /Fix: give the application the secret the cluster uses \(flint\.authenticate\.secret\.file/);
  assert.ok(ms < ROUND_MS, `${ms} ms, within the first round`);
});

test('an HTTP server at the master address ends the registration at once, saying so and which port to use', async () => {
  const { reason } = await register(`flint://127.0.0.1:${httpPort}`, newSecret());
  assert.match(reason, /answered in HTTP: it is a web server \(a web UI or the REST gateway\), not a Flint RPC port/);
  assert.match(reason, /Fix: use the RPC port of the master \(flint:\/\/host:7077 by default/);
});

test('with two masters, the registration ends once both have refused, naming each', async () => {
  const httpUrl = `flint://127.0.0.1:${httpPort}`;
  const { reason } = await register(`${master.masterUrl},127.0.0.1:${httpPort}`, newSecret());
  assert.match(reason, /^Cannot register with any master, and retrying will not help: /);
  assert.ok(reason.includes(`${master.masterUrl}: `) && reason.includes(`${httpUrl}: `), reason);
  assert.match(reason, /answered in HTTP/);
});
