// Property test (STYLE.md §10): random sequences of executor joins, launches, losses (by the app or not),
// heartbeat expiry, task outcomes (finish inline or indirect, fail, killed, lost, duplicates) and result fetches.
// Failures stay below maxFailures, so:
//   safety, after every step: no task runs on two executors at once (one live attempt per job task), no
//     executor runs more tasks than it has cores, LaunchTask only goes to live launched executors, and the
//     machine's running tasks are exactly the ones the simulated executors are running;
//   liveness, after healing (one executor, every task finishes): every submitted job succeeds exactly once,
//     with exactly one result per task, each the one its own partition produced.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import fc from 'fast-check';
import type { DriverEffect } from '../../../src/driver/index.ts';
import { remoteError, resultOf, TestDriver, type Launch } from './harness.ts';

type Cmd =
  | { t: 'join'; cores: number }
  | { t: 'launch'; pick: number }
  | { t: 'lose'; pick: number; causedByApp: boolean }
  | { t: 'submit'; n: number }
  | { t: 'finish'; pick: number; indirect: boolean }
  | { t: 'fail'; pick: number }
  | { t: 'end'; pick: number; state: 'KILLED' | 'LOST' }
  | { t: 'fetch'; pick: number; ok: boolean }
  | { t: 'dup'; pick: number }
  | { t: 'heartbeat'; pick: number }
  | { t: 'tick'; ms: number };

const pick = fc.nat();
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('join' as const), cores: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('launch' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('lose' as const), pick, causedByApp: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('submit' as const), n: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('finish' as const), pick, indirect: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('fail' as const), pick }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('end' as const),
      pick,
      state: fc.constantFrom('KILLED' as const, 'LOST' as const),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('fetch' as const), pick, ok: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('dup' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('heartbeat' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 130_000 }) }) },
);

const at = <T>(list: readonly T[], n: number): T | undefined => (list.length === 0 ? undefined : list[n % list.length]);

interface SimExecutor {
  readonly id: string;
  launched: boolean;
  alive: boolean;
}

const stats = { runs: 0, jobsSucceeded: 0, lossesWithTasks: 0, fetches: 0, retries: 0 };

/** The executors' side of the world, driven by the commands and by the machine's effects. */
class World {
  readonly d = new TestDriver({ maxFailures: 10_000, executorTimeoutMs: 120_000, heartbeatCheckIntervalMs: 60_000 });
  readonly executors: SimExecutor[] = [];
  /** Tasks the simulated executors are running, by task id. */
  readonly running = new Map<number, Launch>();
  /** Results kept on executors, waiting for the driver's fetch. */
  readonly fetches = new Map<number, Launch>();
  readonly everFetched = new Set<number>();
  readonly finishedTasks: Launch[] = [];
  readonly jobs = new Map<number, number>();
  readonly succeeded = new Map<number, number>();
  nextJob = 0;

  exec(id: string): SimExecutor {
    const e = this.executors.find((x) => x.id === id);
    assert.ok(e, `unknown executor ${id}`);
    return e;
  }

  dropExecutor(id: string): void {
    this.exec(id).alive = false;
    for (const [taskId, l] of this.running) if (l.executorId === id) this.running.delete(taskId);
  }

  apply(effects: readonly DriverEffect[]): void {
    for (const e of effects) {
      if (e.kind === 'Send') this.onSend(e);
      else if (e.kind === 'FetchResult') {
        assert.ok(!this.everFetched.has(e.taskId), `second FetchResult for TID ${e.taskId}`);
        const l = this.finishedTasks.find((x) => x.taskId === e.taskId);
        assert.ok(l, `FetchResult for TID ${e.taskId}, which never finished`);
        this.everFetched.add(e.taskId);
        this.fetches.set(e.taskId, l);
      } else if (e.kind === 'JobSucceeded') {
        const n = this.jobs.get(e.jobId);
        assert.ok(n !== undefined, `JobSucceeded for unknown job ${e.jobId}`);
        assert.ok(!this.succeeded.has(e.jobId), `job ${e.jobId} succeeded twice`);
        assert.deepEqual(e.results, Array.from({ length: n }, (_, p) => resultOf(e.jobId, p)));
        this.succeeded.set(e.jobId, n);
      } else if (e.kind === 'KillExecutor') this.dropExecutor(e.executorId);
      else if (e.kind === 'JobFailed') assert.fail(`job ${e.jobId} failed: ${e.summary}`);
    }
  }

  onSend(e: Extract<DriverEffect, { kind: 'Send' }>): void {
    const m = e.message;
    assert.ok(m.type === 'LaunchTask' || m.type === 'ReleaseTaskResult', `unexpected ${m.type}`);
    if (m.type !== 'LaunchTask') return;
    const x = this.exec(e.executorId);
    assert.ok(x.alive && x.launched, `LaunchTask to executor ${x.id} (alive ${x.alive}, launched ${x.launched})`);
    if (m.attempt > 0) stats.retries += 1;
    const { taskId, jobId, partition, attempt } = m;
    this.running.set(taskId, { executorId: e.executorId, taskId, jobId, partition, attempt });
  }

