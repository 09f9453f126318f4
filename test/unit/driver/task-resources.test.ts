// Task resources (Spark's spark.task.cpus and spark.task.resource.*, reference §5.6): an executor runs at most
// min(cores / task.cpus, addresses / task amount) tasks at once (ResourceProfile's limiting resource), each
// running task holds its own addresses (ExecutorResourceInfo: never one address to two tasks), its LaunchTask
// names them, and they come back when it ends.
import { describe, test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { driverConfigFromConf } from '../../../src/driver/index.ts';
import { addressBook, acquireTaskResources, releaseTaskResources, taskSlots } from '../../../src/driver/task-resources.ts';
import { ConfigError } from '../../../src/errors.ts';
import { launches, ofKind, sent, TestDriver, type Launch } from './harness.ts';

const GPU = [{ name: 'gpu', amount: 1 }];
const conf = (entries: Record<string, string>) => new FlintConf(Object.entries(entries));
const configError = (key: string, message: RegExp) => (err: unknown) => err instanceof ConfigError && err.key === key && message.test(err.message);

/** The gpu addresses each running task holds, by executor, from the LaunchTasks sent so far. */
function heldByRunning(d: TestDriver): Map<string, string[][]> {
  const byTask = new Map<number, readonly string[]>();
  for (const { message } of sent(d.log, 'LaunchTask')) byTask.set(message.taskId, message.resources?.['gpu'] ?? []);
  const out = new Map<string, string[][]>();
  for (const l of d.running()) {
    const list = out.get(l.executorId) ?? [];
    list.push([...(byTask.get(l.taskId) ?? [])]);
    out.set(l.executorId, list);
  }
  return out;
}

describe('task slots', () => {
  test('min(cores / task.cpus, addresses / task amount), 0 without the resource', (t: TestContext) => {
    t.plan(5);
    t.assert.strictEqual(taskSlots(8, { gpu: ['0', '1'] }, { taskCpus: 1, taskResourceReqs: GPU }), 2, 'gpus limit');
    t.assert.strictEqual(taskSlots(3, { gpu: ['0', '1', '2', '3'] }, { taskCpus: 1, taskResourceReqs: GPU }), 3, 'cores limit');
    t.assert.strictEqual(taskSlots(8, { gpu: ['0', '1', '2', '3', '4'] }, { taskCpus: 1, taskResourceReqs: [{ name: 'gpu', amount: 2 }] }), 2);
    t.assert.strictEqual(taskSlots(5, undefined, { taskCpus: 2, taskResourceReqs: [] }), 2, 'task.cpus 2');
    t.assert.strictEqual(taskSlots(8, { fpga: ['a'] }, { taskCpus: 1, taskResourceReqs: GPU }), 0, 'no gpu at all');
  });

  test('the address book hands out the first free addresses and takes them back in the executor order', (t: TestContext) => {
    t.plan(5);
    const book = addressBook({ gpu: ['0', '1', '2'] });
    const a = acquireTaskResources(book, GPU);
    const b = acquireTaskResources(book, GPU);
    t.assert.deepStrictEqual([a, b], [{ gpu: ['0'] }, { gpu: ['1'] }]);
    releaseTaskResources(book, a);
    t.assert.deepStrictEqual(book.freeAddresses, { gpu: ['0', '2'] });
    t.assert.deepStrictEqual(acquireTaskResources(book, GPU), { gpu: ['0'] });
    t.assert.throws(() => releaseTaskResources(book, { gpu: ['2'] }), /released twice/, 'a free address released again is a bug');
    t.assert.strictEqual(acquireTaskResources(book, []), undefined, 'no request, no addresses');
  });
});

describe('offers with task resources', () => {
  test('an executor runs as many tasks as its gpus allow, each with its own, and a finished task frees its gpus', (t: TestContext) => {
    t.plan(5);
    const d = new TestDriver({ taskResourceReqs: [{ name: 'gpu', amount: 2 }] });
    d.addExecutor('1', 8, true, { gpu: ['0', '1', '2', '3'] });
    const first = d.submit(0, 5);
    const launched = sent(first, 'LaunchTask').map((s) => [s.executorId, s.message.partition, s.message.resources]);
    t.assert.deepStrictEqual(launched, [
      ['1', 0, { gpu: ['0', '1'] }],
      ['1', 1, { gpu: ['2', '3'] }],
    ], '8 cores, but 4 gpus / 2 per task: 2 tasks');
    const [t0, t1] = launches(first) as [Launch, Launch];
    const next = sent(d.finish(t1), 'LaunchTask').map((s) => [s.message.partition, s.message.resources]);
    t.assert.deepStrictEqual(next, [[2, { gpu: ['2', '3'] }]], 'task 1\'s gpus go to the next task');
    t.assert.deepStrictEqual(launches(d.fail(t0)).map((l) => l.partition), [0], 'a failed task frees its gpus too; it runs again');
    t.assert.deepStrictEqual(d.machine.snapshot().executors.map((e) => e.freeCores), [6]);
    t.assert.deepStrictEqual([...heldByRunning(d).get('1') ?? []].sort(), [['0', '1'], ['2', '3']]);
  });

  test('no prefetch when tasks need resources, however short they are', (t: TestContext) => {
    t.plan(2);
    const d = new TestDriver({ taskResourceReqs: GPU, prefetchPerCore: 32 });
    d.addExecutor('1', 1, true, { gpu: ['0'] });
    const [only] = launches(d.submit(0, 10)) as [Launch];
    const next = d.finish(only, Uint8Array.of(1));
    t.assert.strictEqual(launches(next).length, 1, 'one task at a time: the one gpu');
    t.assert.strictEqual(d.running().length, 1);
  });

  test('task.cpus takes that many cores per task', (t: TestContext) => {
    t.plan(2);
    const d = new TestDriver({ taskCpus: 2, prefetchPerCore: 0 });
    d.addExecutor('1', 5);
    t.assert.strictEqual(launches(d.submit(0, 4)).length, 2, '5 cores / 2 per task');
    t.assert.deepStrictEqual(d.machine.snapshot().executors.map((e) => e.freeCores), [1]);
  });

  test('an executor without enough of a resource runs nothing, with a warning naming what it lacks', (t: TestContext) => {
    t.plan(3);
    const d = new TestDriver({ taskResourceReqs: [{ name: 'gpu', amount: 2 }] });
    const registered = d.addExecutor('1', 4, true, { gpu: ['0'] });
    const warning = ofKind(registered, 'Log').find((l) => l.level === 'warn');
    t.assert.match(warning?.msg ?? '', /Executor 1 can run no task: each task needs 1 core\(s\), 2 gpu; it has 4 core\(s\), 1 gpu/);
    t.assert.deepStrictEqual(launches(d.submit(0, 2)), []);
    d.addExecutor('2', 1, true, { gpu: ['0', '1'] });
    t.assert.deepStrictEqual(d.running().map((l) => l.executorId), ['2'], 'the job runs on the executor that has them');
  });

  test('property: no address is ever held by two running tasks of one executor, and only its own', (t: TestContext) => {
    t.plan(1);
    const step = fc.oneof(
      fc.record({ kind: fc.constant('finish' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('fail' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('lose' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('add' as const), gpus: fc.integer({ min: 0, max: 5 }), cores: fc.integer({ min: 1, max: 6 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 }), fc.array(step, { maxLength: 40 }), (amount, steps) => {
        const d = new TestDriver({ taskResourceReqs: [{ name: 'gpu', amount }], maxFailures: 100, prefetchPerCore: 8 });
        const owned = new Map<string, Set<string>>();
        let nextExecutor = 1;
        const add = (cores: number, gpus: number) => {
          const id = String(nextExecutor++);
          const addresses = Array.from({ length: gpus }, (_, i) => `g${i}`);
          owned.set(id, new Set(addresses));
          d.addExecutor(id, cores, true, { gpu: addresses });
        };
        add(2, 3);
        d.submit(0, 30);
        for (const s of steps) {
          const running = d.running();
          if (s.kind === 'add') add(s.cores, s.gpus);
          else if (running.length > 0) {
            const victim = running[s.pick % running.length] as Launch;
            if (s.kind === 'finish') d.finish(victim);
            else if (s.kind === 'fail') d.fail(victim);
            else d.lose(victim.executorId);
          }
          for (const [executorId, held] of heldByRunning(d)) {
            const flat = held.flat();
            if (new Set(flat).size !== flat.length) throw new Error(`executor ${executorId}: two running tasks share an address: ${JSON.stringify(held)}`);
            if (held.some((h) => h.length !== amount)) throw new Error(`a task holds other than ${amount} gpus: ${JSON.stringify(held)}`);
            if (flat.some((a) => !(owned.get(executorId)?.has(a) ?? false))) throw new Error(`executor ${executorId} gave an address it does not have`);
          }
        }
      }),
      { numRuns: 200 },
    );
    t.assert.ok(true);
  });
});

describe('task resource keys', () => {
  test('read with the executor request they need', (t: TestContext) => {
    t.plan(1);
    const c = driverConfigFromConf(conf({ 'flint.executor.resource.gpu.amount': '4', 'spark.task.resource.gpu.amount': '2', 'flint.task.cpus': '2' }));
    t.assert.deepStrictEqual([c.taskCpus, c.taskResourceReqs], [2, [{ name: 'gpu', amount: 2 }]]);
  });

  test('a task resource the executors do not ask for, or more than they ask for, or task.cpus over executor.cores, is refused naming the key', (t: TestContext) => {
    t.plan(4);
    t.assert.throws(
      () => driverConfigFromConf(conf({ 'flint.task.resource.gpu.amount': '1' })),
      configError('flint.task.resource.gpu.amount', /needs flint\.executor\.resource\.gpu\.amount .* it is not set/),
    );
    t.assert.throws(
      () => driverConfigFromConf(conf({ 'flint.task.resource.gpu.amount': '3', 'flint.executor.resource.gpu.amount': '2' })),
      configError('flint.task.resource.gpu.amount', /=3 is more than flint\.executor\.resource\.gpu\.amount=2/),
    );
    t.assert.throws(
      () => driverConfigFromConf(conf({ 'flint.task.cpus': '4', 'flint.executor.cores': '2' })),
      configError('flint.task.cpus', /flint\.task\.cpus=4 is more than flint\.executor\.cores=2/),
    );
    t.assert.throws(() => driverConfigFromConf(conf({ 'flint.task.cpus': '0' })), configError('flint.task.cpus', /flint\.task\.cpus/));
  });
});
