// Binding executors to CPUs (src/worker/cpu-binding.ts; flint.worker.executorCpus): the cpu list's syntax, the
// choice of the least-held CPUs, and the worker machine putting the choice on its launch specs and freeing it
// when an executor ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../../src/errors.ts';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { chooseCpus, formatCpuList, parseCpuList, workerConfigFromConf, workerJson } from '../../../src/worker/index.ts';
import { Harness, launchExecutor, ofType, testConfig } from './harness.ts';

test('parseCpuList reads numbers and ranges, each once, in the order written', () => {
  assert.deepEqual(parseCpuList('0'), [0]);
  assert.deepEqual(parseCpuList('0-3,8'), [0, 1, 2, 3, 8]);
  assert.deepEqual(parseCpuList(' 10-11 , 2 ,2-3'), [10, 11, 2, 3]);
  assert.deepEqual(parseCpuList('1,0'), [1, 0]);
  assert.deepEqual(parseCpuList('8191'), [8191]);
});

test('parseCpuList refuses a bad list with a ConfigError naming the key and the part', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /is invalid: it is empty; expected a list of CPU numbers and ranges such as 0-3,8/],
    ['  ', /it is empty/],
    ['a', /"a" is neither a CPU number nor a range first-last/],
    ['1,,2', /"" is neither a CPU number nor a range/],
    ['-1', /"-1" is neither/],
    ['0x1', /"0x1" is neither/],
    ['3-1', /the range 3-1 ends before it starts/],
    ['8192', /CPU 8192 is above 8191/],
    ['0-9999', /CPU 9999 is above 8191/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseCpuList(text),
      (err: unknown) => err instanceof ConfigError && err.message.startsWith(`flint.worker.executorCpus=${JSON.stringify(text)} is invalid`) && message.test(err.message),
      `parseCpuList(${JSON.stringify(text)})`,
    );
  }
});

test('formatCpuList writes runs as ranges, and parseCpuList reads back the same CPUs', () => {
  assert.equal(formatCpuList([0, 1, 2, 5]), '0-2,5');
  assert.equal(formatCpuList([7, 3, 3, 4]), '3-4,7');
  assert.equal(formatCpuList([1]), '1');
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 60 }), (cpus) => {
      assert.deepEqual(parseCpuList(formatCpuList(cpus)), [...cpus].sort((a, b) => a - b));
    }),
  );
});

test('chooseCpus: the least-held CPUs of the list, the earlier on a tie, as many as the cores the list allows', () => {
  assert.deepEqual(chooseCpus([0, 1, 2, 3], [], 2), [0, 1]);
  assert.deepEqual(chooseCpus([0, 1, 2, 3], [[0, 1]], 1), [2]);
  assert.deepEqual(chooseCpus([0, 1, 2, 3], [[0, 1], [2]], 2), [0, 3]);
  assert.deepEqual(chooseCpus([4, 5], [[4], [4], [5]], 1), [5]);
  // The list's order is the preference: a worker listing 1,0 takes CPU 1 first and 0 only while 1 is held.
  assert.deepEqual(chooseCpus([1, 0], [], 1), [1]);
  assert.deepEqual(chooseCpus([1, 0], [[1]], 1), [0]);
  assert.deepEqual(chooseCpus([3, 2, 1, 0], [], 2), [2, 3]);
  // More cores than CPUs: every CPU of the list, shared.
  assert.deepEqual(chooseCpus([1], [[1]], 3), [1]);
  // CPUs outside the list that an executor holds (a list changed by a restart) count for nothing.
  assert.deepEqual(chooseCpus([0, 1], [[7, 8]], 1), [0]);
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 16 }),
      fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 4 }), { maxLength: 12 }),
      fc.integer({ min: 1, max: 20 }),
      (list, held, cores) => {
        const chosen = chooseCpus(list, held, cores);
        const holdersOf = (cpu: number): number => held.filter((cpus) => cpus.includes(cpu)).length;
        const order = [...list].sort((a, b) => holdersOf(a) - holdersOf(b) || list.indexOf(a) - list.indexOf(b));
        assert.deepEqual(chosen, order.slice(0, chosen.length).sort((a, b) => a - b), 'the least held, the earlier in the list on a tie');
        assert.equal(chosen.length, Math.min(cores, list.length));
        assert.equal(new Set(chosen).size, chosen.length, 'each CPU once');
        assert.deepEqual(chosen, [...chosen].sort((a, b) => a - b), 'ascending');
        const holders = (cpu: number): number => held.filter((cpus) => cpus.includes(cpu)).length;
        for (const cpu of chosen) assert.ok(list.includes(cpu), `${cpu} is in the list`);
        const left = list.filter((cpu) => !chosen.includes(cpu));
        for (const cpu of chosen) for (const other of left) assert.ok(holders(cpu) <= holders(other), `CPU ${cpu} (held ${holders(cpu)}) chosen over ${other} (${holders(other)})`);
      },
    ),
  );
});

test('workerConfigFromConf reads flint.worker.executorCpus; unset binds nothing; a bad list names the key', () => {
  const base = { host: 'wh1', port: 7078, cores: 4, memoryMb: 4096, workDir: 'work', masterUrls: ['flint://10.0.0.1:7077'] };
  assert.deepEqual(workerConfigFromConf(new FlintConf([['flint.worker.executorCpus', '4,0-1']]), base).executorCpus, [4, 0, 1]);
  assert.equal(workerConfigFromConf(new FlintConf([]), base).executorCpus, undefined);
  assert.throws(() => workerConfigFromConf(new FlintConf([['flint.worker.executorCpus', 'all']]), base), /flint\.worker\.executorCpus="all" is invalid/);
  assert.throws(() => testConfig({ executorCpus: [] }), /flint\.worker\.executorCpus must name at least one CPU/);
});

test('the worker binds each executor to the CPUs its running executors hold least, and frees them when it ends', () => {
  const h = new Harness(testConfig({ executorCpus: [0, 1, 2, 3] }));
  h.register();
  const launch = (execId: number, cores: number): readonly number[] | undefined =>
    ofType(h.fromMaster(launchExecutor('app-1', execId, { cores })), 'LaunchExecutor')[0]?.spec.cpus;
  assert.deepEqual(launch(0, 2), [0, 1]);
  assert.deepEqual(h.machine.snapshot().executors[0]?.cpus, [0, 1]);
  assert.equal(workerJson(h.machine.snapshot(), 0).executors[0]?.cpus, '0-1', '/json shows the cpu list');
  assert.deepEqual(launch(1, 1), [2]);
  assert.deepEqual(launch(2, 2), [0, 3], 'CPU 3 is free; 0 is held once, as 1, and comes first');
  h.handle({ kind: 'ExecutorProcessStarted', appId: 'app-1', execId: 0 });
  h.handle({ kind: 'ExecutorProcessExited', appId: 'app-1', execId: 0, exitCode: 1, signal: null, killedByWorker: false });
  assert.deepEqual(launch(3, 2), [0, 1], 'executor 0 has ended: CPU 1 is held by none, then 0, 2 and 3 once each, and 0 comes first');
});

test('a worker without flint.worker.executorCpus puts no CPUs on its launch specs', () => {
  const h = new Harness(testConfig());
  h.register();
  const spec = ofType(h.fromMaster(launchExecutor('app-1', 0)), 'LaunchExecutor')[0]?.spec;
  assert.ok(spec !== undefined);
  assert.equal(spec.cpus, undefined);
  assert.equal(h.machine.snapshot().executors[0]?.cpus, undefined);
  assert.ok(!('cpus' in (workerJson(h.machine.snapshot(), 0).executors[0] ?? {})));
});
