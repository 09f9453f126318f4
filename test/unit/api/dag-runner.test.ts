// The DAG runner against a scripted task scheduler: which stages run, which tasks of them, and what a fetch
// failure does (Spark's DAGSchedulerSuite, in small).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DagRunner, StageFailedError, type StageRunner } from '../../../src/api/dag-runner.ts';
import { ShuffleDependency, type PartitionPlan } from '../../../src/api/plan.ts';
import { JobFailedError, type StageResults } from '../../../src/daemons/driver-runtime.ts';
import type { TaskSpec } from '../../../src/driver/index.ts';
import { decodeRecord, encodeRecord } from '../../../src/task/record-codec.ts';

const location = (n: number) => ({ host: `h${n}`, service: `flint://h${n}:7078`, dir: `/work/app/shuffle` });

/** A task scheduler that records every task set and answers by a script: ok, or a fetch failure of one task. */
class ScriptedScheduler implements StageRunner {
  readonly stages: TaskSpec[][] = [];
  /** Per stage call: undefined → all succeed; a number → that task index fails with FetchFailed. */
  readonly failures: Array<{ task: number; shuffleId: number; mapId: number; service: string } | undefined> = [];
  /** Where each map task "ran" (its status's location), by mapId. */
  where = (mapId: number) => location(mapId % 2);

  runJob(tasks: readonly TaskSpec[]): { jobId: number; done: Promise<StageResults> } {
    const jobId = this.stages.length;
    this.stages.push([...tasks]);
    const results = tasks.map((t) => this.#result(t));
    const failure = this.failures[jobId];
    if (failure === undefined) return { jobId, done: Promise.resolve({ results, executors: tasks.map(() => 'e1'), accumulators: [] }) };
    const partial = results.map((r, i) => (i < failure.task ? r : undefined));
    const error = {
      name: 'FetchFailedError',
      message: `lost map ${failure.mapId}`,
      stack: '',
      fetchFailed: { shuffleId: failure.shuffleId, mapId: failure.mapId, service: failure.service },
    };
    return { jobId, done: Promise.reject(new JobFailedError(jobId, error, `Stage ${jobId} failed`, partial)) };
  }

  #result(task: TaskSpec): Uint8Array {
    if (task.action.kind === 'shuffleWrite') {
      const sizes = Array.from({ length: task.action.partitioner.partitions }, (_, r) => 10 * (r + 1));
      return encodeRecord({ location: this.where(task.partition), sizes, records: 3, spills: 0, spilledBytes: 0 });
    }
    return encodeRecord(`result of ${task.partition}`);
  }
}

function leafPlans(n: number): PartitionPlan[] {
  return Array.from({ length: n }, (_, i) => ({ source: { kind: 'range', start: i * 10, end: i * 10 + 10, step: 1 }, ops: [] }));
}

function reducePlans(dep: ShuffleDependency): PartitionPlan[] {
  return Array.from({ length: dep.partitioner.partitions }, (_, reduceId) => ({ source: { kind: 'shuffled', deps: [dep], reduceId, mode: { kind: 'plain' } }, ops: [] }));
}

