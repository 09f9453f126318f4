// RPC addresses: flint://host:port, spark:// as a synonym, comma lists of masters, IPv6 in brackets, endpoint
// addresses for server envs (flint://Name@host:port) and client-mode envs (flint+client://Name@id).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InvalidAddressError } from '../../../src/errors.ts';
import {
  assertEndpointName,
  clientEnvId,
  formatEndpointAddress,
  formatHostPort,
  formatRpcAddress,
  isClientEnvId,
  parseEndpointAddress,
  parseMasterUrls,
  parseRpcAddress,
} from '../../../src/rpc/address.ts';

function invalid(fn: () => unknown, mentions: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidAddressError, `expected InvalidAddressError, got ${String(err)}`);
    assert.equal(err.code, 'FLINT_RPC_BAD_ADDRESS');
    assert.match(err.message, mentions);
    return true;
  });
}

describe('parseRpcAddress', () => {
  test('flint:// and spark://, host names, IPv4, IPv6 in brackets, surrounding spaces', () => {
    assert.deepEqual(parseRpcAddress('flint://master.example.com:7077'), { host: 'master.example.com', port: 7077 });
    assert.deepEqual(parseRpcAddress('spark://10.0.0.5:7077'), { host: '10.0.0.5', port: 7077 });
    assert.deepEqual(parseRpcAddress('flint://[::1]:7077'), { host: '::1', port: 7077 });
    assert.deepEqual(parseRpcAddress('flint://[fe80::1:2]:1'), { host: 'fe80::1:2', port: 1 });
    assert.deepEqual(parseRpcAddress('  flint://h:65535 '), { host: 'h', port: 65535 });
  });

  test('bad ports: 0, 70000, 65536, missing, empty, not a number', () => {
    for (const text of ['flint://h:0', 'flint://h:70000', 'flint://h:65536']) invalid(() => parseRpcAddress(text), /port from 1 to 65535/);
    for (const text of ['flint://h', 'flint://h:', 'flint://h:port', 'flint://h:-1', 'flint://h:123456']) {
      invalid(() => parseRpcAddress(text), /is not an RPC address; expected flint:\/\/host:port/);
    }
  });

  test('the error quotes the input', () => {
    invalid(() => parseRpcAddress('flint://h:0'), /"flint:\/\/h:0"/);
  });

  test('no scheme, or another scheme', () => {
    for (const text of ['h:7077', '//h:7077', 'http://h:7077', 'flint:/h:7077', 'flint+client://abc', '']) {
      invalid(() => parseRpcAddress(text), /expected flint:\/\/host:port/);
    }
  });

  test('junk around the host:port', () => {
    for (const text of ['flint://h:7077/path', 'flint://user@h:7077', 'flint://h h:7077', 'flint://::1:7077', 'flint://[::1]', 'flint://[zz]:1', 'flint://:7077']) {
      invalid(() => parseRpcAddress(text), /not an RPC address/);
    }
  });

  test('formatRpcAddress / formatHostPort round-trip, bracketing IPv6', () => {
    assert.equal(formatHostPort({ host: '::1', port: 7077 }), '[::1]:7077');
    assert.equal(formatRpcAddress({ host: '10.0.0.1', port: 1 }), 'flint://10.0.0.1:1');
    for (const text of ['flint://h:1', 'flint://[::1]:7077', 'flint://a.b-c.d:65535']) {
      assert.equal(formatRpcAddress(parseRpcAddress(text)), text);
    }
    assert.equal(formatRpcAddress(parseRpcAddress('spark://h:7077')), 'flint://h:7077');
  });
});

describe('parseMasterUrls', () => {
  test('one master, and comma lists with or without the scheme repeated', () => {
    assert.deepEqual(parseMasterUrls('flint://h1:7077'), [{ host: 'h1', port: 7077 }]);
    const two = [
      { host: 'h1', port: 7077 },
      { host: 'h2', port: 7078 },
    ];
    assert.deepEqual(parseMasterUrls('flint://h1:7077,h2:7078'), two);
    assert.deepEqual(parseMasterUrls('spark://h1:7077,h2:7078'), two);
    assert.deepEqual(parseMasterUrls('flint://h1:7077,flint://h2:7078'), two);
    assert.deepEqual(parseMasterUrls('spark://h1:7077, spark://h2:7078'), two);
    assert.deepEqual(parseMasterUrls('flint://[::1]:7077,[::2]:7078'), [
      { host: '::1', port: 7077 },
      { host: '::2', port: 7078 },
    ]);
  });

  test('bad lists name the whole input', () => {
    invalid(() => parseMasterUrls('h1:7077,h2:7077'), /is not a master URL/);
    invalid(() => parseMasterUrls('flint://'), /is not a master URL/);
    invalid(() => parseMasterUrls(''), /is not a master URL/);
    invalid(() => parseMasterUrls('flint://h1:7077,'), /"flint:\/\/h1:7077,"/);
    invalid(() => parseMasterUrls('flint://h1:7077,,h2:7077'), /not an RPC address/);
    invalid(() => parseMasterUrls('flint://h1:7077,h2:0'), /port from 1 to 65535/);
    invalid(() => parseMasterUrls('flint://h1:7077,h2'), /"flint:\/\/h1:7077,h2"/);
  });
});

