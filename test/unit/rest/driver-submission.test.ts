// A CreateSubmissionRequest made into RequestSubmitDriver (src/rest/driver-submission.ts; Spark's
// StandaloneRestServer.buildDriverDescription, reference §12.4), and the body's schema check
// (src/protocol/rest-messages.ts): every refusal names the field.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkCreateRequest, fieldOfPath, renderRestJson, type CreateSubmissionRequest } from '../../../src/protocol/rest-messages.ts';
import { driverMasterUrl, driverSubmission, type GatewayMaster } from '../../../src/rest/driver-submission.ts';

const MASTER: GatewayMaster = { masterUrl: 'flint://m1:7077', rpcPort: 7077, restPort: 6066 };

const request = (over: Partial<CreateSubmissionRequest> & Record<string, unknown> = {}): CreateSubmissionRequest =>
  ({
    action: 'CreateSubmissionRequest',
    clientSparkVersion: '4.0.0',
    appResource: 'file:///staging/abc.mjs',
    sparkProperties: { 'spark.app.name': 'pi' },
    ...over,
  }) as CreateSubmissionRequest;

function submitted(over: Partial<CreateSubmissionRequest> = {}) {
  const result = driverSubmission(request(over), MASTER);
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.message.driverDescription;
}

function refused(over: Partial<CreateSubmissionRequest>): string {
  const result = driverSubmission(request(over), MASTER);
  assert.equal(result.ok, false);
  return result.ok ? '' : result.message;
}

describe('checkCreateRequest', () => {
  test('a minimal request passes; unknown fields come back as Spark reports them', () => {
    const checked = checkCreateRequest({ ...request(), extra: 1, other: 'x' });
    assert.ok(checked.ok);
    assert.deepEqual(checked.unknownFields, ['extra', 'other']);
  });

  test('each refusal names the field', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [[], '(body)', /JSON object/],
      [{ ...request(), action: undefined }, 'action', /missing/],
      [{ ...request(), action: 'KillSubmissionRequest' }, 'action', /unexpected type KillSubmissionRequest/],
      [{ ...request(), appResource: undefined }, 'appResource', /required but missing/],
      [{ ...request(), clientSparkVersion: 4 }, 'clientSparkVersion', /string/i],
      [{ ...request(), appArgs: ['a', 2] }, 'appArgs.1', /string/i],
      [{ ...request(), sparkProperties: { 'spark.app.name': 'x', 'spark.driver.cores': 2 } }, 'sparkProperties.spark.driver.cores', /string/i],
      [{ ...request(), sparkProperties: { 'a=b': 'x' } }, 'sparkProperties', /"a=b" is not a conf key/],
      [{ ...request(), environmentVariables: { 'BAD-NAME': 'x' } }, 'environmentVariables', /"BAD-NAME" is not an environment variable name/],
      [{ ...request(), appArgs: Array.from({ length: 1025 }, () => 'a') }, 'appArgs', /1024/],
    ];
    for (const [body, field, message] of cases) {
      const checked = checkCreateRequest(body);
      assert.equal(checked.ok, false, JSON.stringify(body).slice(0, 80));
      if (!checked.ok) {
        assert.equal(checked.field, field);
        assert.match(checked.message, message);
      }
    }
  });

  test('fieldOfPath turns a JSON pointer into a dotted field', () => {
    assert.equal(fieldOfPath('/sparkProperties/spark.app.name'), 'sparkProperties.spark.app.name');
    assert.equal(fieldOfPath('/a~1b/c~0d'), 'a/b.c~d');
    assert.equal(fieldOfPath(''), '(body)');
  });

  test('renderRestJson: keys in alphabetical order, absent fields left out (Spark\'s Jackson settings)', () => {
    const text = renderRestJson({ success: true, action: 'ReadyzResponse', serverSparkVersion: '0.1.0', message: undefined });
    assert.deepEqual(Object.keys(JSON.parse(text) as object), ['action', 'serverSparkVersion', 'success']);
    assert.match(text, /\n {2}"action": "ReadyzResponse",\n/);
  });
});

