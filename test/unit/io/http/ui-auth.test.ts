// The UI token and sessions (src/io/http/ui-auth.ts): where the token comes from, when the UI is open, and
// how sessions expire and are bounded. The HTTP side is in ui-login.test.ts.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { FlintConf } from '../../../../src/conf/flint-conf.ts';
import { ConfigError } from '../../../../src/errors.ts';
import { SessionStore, deriveUiToken, readUiAuthSettings, secretsEqual } from '../../../../src/io/http/ui-auth.ts';

describe('readUiAuthSettings', () => {
  test('with neither a secret nor flint.ui.token the UI is open', () => {
    const settings = readUiAuthSettings(new FlintConf(), undefined);
    assert.equal(settings.token, undefined);
    assert.equal(settings.tokenSource, undefined);
  });

  test('with a secret the token is HMAC-SHA256(secret, "flint-ui-key" ‖ NUL ‖ "token"), not the secret', () => {
    const settings = readUiAuthSettings(new FlintConf(), 's3cret-s3cret');
    assert.equal(settings.token, createHmac('sha256', 's3cret-s3cret').update('flint-ui-key\0token').digest('base64url'));
    assert.equal(settings.token, deriveUiToken('s3cret-s3cret'));
    assert.equal(settings.tokenSource, 'derived from the secret');
    assert.ok(!settings.token.includes('s3cret'));
  });

  test('flint.ui.token wins over the secret, and turns authentication on without one', () => {
    const token = 'abcdefghijklmnop-0123';
    assert.equal(readUiAuthSettings(new FlintConf([['flint.ui.token', token]]), 'secret').token, token);
    const alone = readUiAuthSettings(new FlintConf([['flint.ui.token', token]]), undefined);
    assert.equal(alone.token, token);
    assert.equal(alone.tokenSource, 'flint.ui.token');
  });

  test('a short or spaced flint.ui.token is a ConfigError that does not quote it', () => {
    for (const token of ['short-token', 'has a space in it somewhere']) {
      assert.throws(
        () => readUiAuthSettings(new FlintConf([['flint.ui.token', token]]), undefined),
        (err: unknown) => err instanceof ConfigError && err.key === 'flint.ui.token' && !err.message.includes(token),
      );
    }
  });

  test('flint.ui.session.timeout is 12h by default, in seconds when bare, at least 1s', () => {
    assert.equal(readUiAuthSettings(new FlintConf(), undefined).sessionTimeoutMs, 12 * 3600_000);
    assert.equal(readUiAuthSettings(new FlintConf([['flint.ui.session.timeout', '90']]), undefined).sessionTimeoutMs, 90_000);
    assert.equal(readUiAuthSettings(new FlintConf([['flint.ui.session.timeout', '30min']]), undefined).sessionTimeoutMs, 1_800_000);
    assert.throws(() => readUiAuthSettings(new FlintConf([['flint.ui.session.timeout', '10ms']]), undefined), ConfigError);
  });
});

describe('SessionStore', () => {
  test('a session is found by its id until it expires, then forgotten', () => {
    let now = 0;
    const store = new SessionStore({ timeoutMs: 1000, now: () => now });
    const s = store.create();
    assert.match(s.id, /^[A-Za-z0-9_-]{43}$/);
    assert.match(s.csrfToken, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(s.id, s.csrfToken);
    assert.equal(store.find(s.id), s);
    assert.equal(store.find(s.csrfToken), undefined, 'the CSRF token is not a session id');
    assert.equal(store.find(`${s.id}x`), undefined);
    now = 999;
    assert.equal(store.find(s.id), s);
    now = 1000;
    assert.equal(store.find(s.id), undefined);
    assert.equal(store.size, 0);
  });

  test('past maxSessions a new login ends the oldest; expired ones go first', () => {
    let now = 0;
    const store = new SessionStore({ timeoutMs: 100, maxSessions: 2, now: () => now });
    const a = store.create();
    const b = store.create();
    const c = store.create();
    assert.deepEqual([store.find(a.id), store.find(b.id), store.find(c.id)], [undefined, b, c]);
    now = 100;
    store.create();
    assert.equal(store.size, 1, 'the expired ones were dropped, not the live one');
  });
});

test('secretsEqual compares whole values of any length', () => {
  assert.equal(secretsEqual('abc', 'abc'), true);
  assert.equal(secretsEqual('abc', 'abd'), false);
  assert.equal(secretsEqual('abc', 'abcd'), false);
  assert.equal(secretsEqual('', 'x'), false);
});
