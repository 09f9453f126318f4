// The keys Flint reads (src/conf/known-keys.ts, kept equal to docs/configuration.md by test/unit/docs-agree.test.ts)
// and the warning for a `flint.*` key that is none of them, naming the nearest known key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KNOWN_KEYS, isKnownKey, nearestKnownKey, unknownKeyWarnings } from '../../../src/conf/known-keys.ts';

test('documented keys, keys with a name of the user\'s in them, and TLS keys per namespace are known', () => {
  for (const key of ['flint.executor.memory', 'flint.master', 'flint.executor.resource.gpu.amount', 'flint.worker.resource.fpga.discoveryScript', 'flint.ssl.rpc.keyFile', 'flint.ssl.ui.enabled']) {
    assert.ok(isKnownKey(key), key);
  }
  for (const key of ['flint.executor.memroy', 'flint.executor.resource.gpu', 'flint.ssl.rpc.nonsense', 'flint.ssl.db.keyFile']) assert.ok(!isKnownKey(key), key);
  assert.ok(KNOWN_KEYS.length > 100);
  assert.deepEqual([...KNOWN_KEYS].sort(), KNOWN_KEYS, 'kept sorted');
});

test('the nearest known key of a misspelling: a letter swapped, dropped, added or in the wrong case', () => {
  assert.equal(nearestKnownKey('flint.executor.memroy'), 'flint.executor.memory');
  assert.equal(nearestKnownKey('flint.executor.memor'), 'flint.executor.memory');
  assert.equal(nearestKnownKey('flint.executor.Memory'), 'flint.executor.memory');
  assert.equal(nearestKnownKey('flint.cores.maxx'), 'flint.cores.max');
  assert.equal(nearestKnownKey('flint.authenticate.secret.fil'), 'flint.authenticate.secret.file');
  assert.equal(nearestKnownKey('flint.my.own.setting'), undefined, 'nothing near');
  assert.equal(nearestKnownKey('flint.ui'), undefined, 'a short key needs a close match');
});

test('a warning for each flint.* key Flint does not read, with the nearest known key when there is one; spark.* keys are not checked', () => {
  assert.deepEqual(unknownKeyWarnings(['flint.executor.memroy', 'flint.executor.memory', 'spark.eventLog.enabled', 'flint.my.own.setting', 'other'], 'the conf'), [
    'flint.executor.memroy (the conf) is not a key Flint reads; it is ignored. Did you mean flint.executor.memory?',
    'flint.my.own.setting (the conf) is not a key Flint reads; it is ignored (the keys: docs/configuration.md)',
  ]);
});
