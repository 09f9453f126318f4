// One REST request to one ask of a real MasterMachine (test/unit/master/harness.ts) and back
// (src/rest/rest-gateway.ts): routes, roles, Spark's answers for a standby, and the path errors
// (src/rest/rest-paths.ts). The bearer check of the HTTP server (restPrincipal) too.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { deriveRestToken, restPrincipal } from '../../../src/io/http/rest-server.ts';
import type { MasterAsk, MasterReplyMessage } from '../../../src/master/index.ts';
import { answerRestRequest, type RestPrincipal } from '../../../src/rest/rest-gateway.ts';
import { routeRestPath } from '../../../src/rest/rest-paths.ts';
import { deriveUiToken } from '../../../src/io/http/ui-auth.ts';
import { TestMaster } from '../master/harness.ts';

const CREATE = {
  action: 'CreateSubmissionRequest',
  clientSparkVersion: '4.0.0',
  appResource: 'file:///staging/abc.mjs',
  sparkProperties: { 'spark.app.name': 'pi', 'spark.driver.memory': '512m' },
  extra: true,
};

function gateway(master: TestMaster, asks: MasterAsk[] = []) {
  const deps = {
    serverVersion: '0.1.0',
    master: { masterUrl: 'flint://master:7077', rpcPort: 7077, restPort: 6066 },
    ask: async (message: MasterAsk): Promise<MasterReplyMessage> => {
      asks.push(message);
      const { reply, failure } = master.ask(message, 'flint+rest://master');
      if (reply === undefined) throw new Error(failure);
      return reply;
    },
  };
  return (method: string, path: string, body?: unknown, principal: RestPrincipal = 'app') => answerRestRequest({ method, path, principal, body }, deps);
}

