// Bounds for every number that arrives on the wire (issue "Trust at the edges", finding 1): a RegisterWorker
// with cores 1e300 or 2^53 − 1 used to pass the schema (both are integers to JSON Schema) and hang the master's
// placement loop. Every number field now has a range from src/protocol/limits.ts, and the catalog refuses the
// rest with FLINT_RPC_MALFORMED_MESSAGE naming the field.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckResult } from '../../../src/protocol/catalog.ts';
import { LIMITS } from '../../../src/protocol/limits.ts';
import * as messages from '../../../src/protocol/messages.ts';
import * as taskMessages from '../../../src/protocol/task-messages.ts';

const registerWorker = {
  type: 'RegisterWorker',
  id: 'worker-1',
  host: '127.0.0.1',
  port: 7078,
  workerAddress: 'flint://Worker@127.0.0.1:7078',
  cores: 4,
  memoryMb: 1024,
  workerWebUiUrl: 'http://127.0.0.1:8081',
  masterAddress: 'flint://127.0.0.1:7077',
};

function refused<M>(result: CheckResult<M>, path: string): string {
  assert.equal(result.ok, false, `expected ${path} to be refused`);
  const failure = result as { ok: false; code: string; reason: string };
  assert.equal(failure.code, 'FLINT_RPC_MALFORMED_MESSAGE');
  assert.ok(failure.reason.includes(path), `"${failure.reason}" names ${path}`);
  return failure.reason;
}

const OUTSIDE = [1e300, Number.MAX_SAFE_INTEGER, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 0, 1.5, LIMITS.cores.max + 1, '4'];

describe('the catalog refuses out-of-range numbers', () => {
  test('RegisterWorker: cores 1e300, 2^53 − 1, NaN, ±Infinity, negative, zero, fractional, over 2^20, a string', () => {
    for (const cores of OUTSIDE) {
      refused(messages.WorkerToMaster.check({ ...registerWorker, cores }), '/cores');
    }
    assert.match(refused(messages.WorkerToMaster.check({ ...registerWorker, cores: 1e300 }), '/cores'), /RegisterWorker is malformed at \/cores/);
  });

  test('RegisterWorker: memoryMb and port beyond their ranges', () => {
    for (const memoryMb of [1e300, LIMITS.memoryMb.max + 1, Number.NaN, 0, -5]) {
      refused(messages.WorkerToMaster.check({ ...registerWorker, memoryMb }), '/memoryMb');
    }
    for (const port of [0, 65_536, 1e300, Number.NaN]) refused(messages.WorkerToMaster.check({ ...registerWorker, port }), '/port');
  });

  test('the largest legal values pass', () => {
    const big = { ...registerWorker, cores: LIMITS.cores.max, memoryMb: LIMITS.memoryMb.max, port: 65_535 };
    assert.equal(messages.WorkerToMaster.check(big).ok, true);
  });

  test('application, executor and task messages: cores, counts, IDs and times from outside', () => {
    const desc = {
      name: 'app',
      memoryMbPerExecutor: 1024,
      command: { mainModule: 'm', arguments: [], environment: {}, nodeOptions: [] },
      appUiUrl: '',
      user: 'u',
    };
    const app = { type: 'RegisterApplication', appDescription: desc, driverAddress: 'flint+client://app@x' };
    assert.equal(messages.AppToMaster.check({ ...app, appDescription: { ...desc, maxCores: LIMITS.appCores.max } }).ok, true);
    refused(messages.AppToMaster.check({ ...app, appDescription: { ...desc, maxCores: 1e300 } }), '/appDescription/maxCores');
    refused(messages.AppToMaster.check({ ...app, appDescription: { ...desc, coresPerExecutor: LIMITS.cores.max + 1 } }), '/appDescription/coresPerExecutor');
    refused(messages.AppToMaster.check({ type: 'RequestExecutors', appId: 'a', requestedTotal: 1e300 }), '/requestedTotal');
    refused(
      messages.WorkerToMaster.check({ type: 'ExecutorStateChanged', appId: 'a', execId: 1e300, state: 'RUNNING' }),
      '/execId',
    );
    refused(
      messages.WorkerToMaster.check({ type: 'ExecutorStateChanged', appId: 'a', execId: 1, state: 'FAILED', exitStatus: 2 ** 40 }),
      '/exitStatus',
    );
    refused(taskMessages.ExecutorToDriver.check({ type: 'ExecutorHeartbeat', executorId: 'e', running: [{ taskId: 1, runTimeMs: Infinity }] }), '/running/0/runTimeMs');
    refused(taskMessages.DriverToExecutor.check({ type: 'KillTask', taskId: 1e300, reason: '' }), '/taskId');
    refused(
      taskMessages.ExecutorToDriver.check({ type: 'RegisterExecutor', executorId: 'e', executorAddress: 'flint://E@h:1', hostname: 'h', cores: 1e300, logUrls: {} }),
      '/cores',
    );
  });
});

/** Every integer or number schema reachable from `root`, with the path that leads to it. */
function numberSchemas(root: unknown, path: string, depth: number, out: Array<[string, Record<string, unknown>]>): void {
  if (typeof root !== 'object' || root === null || depth > 20) return;
  const schema = root as Record<string, unknown>;
  if (schema['type'] === 'integer' || schema['type'] === 'number') out.push([path, schema]);
  for (const [key, value] of Object.entries(schema)) numberSchemas(value, `${path}/${key}`, depth + 1, out);
}

test('every number field of every wire message has a finite minimum and maximum (docs/rpc.md, "Bounds")', () => {
  const found: Array<[string, Record<string, unknown>]> = [];
  for (const [name, value] of [...Object.entries(messages), ...Object.entries(taskMessages)]) numberSchemas(value, name, 0, found);
  assert.ok(found.length > 40, `found only ${found.length} number fields`);
  for (const [path, schema] of found) {
    assert.ok(Number.isFinite(schema['minimum']) && Number.isFinite(schema['maximum']), `${path} has no range`);
    assert.ok((schema['maximum'] as number) <= Number.MAX_SAFE_INTEGER && (schema['minimum'] as number) >= Number.MIN_SAFE_INTEGER, `${path} is not exact`);
  }
});