describe('driverSubmission', () => {
  test('the driver flint submit would send: flint:driver, --conf pairs, then the worker url, the bundle and the args', () => {
    const desc = submitted({ appArgs: ['200', '4'], mainClass: 'flint:driver', sparkProperties: { 'spark.app.name': 'pi', 'flint.executor.memory': '512m' } });
    assert.deepEqual(desc.command, {
      mainModule: 'flint:driver',
      arguments: ['--conf', 'spark.app.name=pi', '--conf', 'flint.executor.memory=512m', '--conf', 'flint.master=flint://m1:7077', '--', '{{WORKER_URL}}', '{{USER_JAR}}', '200', '4'],
      environment: {},
      nodeOptions: [],
    });
    assert.equal(desc.appResource, 'file:///staging/abc.mjs');
  });

  test("Spark's defaults: 1 core, 1024 MB, not supervised; the request's values when given (spark.* or flint.*)", () => {
    assert.deepEqual([submitted().cores, submitted().memoryMb, submitted().supervise], [1, 1024, false]);
    const desc = submitted({ sparkProperties: { 'spark.app.name': 'x', 'spark.driver.cores': '3', 'flint.driver.memory': '2g', 'spark.driver.supervise': 'true' } });
    assert.deepEqual([desc.cores, desc.memoryMb, desc.supervise], [3, 2048, true]);
  });

  test('typed properties are checked, and the refusal names the key as the request spelled it', () => {
    assert.match(refused({ sparkProperties: { 'spark.app.name': 'x', 'spark.driver.memory': 'lots' } }), /^sparkProperties\.spark\.driver\.memory: spark\.driver\.memory: "lots" is not a size/);
    assert.match(refused({ sparkProperties: { 'spark.app.name': 'x', 'flint.driver.supervise': 'yes' } }), /^sparkProperties\.flint\.driver\.supervise:/);
    assert.match(refused({ sparkProperties: { 'spark.app.name': 'x', 'spark.cores.max': '0' } }), /^sparkProperties\.spark\.cores\.max:/);
    assert.match(refused({ sparkProperties: { 'spark.app.name': 'x', 'spark.executor.memory': '1q' } }), /^sparkProperties\.spark\.executor\.memory:/);
    assert.match(refused({ sparkProperties: { 'spark.app.name': 'x', 'spark.driver.cores': '2000000' } }), /^sparkProperties\.spark\.driver\.cores:/);
  });

  test('the app name is required; mainClass may only be flint:driver', () => {
    assert.match(refused({ sparkProperties: {} }), /^sparkProperties\.spark\.app\.name: is required/);
    assert.ok(driverSubmission(request({ sparkProperties: { 'flint.app.name': 'x' } }), MASTER).ok);
    assert.match(refused({ mainClass: 'org.apache.spark.examples.SparkPi' }), /^mainClass: Flint runs every driver with flint:driver/);
  });

  test('no secret reaches a driver: secret-looking properties and variables are refused, paths to secret files pass', () => {
    assert.match(refused({ sparkProperties: { 'spark.app.name': 'x', 'spark.authenticate.secret': 's' } }), /^sparkProperties\.spark\.authenticate\.secret: a secret/);
    assert.match(refused({ environmentVariables: { FLINT_AUTH_SECRET: 's' } }), /^environmentVariables\.FLINT_AUTH_SECRET: a secret/);
    assert.ok(driverSubmission(request({ sparkProperties: { 'spark.app.name': 'x', 'flint.ssl.keyPasswordFile': '/etc/p' } }), MASTER).ok);
  });

  test("Spark's environment rules: SPARK_LOCAL_IP and SPARK_LOCAL_HOSTNAME are dropped, the rest kept", () => {
    const desc = submitted({ environmentVariables: { SPARK_LOCAL_IP: '10.0.0.1', SPARK_LOCAL_HOSTNAME: 'h', FLINT_LOCAL_IP: 'x', GREETING: 'hi' } });
    assert.deepEqual(desc.command.environment, { GREETING: 'hi' });
  });

  test("the driver's master: the gateway's port becomes the RPC port, rest:// becomes flint://; none given is the master's URL", () => {
    assert.equal(driverMasterUrl(undefined, MASTER), 'flint://m1:7077');
    assert.equal(driverMasterUrl('rest://m1:6066,m2:6066', MASTER), 'flint://m1:7077,m2:7077');
    assert.equal(driverMasterUrl('spark://m1:6066', MASTER), 'spark://m1:7077');
    assert.equal(driverMasterUrl('flint://m1:7077', MASTER), 'flint://m1:7077');
    const args = submitted({ sparkProperties: { 'spark.app.name': 'x', 'spark.master': 'rest://m1:6066' } }).command.arguments;
    assert.deepEqual(args.filter((a) => a.includes('master')), ['flint.master=flint://m1:7077']);
  });

  test('a request whose driver the master would refuse (past the message bounds) is refused here, naming the request', () => {
    const big = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`k${i}`, 'v']));
    assert.match(refused({ sparkProperties: { 'spark.app.name': 'x', ...big } }), /too large for the master/);
  });
});