describe('answerRestRequest on a real master machine', () => {
  test('create asks RequestSubmitDriver; the driver is the master\'s, status and kill answer from its state', async () => {
    const master = new TestMaster();
    master.elect();
    const asks: MasterAsk[] = [];
    const rest = gateway(master, asks);
    const created = await rest('POST', '/v1/submissions/create', CREATE);
    assert.equal(created.status, 200);
    assert.equal(created.body.action, 'CreateSubmissionResponse');
    assert.ok('submissionId' in created.body);
    const id = created.body.submissionId as string;
    assert.deepEqual(created.body, {
      action: 'CreateSubmissionResponse',
      serverSparkVersion: '0.1.0',
      success: true,
      message: `Driver successfully submitted as ${id}`,
      submissionId: id,
      unknownFields: ['extra'],
    });
    assert.equal(asks[0]?.type, 'RequestSubmitDriver');
    const driver = [...master.state.drivers].find((d) => d.id === id);
    assert.equal(driver?.desc.memoryMb, 512);
    assert.equal(driver?.state, 'SUBMITTED');

    const status = await rest('GET', `/v1/submissions/status/${id}`);
    assert.deepEqual(status.body, { action: 'SubmissionStatusResponse', serverSparkVersion: '0.1.0', submissionId: id, success: true, driverState: 'SUBMITTED' });

    const killed = await rest('POST', `/v1/submissions/kill/${id}/ignored/segments`);
    assert.deepEqual([killed.status, killed.body.action, 'success' in killed.body && killed.body.success], [200, 'KillSubmissionResponse', true]);
    const after = await rest('GET', `/v1/submissions/status/${id}`);
    assert.equal('driverState' in after.body && after.body.driverState, 'KILLED');
  });

  test('killall and clear are the operator\'s (the cluster secret\'s token): 403 for an application', async () => {
    const master = new TestMaster();
    master.elect();
    const rest = gateway(master);
    const created = await rest('POST', '/v1/submissions/create', CREATE);
    const id = (created.body as { submissionId: string }).submissionId;
    assert.equal((await rest('POST', '/v1/submissions/killall')).status, 403);
    assert.equal((await rest('POST', '/v1/submissions/clear')).status, 403);
    const all = await rest('POST', '/v1/submissions/killall', undefined, 'daemon');
    assert.deepEqual([all.status, all.body.action], [200, 'KillAllSubmissionResponse']);
    assert.equal([...master.state.drivers].length, 0);
    assert.equal(master.state.completedDrivers.at(-1)?.id, id);
    const clear = await rest('POST', '/v1/submissions/clear', undefined, 'daemon');
    assert.deepEqual([clear.status, clear.body.action, 'success' in clear.body && clear.body.success], [200, 'ClearResponse', true]);
    assert.equal(master.state.completedDrivers.length, 0);
  });

  test('a standby master: readyz is 503 "Master is not ready.", create and kill are refused with success false', async () => {
    const rest = gateway(new TestMaster()); // never elected: STANDBY
    const ready = await rest('GET', '/v1/submissions/readyz');
    assert.deepEqual([ready.status, ready.body.action, ready.body.message], [503, 'ErrorResponse', 'Master is not ready.']);
    const created = await rest('POST', '/v1/submissions/create', CREATE);
    assert.equal(created.status, 200);
    assert.equal('success' in created.body && created.body.success, false);
    assert.match(created.body.message ?? '', /^Current state is not alive: STANDBY/);
    const killed = await rest('POST', '/v1/submissions/kill/driver-1');
    assert.equal('success' in killed.body && killed.body.success, false);
  });

  test('a bad body is a 400 before any ask; a failed ask is a 500 ErrorResponse', async () => {
    const asks: MasterAsk[] = [];
    const master = new TestMaster();
    master.elect();
    const bad = await gateway(master, asks)('POST', '/v1/submissions/create', { ...CREATE, sparkProperties: { 'spark.app.name': 'x', 'spark.driver.cores': 'many' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message ?? '', /^Malformed request: sparkProperties\.spark\.driver\.cores:/);
    assert.deepEqual(asks, []);
    const failing = await answerRestRequest(
      { method: 'GET', path: '/v1/submissions/readyz', principal: 'app', body: undefined },
      { serverVersion: '0.1.0', master: { masterUrl: 'flint://m:1', rpcPort: 1, restPort: 2 }, ask: () => Promise.reject(new Error('the master is stopping')) },
    );
    assert.deepEqual([failing.status, failing.body.action, failing.body.message], [500, 'ErrorResponse', 'Internal server error: the master is stopping']);
  });

  test('methods as Spark serves them: 405 for the wrong one, HEAD as GET', async () => {
    const master = new TestMaster();
    master.elect();
    const rest = gateway(master);
    assert.equal((await rest('GET', '/v1/submissions/create')).status, 405);
    assert.equal((await rest('POST', '/v1/submissions/readyz')).status, 405);
    assert.equal((await rest('HEAD', '/v1/submissions/readyz')).status, 200);
  });
});

describe('routeRestPath', () => {
  test("Spark's error messages and statuses for paths it does not serve", () => {
    const cases: Array<[string, number, RegExp]> = [
      ['/', 400, /^Missing protocol version\./],
      ['/v1', 400, /^Missing the \/submissions prefix\./],
      ['/v1/submissions', 400, /^Missing an action: please specify one of \/create, \/kill, \/killall, \/clear, \/status, or \/readyz\./],
      ['/v2/submissions/create', 468, /^Unknown protocol version 'v2'\./],
      ['/v1/submissions/nope', 404, /^Unknown action 'nope'/],
      ['/v1/other', 404, /^No such path/],
      ['/v1/submissions/kill', 400, /^Submission ID is missing in kill request\./],
      ['/v1/submissions/status/', 400, /^Submission ID is missing in status request\./],
      ['/v1/submissions/status/%E0%A4%A', 400, /not an ID/],
      [`/v1/submissions/kill/${'d'.repeat(513)}`, 400, /not an ID/],
    ];
    for (const [path, status, message] of cases) {
      const route = routeRestPath(path);
      assert.equal(route.ok, false, path);
      if (!route.ok) {
        assert.equal(route.status, status, path);
        assert.match(route.message, message);
        assert.match(route.message, /Please submit requests through http:\/\/\[host\]:\[port\]\/v1\/submissions\/\.\.\.$/);
      }
    }
    const v2 = routeRestPath('/v2/x');
    assert.equal(!v2.ok && v2.highestProtocolVersion, 'v1');
    assert.deepEqual(routeRestPath('/v1/submissions/status/driver-1'), { ok: true, action: 'status', submissionId: 'driver-1' });
    assert.deepEqual(routeRestPath('/v1/submissions/create/'), { ok: true, action: 'create' });
  });
});

describe('restPrincipal', () => {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  const tokens = { daemon: digest(deriveRestToken('cluster-secret')), app: digest(deriveRestToken('app-secret')) };

  test('the cluster secret\'s token proves daemon, the application secret\'s app; nothing else proves anything', () => {
    assert.equal(restPrincipal(`Bearer ${deriveRestToken('cluster-secret')}`, tokens), 'daemon');
    assert.equal(restPrincipal(`bearer ${deriveRestToken('app-secret')}`, tokens), 'app');
    for (const header of [undefined, '', 'Bearer', `Basic ${deriveRestToken('app-secret')}`, 'Bearer app-secret', 'Bearer cluster-secret', `Bearer ${deriveRestToken('other')}`, `Bearer ${deriveRestToken('app-secret')} x`]) {
      assert.equal(restPrincipal(header, tokens), undefined, String(header));
    }
  });

  test('the token is not the secret, and differs from the web UI token', () => {
    assert.notEqual(deriveRestToken('s'), 's');
    assert.match(deriveRestToken('s'), /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(deriveRestToken('s'), deriveUiToken('s'));
  });
});