describe('DagRunner', () => {
  test('runs the map stage, then the result stage reading every map output; a second job skips the map stage', async () => {
    const scheduler = new ScriptedScheduler();
    const dag = new DagRunner(scheduler);
    const dep = new ShuffleDependency(0, leafPlans(4), { kind: 'hash', partitions: 3 }, undefined, 'test');
    const results = await dag.run(reducePlans(dep), [0, 1, 2], { kind: 'collect' }, 'collect');
    assert.deepEqual(results.map((r) => decodeRecord(r)), ['result of 0', 'result of 1', 'result of 2']);
    assert.equal(scheduler.stages.length, 2);
    assert.deepEqual(scheduler.stages[0]?.map((t) => [t.partition, t.action.kind]), [[0, 'shuffleWrite'], [1, 'shuffleWrite'], [2, 'shuffleWrite'], [3, 'shuffleWrite']]);
    const reduce = scheduler.stages[1]?.[2];
    assert.ok(reduce?.source.kind === 'shuffle');
    assert.deepEqual(reduce.source.reads[0]?.blocks.map((b) => [b.mapId, b.size]), [[0, 30], [1, 30], [2, 30], [3, 30]]);
    assert.deepEqual(reduce.source.locations.map((l) => l.host), ['h0', 'h1'], 'each location once');
    await dag.run(reducePlans(dep), [0, 1, 2], { kind: 'count' }, 'count');
    assert.equal(scheduler.stages.length, 3, 'the shuffle is already computed: only the result stage runs');
  });

  test('a fetch failure re-runs only the map output at that service, then only the unfinished result tasks', async () => {
    const scheduler = new ScriptedScheduler();
    const dag = new DagRunner(scheduler);
    const dep = new ShuffleDependency(7, leafPlans(4), { kind: 'hash', partitions: 3 }, undefined, 'test');
    // Stage 1 (the result stage): task 0 finished, task 1 failed to read map 1 at h1 (which also holds map 3).
    scheduler.failures[1] = { task: 1, shuffleId: 7, mapId: 1, service: 'flint://h1:7078' };
    scheduler.where = (mapId) => location(mapId % 2);
    const results = await dag.run(reducePlans(dep), [0, 1, 2], { kind: 'collect' }, 'collect');
    assert.deepEqual(results.map((r) => decodeRecord(r)), ['result of 0', 'result of 1', 'result of 2']);
    assert.deepEqual(scheduler.stages.map((s) => s.map((t) => t.partition)), [[0, 1, 2, 3], [0, 1, 2], [1, 3], [1, 2]]);
    // What the application UI's /json lists: each run of a stage, the resubmitted ones marked.
    assert.deepEqual(
      dag.stages().map((s) => [s.stageId, s.jobId, s.kind, s.attempt, s.tasks, s.state]),
      [
        [0, 0, 'ShuffleMapStage', 0, 4, 'SUCCEEDED'],
        [1, 0, 'ResultStage', 0, 3, 'RESUBMITTED'],
        [2, 0, 'ShuffleMapStage', 0, 2, 'SUCCEEDED'],
        [3, 0, 'ResultStage', 1, 2, 'SUCCEEDED'],
      ],
    );
  });

  test('a stage that fails on fetch failures 4 times in a row fails the job, naming the stage and the cause', async () => {
    const scheduler = new ScriptedScheduler();
    const dag = new DagRunner(scheduler);
    const dep = new ShuffleDependency(0, leafPlans(2), { kind: 'hash', partitions: 2 }, undefined, 'reduceByKey(add)');
    for (const i of [1, 3, 5, 7]) scheduler.failures[i] = { task: 0, shuffleId: 0, mapId: 0, service: 'flint://h0:7078' };
    await assert.rejects(dag.run(reducePlans(dep), [0, 1], { kind: 'collect' }, 'collect'), (err: unknown) => {
      assert.ok(err instanceof StageFailedError, String(err));
      assert.match(err.message, /^Result stage of collect has failed the maximum allowable number of times: 4\. Most recent failure reason: Stage 7 failed/);
      return true;
    });
    assert.equal(scheduler.stages.length, 8, 'four result attempts, each after re-running the lost map output');
  });

  test('a failure that is not a fetch failure fails the job as it is', async () => {
    const runner: StageRunner = {
      runJob: (_tasks) => ({ jobId: 0, done: Promise.reject(new JobFailedError(0, { name: 'Error', message: 'boom', stack: '' }, 'Job 0 aborted: boom')) }),
    };
    const dag = new DagRunner(runner);
    await assert.rejects(dag.run(leafPlans(1), [0], { kind: 'collect' }, 'collect'), /Job 0 aborted: boom/);
  });

  test('the map stages of a join run at once; a shuffle two stages need (a diamond) runs once', async () => {
    // Each task set waits until the test releases it, so what is submitted while others run can be seen.
    const scheduler = new ScriptedScheduler();
    const held: Array<() => void> = [];
    const original = scheduler.runJob.bind(scheduler);
    scheduler.runJob = (tasks) => {
      const { jobId, done } = original(tasks);
      return { jobId, done: new Promise<void>((release) => held.push(release)).then(() => done) };
    };
    const dag = new DagRunner(scheduler);
    const common = new ShuffleDependency(0, leafPlans(2), { kind: 'hash', partitions: 2 }, undefined, 'common');
    const left = new ShuffleDependency(1, reducePlans(common), { kind: 'hash', partitions: 2 }, undefined, 'left');
    const right = new ShuffleDependency(2, reducePlans(common), { kind: 'hash', partitions: 2 }, undefined, 'right');
    const joined: PartitionPlan[] = [0, 1].map((reduceId) => ({ source: { kind: 'shuffled', deps: [left, right], reduceId, mode: { kind: 'plain' } }, ops: [] }));
    const job = dag.run(joined, [0, 1], { kind: 'collect' }, 'join');
    const shuffleIdsOf = (stage: TaskSpec[] | undefined): number[] => (stage ?? []).map((t) => (t.action.kind === 'shuffleWrite' ? t.action.shuffleId : -1));
    const releaseNext = async (): Promise<void> => {
      for (let i = 0; i < 100 && held.length === 0; i++) await new Promise((r) => setImmediate(r));
      held.shift()?.();
    };
    await releaseNext(); // the common map stage, asked for by both sides, submitted once
    await releaseNext(); // one side's map stage
    assert.equal(held.length, 1, 'the other side was submitted while the first ran');
    assert.deepEqual(scheduler.stages.map(shuffleIdsOf), [[0, 0], [1, 1], [2, 2]]);
    await releaseNext();
    await releaseNext(); // the join's result stage
    assert.deepEqual(await job.then((r) => r.map((b) => decodeRecord(b))), ['result of 0', 'result of 1']);
    assert.equal(scheduler.stages.length, 4);
  });

  test("a sibling's fetch failure that removes a finished stage's outputs runs those map tasks again before the join", async () => {
    const scheduler = new ScriptedScheduler();
    scheduler.where = () => location(0); // every map output at h0
    const dag = new DagRunner(scheduler);
    const base = new ShuffleDependency(0, leafPlans(2), { kind: 'hash', partitions: 2 }, undefined, 'base');
    const left = new ShuffleDependency(1, leafPlans(2), { kind: 'hash', partitions: 2 }, undefined, 'left');
    const right = new ShuffleDependency(2, reducePlans(base), { kind: 'hash', partitions: 2 }, undefined, 'right');
    // Stages: 0 left's maps and 1 base's maps (at once), 2 right's maps, which fail to read base's map 0 at h0:
    // every output at h0 is forgotten, left's (finished) among them.
    scheduler.failures[2] = { task: 0, shuffleId: 0, mapId: 0, service: 'flint://h0:7078' };
    const joined: PartitionPlan[] = [0, 1].map((reduceId) => ({ source: { kind: 'shuffled', deps: [left, right], reduceId, mode: { kind: 'plain' } }, ops: [] }));
    const results = await dag.run(joined, [0, 1], { kind: 'collect' }, 'join');
    assert.deepEqual(results.map((r) => decodeRecord(r)), ['result of 0', 'result of 1']);
    const kinds = scheduler.stages.map((stage) => stage.map((t) => (t.action.kind === 'shuffleWrite' ? `${t.action.shuffleId}:${t.partition}` : t.action.kind)));
    assert.deepEqual(kinds, [['1:0', '1:1'], ['0:0', '0:1'], ['2:0', '2:1'], ['0:0', '0:1'], ['2:0', '2:1'], ['1:0', '1:1'], ['collect', 'collect']]);
  });

  test("a failed parent stage fails the job only once its sibling has ended, with the failed stage's error", async () => {
    const scheduler = new ScriptedScheduler();
    let siblingEnded = false;
    const original = scheduler.runJob.bind(scheduler);
    scheduler.runJob = (tasks) => {
      const shuffleId = tasks[0]?.action.kind === 'shuffleWrite' ? tasks[0].action.shuffleId : -1;
      if (shuffleId === 1) return { jobId: 90, done: Promise.reject(new JobFailedError(90, { name: 'Error', message: 'boom', stack: '' }, 'Job 90 aborted: boom')) };
      const { jobId, done } = original(tasks);
      const slow = new Promise<void>((r) => setTimeout(r, 20)).then(() => {
        siblingEnded = true;
        return done;
      });
      return { jobId, done: slow };
    };
    const dag = new DagRunner(scheduler);
    const left = new ShuffleDependency(1, leafPlans(2), { kind: 'hash', partitions: 2 }, undefined, 'left');
    const right = new ShuffleDependency(2, leafPlans(2), { kind: 'hash', partitions: 2 }, undefined, 'right');
    const joined: PartitionPlan[] = [0, 1].map((reduceId) => ({ source: { kind: 'shuffled', deps: [left, right], reduceId, mode: { kind: 'plain' } }, ops: [] }));
    await assert.rejects(dag.run(joined, [0, 1], { kind: 'collect' }, 'join'), (err: unknown) => {
      assert.match(String(err), /Job 90 aborted: boom/);
      assert.equal(siblingEnded, true, 'the sibling map stage had ended before the job failed');
      return true;
    });
  });

  test('a range shuffle samples its parent first and sends the bounds to every map task', async () => {
    const scheduler = new ScriptedScheduler();
    const original = scheduler.runJob.bind(scheduler);
    scheduler.runJob = (tasks) => {
      if (tasks[0]?.action.kind !== 'sampleKeys') return original(tasks);
      scheduler.stages.push([...tasks]);
      const sketches = tasks.map((t) => encodeRecord({ count: 100, sample: Array.from({ length: 10 }, (_, i) => t.partition * 100 + i * 10) }));
      return { jobId: scheduler.stages.length - 1, done: Promise.resolve({ results: sketches, executors: sketches.map(() => 'e1'), accumulators: [] }) };
    };
    const dag = new DagRunner(scheduler);
    const dep = new ShuffleDependency(0, leafPlans(2), { kind: 'range', partitions: 2, ascending: true }, undefined, 'sortByKey');
    await dag.run(reducePlans(dep), [0, 1], { kind: 'collect' }, 'collect');
    assert.deepEqual(scheduler.stages.map((s) => s[0]?.action.kind), ['sampleKeys', 'shuffleWrite', 'collect']);
    const write = scheduler.stages[1]?.[0]?.action;
    assert.ok(write?.kind === 'shuffleWrite' && write.partitioner.kind === 'range');
    assert.deepEqual(decodeRecord(write.partitioner.bounds), [90], 'one bound between the two halves of the sample');
  });
});
