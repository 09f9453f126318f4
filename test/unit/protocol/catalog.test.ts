// Message catalogs: what an endpoint accepts, checked once at the edge. An unknown (or missing) `type` is
// FLINT_RPC_UNKNOWN_MESSAGE; a known type that fails its schema is FLINT_RPC_MALFORMED_MESSAGE, and the
// reason names the first failing path.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Type } from '@sinclair/typebox';
import { ANY_ROLE, defineCatalog, mergeCatalogs, message, type CheckResult } from '../../../src/protocol/catalog.ts';

const Worker = defineCatalog('WorkerToMaster', [
  message('Heartbeat', { workerId: Type.String(), at: Type.Integer() }),
  message('RegisterWorker', {
    workerId: Type.String(),
    resources: Type.Object({ cores: Type.Integer({ minimum: 1 }), memoryMb: Type.Integer() }, { additionalProperties: false }),
    tags: Type.Array(Type.String()),
    note: Type.Optional(Type.String()),
  }),
], ANY_ROLE);

const App = defineCatalog('AppToMaster', [message('RegisterApp', { name: Type.String() }), message('UnregisterApp', { id: Type.String() })], ANY_ROLE);

function failure<M>(result: CheckResult<M>): { code: string; reason: string } {
  assert.equal(result.ok, false, 'expected a rejection');
  return result as { ok: false; code: string; reason: string };
}

const goodRegister = {
  type: 'RegisterWorker',
  workerId: 'w-1',
  resources: { cores: 4, memoryMb: 1024 },
  tags: ['a', 'b'],
};

describe('catalog.check accepts well-formed messages', () => {
  test('returns the value itself for each type, with and without optional fields', () => {
    const hb = { type: 'Heartbeat', workerId: 'w-1', at: 5 };
    const r1 = Worker.check(hb);
    assert.equal(r1.ok, true);
    assert.equal(r1.ok && r1.value, hb);
    assert.equal(Worker.check(goodRegister).ok, true);
    assert.equal(Worker.check({ ...goodRegister, note: 'x' }).ok, true);
    assert.deepEqual([...Worker.types].sort(), ['Heartbeat', 'RegisterWorker']);
    assert.equal(Worker.name, 'WorkerToMaster');
  });
});