  step(c: Cmd): void {
    const d = this.d;
    const alive = this.executors.filter((x) => x.alive);
    const running = [...this.running.values()];
    switch (c.t) {
      case 'join': {
        const id = String(this.executors.length);
        this.executors.push({ id, launched: false, alive: true });
        return this.apply(d.addExecutor(id, c.cores, false));
      }
      case 'launch': {
        const x = at(alive.filter((e) => !e.launched), c.pick);
        if (x === undefined) return;
        x.launched = true;
        return this.apply(d.handle({ kind: 'ExecutorLaunched', executorId: x.id }));
      }
      case 'lose': {
        const x = at(this.executors, c.pick);
        if (x === undefined) return;
        if (running.some((l) => l.executorId === x.id) && x.alive) stats.lossesWithTasks += 1;
        this.dropExecutor(x.id);
        return this.apply(d.lose(x.id, c.causedByApp, 'simulated loss'));
      }
      case 'submit': {
        const jobId = this.nextJob++;
        this.jobs.set(jobId, c.n);
        return this.apply(d.submit(jobId, c.n));
      }
      case 'finish':
        return this.finish(at(running, c.pick), c.indirect);
      case 'fail':
      case 'end': {
        const l = at(running, c.pick);
        if (l === undefined) return;
        this.running.delete(l.taskId);
        return this.apply(c.t === 'fail' ? d.fail(l, remoteError()) : d.status(l, c.state));
      }
      case 'fetch':
        return this.answerFetch(at([...this.fetches.values()], c.pick), c.ok);
      case 'dup': {
        const l = at(this.finishedTasks, c.pick);
        return l === undefined ? undefined : this.apply(d.finish(l, Uint8Array.of(0xee)));
      }
      case 'heartbeat': {
        const x = at(alive, c.pick);
        return x === undefined ? undefined : this.apply(d.heartbeat(x.id));
      }
      case 'tick':
        d.advance(c.ms);
        return this.apply(d.fireTimer('ExpireDeadExecutors'));
    }
  }

  finish(l: Launch | undefined, indirect: boolean): void {
    if (l === undefined) return;
    this.running.delete(l.taskId);
    this.finishedTasks.push(l);
    this.apply(indirect ? this.d.status(l, 'FINISHED', { indirectResult: { bytes: 3, chunks: 1 } }) : this.d.finish(l));
  }

  /** A result kept on a dead executor can only fail to arrive. */
  answerFetch(l: Launch | undefined, ok: boolean): void {
    if (l === undefined) return;
    this.fetches.delete(l.taskId);
    stats.fetches += 1;
    const fine = ok && this.exec(l.executorId).alive;
    this.apply(
      fine
        ? this.d.handle({ kind: 'ResultFetched', taskId: l.taskId, bytes: resultOf(l.jobId, l.partition) })
        : this.d.handle({ kind: 'ResultFetchFailed', taskId: l.taskId, error: 'simulated' }),
    );
  }

  checkSafety(): void {
    const snap = this.d.machine.snapshot();
    for (const e of snap.executors) {
      assert.ok(e.freeCores >= 0, `executor ${e.executorId} has ${e.freeCores} free cores`);
      if (e.launched) assert.equal(e.freeCores + e.runningTasks.length, e.cores, `cores of executor ${e.executorId}`);
      else assert.deepEqual([e.freeCores, e.runningTasks], [0, []]);
    }
    const machineRunning = snap.tasks.filter((x) => x.phase === 'running').map((x) => x.taskId);
    assert.deepEqual(machineRunning, [...this.running.keys()].sort((a, b) => a - b), 'running tasks agree');
    const live = [...this.running.values(), ...this.fetches.values()].map((l) => `${l.jobId}/${l.partition}`);
    assert.equal(new Set(live).size, live.length, `one live attempt per task: ${live.join(' ')}`);
  }

  heal(): void {
    if (!this.executors.some((x) => x.alive && x.launched)) {
      this.step({ t: 'join', cores: 2 });
      this.step({ t: 'launch', pick: this.executors.filter((x) => x.alive && !x.launched).length - 1 });
    }
    for (let i = 0; i < 10_000 && (this.running.size > 0 || this.fetches.size > 0); i += 1) {
      const next = this.running.values().next();
      if (!next.done) this.finish(next.value, false);
      else this.answerFetch(this.fetches.values().next().value, true);
      this.checkSafety();
    }
  }
}

test('random executor churn and task outcomes: safety at every step, every job done exactly once', (t: TestContext) => {
  t.plan(4);
  fc.assert(
    fc.property(fc.array(cmd, { minLength: 30, maxLength: 150 }), (cmds) => {
      const w = new World();
      for (const c of cmds) {
        w.step(c);
        w.checkSafety();
      }
      w.heal();
      assert.deepEqual([...w.succeeded.keys()].sort((a, b) => a - b), [...w.jobs.keys()], 'every job succeeded');
      assert.deepEqual(w.d.machine.snapshot().jobs, []);
      stats.runs += 1;
      stats.jobsSucceeded += w.succeeded.size;
    }),
    { numRuns: 300 },
  );
  t.diagnostic(JSON.stringify(stats));
  // The generator really exercised the interesting paths (else the property would prove little).
  t.assert.ok(stats.jobsSucceeded > 1000, `jobs: ${stats.jobsSucceeded}`);
  t.assert.ok(stats.lossesWithTasks > 100, `losses with running tasks: ${stats.lossesWithTasks}`);
  t.assert.ok(stats.fetches > 300, `fetches: ${stats.fetches}`);
  t.assert.ok(stats.retries > 500, `retried attempts: ${stats.retries}`);
});