describe('endpoint addresses', () => {
  test('server endpoints: flint:// and spark://, IPv6', () => {
    assert.deepEqual(parseEndpointAddress('flint://Master@h:7077'), { env: 'flint://h:7077', name: 'Master' });
    assert.deepEqual(parseEndpointAddress('spark://Master@h:7077'), { env: 'flint://h:7077', name: 'Master' });
    assert.deepEqual(parseEndpointAddress('flint://Worker.1_a-b@[::1]:7078'), { env: 'flint://[::1]:7078', name: 'Worker.1_a-b' });
  });

  test('client-mode endpoints carry a client id instead of host:port', () => {
    const env = clientEnvId('0123abcdEF_-');
    assert.equal(env, 'flint+client://0123abcdEF_-');
    assert.ok(isClientEnvId(env));
    assert.ok(!isClientEnvId('flint://h:1'));
    assert.equal(formatEndpointAddress({ env, name: 'AppClient' }), 'flint+client://AppClient@0123abcdEF_-');
    assert.deepEqual(parseEndpointAddress('flint+client://AppClient@0123abcdEF_-'), { env, name: 'AppClient' });
  });

  test('formatEndpointAddress puts the name after the scheme', () => {
    assert.equal(formatEndpointAddress({ env: 'flint://h:7077', name: 'Master' }), 'flint://Master@h:7077');
    assert.equal(formatEndpointAddress({ env: 'flint://[::1]:7077', name: 'Master' }), 'flint://Master@[::1]:7077');
  });

  test('parse(format(x)) is x for server and client endpoints', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,15}$/);
    const host = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6());
    const port = fc.integer({ min: 1, max: 65535 });
    const clientId = fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/);
    fc.assert(
      fc.property(name, host, port, (n, h, p) => {
        const env = formatRpcAddress({ host: h, port: p });
        assert.deepEqual(parseEndpointAddress(formatEndpointAddress({ env, name: n })), { env, name: n });
        assert.deepEqual(parseRpcAddress(env), { host: h, port: p });
      }),
    );
    fc.assert(
      fc.property(name, clientId, (n, id) => {
        const env = clientEnvId(id);
        assert.deepEqual(parseEndpointAddress(formatEndpointAddress({ env, name: n })), { env, name: n });
      }),
    );
  });

  test('bad endpoint addresses', () => {
    const shape = /is not an endpoint address; expected flint:\/\/Name@host:port or flint\+client:\/\/Name@id/;
    for (const text of [
      'flint://h:7077', // no name
      'flint://@h:7077', // empty name
      'flint://1Master@h:7077', // name starts with a digit
      'flint://Mas ter@h:7077',
      'flint://Master@', // nothing after @
      'Master@h:7077', // no scheme
      'http://Master@h:7077',
      'flint+client://Master@',
      'flint+client://@abc',
    ]) {
      invalid(() => parseEndpointAddress(text), shape);
    }
    invalid(() => parseEndpointAddress('flint://Master@h:0'), /port from 1 to 65535/);
    invalid(() => parseEndpointAddress('flint://Master@h'), /not an RPC address/);
    invalid(() => parseEndpointAddress('flint://Master@other@h:1'), /not an RPC address/);
    invalid(() => parseEndpointAddress('flint+client://AppClient@abc:1'), /^"flint\+client:\/\/AppClient@abc:1" has a malformed client id; expected letters, digits, '_' or '-' after the @$/);
    invalid(() => parseEndpointAddress('flint+client://AppClient@a/b'), /malformed client id/);
  });

  test('assertEndpointName', () => {
    for (const ok of ['Master', 'a', 'Worker-1.x_y']) assert.doesNotThrow(() => assertEndpointName(ok));
    for (const bad of ['', '1a', '-a', 'a b', 'a@b', 'a/b', 'ä']) invalid(() => assertEndpointName(bad), /is not an endpoint name/);
  });
});