describe('catalog.check rejects each kind of bad message', () => {
  test('unknown type → FLINT_RPC_UNKNOWN_MESSAGE naming the family and the type', () => {
    const f = failure(Worker.check({ type: 'LaunchDriver', driverId: 'd' }));
    assert.equal(f.code, 'FLINT_RPC_UNKNOWN_MESSAGE');
    assert.match(f.reason, /WorkerToMaster/);
    assert.match(f.reason, /"LaunchDriver"/);
  });

  test('a type that is an Object.prototype member is still unknown', () => {
    for (const type of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      assert.equal(failure(Worker.check({ type })).code, 'FLINT_RPC_UNKNOWN_MESSAGE', type);
    }
  });

  test('a very long unknown type is cut in the reason', () => {
    const f = failure(Worker.check({ type: 'X'.repeat(10_000) }));
    assert.equal(f.code, 'FLINT_RPC_UNKNOWN_MESSAGE');
    assert.ok(f.reason.length < 300, `reason of ${f.reason.length} chars`);
  });

  test('missing or non-string type → FLINT_RPC_UNKNOWN_MESSAGE (no type to look a schema up by)', () => {
    for (const value of [{ workerId: 'w', at: 1 }, { type: 5 }, { type: null }, { type: ['Heartbeat'] }]) {
      const f = failure(Worker.check(value));
      assert.equal(f.code, 'FLINT_RPC_UNKNOWN_MESSAGE', JSON.stringify(value));
      assert.match(f.reason, /no string `type`/);
    }
  });

  test('non-objects → FLINT_RPC_UNKNOWN_MESSAGE, including an array that carries a type property', () => {
    const arrayWithType = Object.assign(['x'], { type: 'Heartbeat', workerId: 'w', at: 1 });
    for (const value of [null, undefined, 0, 'Heartbeat', true, [], arrayWithType, new Uint8Array(3)]) {
      const f = failure(Worker.check(value));
      assert.equal(f.code, 'FLINT_RPC_UNKNOWN_MESSAGE', String(value));
    }
  });

  test('missing field → FLINT_RPC_MALFORMED_MESSAGE naming the path', () => {
    const f = failure(Worker.check({ type: 'Heartbeat', workerId: 'w-1' }));
    assert.equal(f.code, 'FLINT_RPC_MALFORMED_MESSAGE');
    assert.match(f.reason, /Heartbeat/);
    assert.match(f.reason, /\/at\b/);
    const { tags: _tags, ...noTags } = goodRegister;
    assert.match(failure(Worker.check(noTags)).reason, /\/tags\b/);
    const nestedMissing = failure(Worker.check({ ...goodRegister, resources: { cores: 1 } }));
    assert.equal(nestedMissing.code, 'FLINT_RPC_MALFORMED_MESSAGE');
    assert.match(nestedMissing.reason, /\/resources\/memoryMb/);
  });

  test('wrong field type → FLINT_RPC_MALFORMED_MESSAGE naming the path', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ type: 'Heartbeat', workerId: 'w', at: '5' }, /\/at\b/],
      [{ type: 'Heartbeat', workerId: 'w', at: 1.5 }, /\/at\b/],
      [{ type: 'Heartbeat', workerId: 7, at: 1 }, /\/workerId\b/],
      [{ ...goodRegister, resources: { cores: 'four', memoryMb: 1 } }, /\/resources\/cores/],
      [{ ...goodRegister, resources: { cores: 0, memoryMb: 1 } }, /\/resources\/cores/],
      [{ ...goodRegister, resources: null }, /\/resources\b/],
      [{ ...goodRegister, tags: ['a', 3] }, /\/tags\/1/],
      [{ ...goodRegister, note: 5 }, /\/note\b/],
    ];
    for (const [value, path] of cases) {
      const f = failure(Worker.check(value));
      assert.equal(f.code, 'FLINT_RPC_MALFORMED_MESSAGE', JSON.stringify(value));
      assert.match(f.reason, path);
      assert.match(f.reason, /is malformed at /);
    }
  });

  test('extra field → FLINT_RPC_MALFORMED_MESSAGE naming it, at the top level and nested', () => {
    const top = failure(Worker.check({ type: 'Heartbeat', workerId: 'w', at: 1, admin: true }));
    assert.equal(top.code, 'FLINT_RPC_MALFORMED_MESSAGE');
    assert.match(top.reason, /\/admin\b/);
    const nested = failure(Worker.check({ ...goodRegister, resources: { cores: 1, memoryMb: 1, gpus: 8 } }));
    assert.equal(nested.code, 'FLINT_RPC_MALFORMED_MESSAGE');
    assert.match(nested.reason, /\/resources\/gpus/);
  });

  test('an own __proto__ key (as JSON.parse makes) is an extra field', () => {
    const value: unknown = JSON.parse('{"type":"Heartbeat","workerId":"w","at":1,"__proto__":{"admin":true}}');
    const f = failure(Worker.check(value));
    assert.equal(f.code, 'FLINT_RPC_MALFORMED_MESSAGE');
    assert.match(f.reason, /__proto__/);
  });

  test('check never throws on odd inputs', () => {
    const cyclic: Record<string, unknown> = { type: 'Heartbeat', workerId: 'w' };
    cyclic['at'] = cyclic;
    const odd: unknown[] = [Object.create(null), cyclic, new Map([['type', 'Heartbeat']]), Symbol('x'), () => 1, 10n];
    for (const value of odd) {
      assert.doesNotThrow(() => Worker.check(value));
      assert.equal(Worker.check(value).ok, false);
    }
  });
});

