// An executor keeps the env it asked the driver for the app's config over when the app's conf gives it the same RPC
// settings (executor-backend.ts sameRpcSettings); Spark's executor always makes a second RpcEnv.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { sameRpcSettings } from '../../../src/daemons/executor-backend.ts';

const conf = (entries: Record<string, string>): FlintConf => new FlintConf(Object.entries(entries));

test('an app conf of keys that are not RPC settings keeps the env; one that changes an RPC setting or TLS does not', () => {
  const startup = conf({ 'flint.authenticate': 'false' });
  assert.equal(sameRpcSettings(startup, conf({ 'flint.authenticate': 'false', 'flint.app.name': 'pi', 'flint.executor.memory': '2g' })), true);
  assert.equal(sameRpcSettings(startup, conf({ 'flint.authenticate': 'false', 'flint.rpc.askTimeout': '120s' })), true, 'the default, spelled out');
  assert.equal(sameRpcSettings(startup, conf({ 'flint.authenticate': 'false', 'flint.rpc.askTimeout': '5s' })), false);
  assert.equal(sameRpcSettings(startup, conf({ 'flint.authenticate': 'false', 'flint.rpc.message.maxSize': '16m' })), false);
  assert.equal(sameRpcSettings(startup, conf({ 'flint.authenticate': 'false', 'flint.ssl.rpc.enabled': 'true' })), false);
  assert.equal(sameRpcSettings(startup, conf({ 'flint.authenticate': 'false', 'spark.ssl.trustedCaFile': '/etc/ca.pem' })), false);
});