describe('defineCatalog', () => {
  test('refuses a type that appears twice', () => {
    assert.throws(() => defineCatalog('Dup', [message('A', {}), message('A', { x: Type.String() })], ANY_ROLE), /A appears twice in Dup/);
  });

  test('refuses a schema without a literal string type', () => {
    assert.throws(() => defineCatalog('NoType', [Type.Object({ x: Type.String() })], ANY_ROLE), /literal string `type`/);
  });
});

describe('mergeCatalogs', () => {
  const Master = mergeCatalogs<{ readonly type: string }>('MasterMessages', Worker, App);

  test('the union of the types, under the merged name', () => {
    assert.equal(Master.name, 'MasterMessages');
    assert.deepEqual([...Master.types].sort(), ['Heartbeat', 'RegisterApp', 'RegisterWorker', 'UnregisterApp']);
  });

  test('routes each message to the family that owns its type', () => {
    assert.equal(Master.check({ type: 'Heartbeat', workerId: 'w', at: 1 }).ok, true);
    assert.equal(Master.check({ type: 'RegisterApp', name: 'pi' }).ok, true);
    const f = failure(Master.check({ type: 'RegisterApp', name: 1 }));
    assert.equal(f.code, 'FLINT_RPC_MALFORMED_MESSAGE');
    assert.match(f.reason, /\/name\b/);
    assert.match(failure(Master.check({ type: 'UnregisterApp', id: 'a', extra: 1 })).reason, /\/extra\b/);
  });

  test('an unknown type, a missing type or a non-object is FLINT_RPC_UNKNOWN_MESSAGE under the merged name', () => {
    for (const value of [{ type: 'Nope' }, {}, null, 42, 'RegisterApp', [], undefined]) {
      const f = failure(Master.check(value));
      assert.equal(f.code, 'FLINT_RPC_UNKNOWN_MESSAGE', String(value));
      assert.match(f.reason, /MasterMessages/);
    }
  });

  test('merging nothing accepts nothing', () => {
    const empty = mergeCatalogs('Empty');
    assert.equal(empty.types.size, 0);
    assert.equal(failure(empty.check({ type: 'Heartbeat', workerId: 'w', at: 1 })).code, 'FLINT_RPC_UNKNOWN_MESSAGE');
  });
});

describe('compiling on first use', () => {
  test('every catalog of the wire protocol compiles every one of its messages (compileAll)', async () => {
    const modules = [
      await import('../../../src/protocol/messages.ts'),
      await import('../../../src/protocol/task-messages.ts'),
      await import('../../../src/protocol/shuffle-messages.ts'),
    ];
    const catalogs = modules.flatMap((m) => Object.values(m)).filter((v): v is { name: string; types: ReadonlySet<string>; compileAll(): void } => {
      return typeof v === 'object' && v !== null && typeof (v as { compileAll?: unknown }).compileAll === 'function';
    });
    assert.ok(catalogs.length >= 10, `found ${catalogs.length} catalogs`);
    for (const catalog of catalogs) assert.doesNotThrow(() => catalog.compileAll(), catalog.name);
  });

  test('a type checked once is compiled once; its verdicts do not change', () => {
    const Lazy = defineCatalog('Lazy', [message('A', { n: Type.Integer() }), message('B', { s: Type.String() })], ANY_ROLE);
    for (let i = 0; i < 3; i++) {
      assert.equal(Lazy.check({ type: 'A', n: i }).ok, true);
      assert.equal(failure(Lazy.check({ type: 'A', n: 'x' })).code, 'FLINT_RPC_MALFORMED_MESSAGE');
    }
    assert.equal(Lazy.check({ type: 'B', s: 'x' }).ok, true);
    assert.equal(failure(Lazy.check({ type: 'C' })).code, 'FLINT_RPC_UNKNOWN_MESSAGE');
  });
});
