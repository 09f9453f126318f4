// Golden traces of the whole-cluster simulator (src/sim, docs/architecture.md "The simulator"): three scenarios,
// each one seed, one shape and one fault placed by hand, whose trace is filtered down to the lines that tell the
// story and compared line for line, timestamps included (a run is deterministic). Read each list as the protocol
// step by step. When a change to a machine or to the simulator moves them, print the new lines with
// `GOLDEN_PRINT=1 node --test test/unit/sim/golden.test.ts`, read that they still show the scenario, and paste.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TaskSchedulerMachine, type DriverConfig, type DriverEffect, type DriverInput } from '../../../src/driver/index.ts';
import { runSimulation, type Fault, type SimResult } from '../../../src/sim/cluster.ts';

const PRINT = process.env['GOLDEN_PRINT'] === '1';

/** The trace lines between `fromS` and `toS` seconds (inclusive) that match `story`. */
function storyOf(result: SimResult, story: RegExp, fromS: number, toS: number): string[] {
  return result.trace.filter((line) => {
    const at = Number.parseFloat(line);
    return at >= fromS && at <= toS && story.test(line);
  });
}

/** A line as it is written in the lists below (for GOLDEN_PRINT). */
const quote = (line: string): string => (line.includes("'") ? JSON.stringify(line) : `'${line}'`);

function check(name: string, result: SimResult, got: readonly string[], want: readonly string[]): void {
  if (PRINT) console.log(`---- ${name}\n${got.map((l) => `    ${quote(l)},`).join('\n')}`);
  assert.deepEqual(result.violations.map((v) => `${v.invariant}: ${v.detail}`), [], `${name}: no invariant broken`);
  assert.equal(result.jobs.failed, 0, `${name}: no job failed`);
  assert.deepEqual(got, want, `${name}: the golden trace`);
}

const fault = (kind: Fault['kind'], atMs: number, forMs: number, target = 0, pick = 0): Fault => ({ kind, atMs, forMs, target, pick, oneWay: false });

// A worker registers (Spark's Worker.tryRegisterAllMasters and Master.registerWorker): one master with a
// FILESYSTEM store leads at once; the worker connects, the master registers it and answers RegisteredWorker; the
// app registers (Master.registerApplication), schedule() places its executor on the worker (launchExecutor), the
// worker starts it, and the first job's result, checked against a plain local evaluation, comes back (✓).
test('golden: a worker registers, and its executors run the first job', async () => {
  const result = await runSimulation({ seed: 1, masters: 1, workers: 1, apps: 1, schedule: [], keepTrace: true });
  const got = storyOf(result, /^[\d.]+s (master|worker|driver) .*(Start|elected|Connecting|egister|Launching|launch executor|✓)/, 0, 12);
  check('a worker registers', result, got, [
    '0.000s master master1 info: Starting Flint master at flint://master1:7077',
    '0.000s master master1 info: I have been elected leader! New state: ALIVE',
    '0.000s worker worker-20251231235545-w1-7078 info: Starting Flint worker w1:7078 with 3 cores, 4096 MB RAM',
    '0.000s worker worker-20251231235545-w1-7078 info: Connecting to master flint://master1:7077...',
    '0.029s master master1 info: Registering worker w1:7078 with 3 cores, 4096 MB RAM',
    '0.048s worker worker-20251231235545-w1-7078 info: Successfully registered with master flint://master1:7077',
    '1.283s driver driver1 app client info: Connecting to master flint://master1:7077...',
    '1.307s master master1 info: Registering app app1',
    '1.307s master master1 info: Registered app app1 with ID app-20260101000437-0000',
    '1.307s master master1 info: Launching executor app-20260101000437-0000/0 on worker worker-20251231235545-w1-7078',
    '1.327s driver driver1: registered as app-20260101000437-0000',
    '1.338s worker worker-20251231235545-w1-7078 info: Asked to launch executor app-20260101000437-0000/0 for app1',
    '6.369s driver driver1: job 0: the even numbers below 491 in 8 partitions = [0,2,4,6,8,10,12,14,16,18,20,22,24,26,28 ✓',
  ]);
});

// The leader dies and the standby recovers (Spark's ZooKeeperLeaderElectionAgent and Master.completeRecovery):
// three masters share a ZooKeeper leader latch. master1 leads; at 30 s it crashes. The workers lose it; its
// ZooKeeper session expires (10 s after its last ping), and the latch grants leadership to the lowest node still
// connected, master2. It reads the store (beginRecovery: every app and worker UNKNOWN) and tells each of them
// MasterChanged; they answer (MasterChangeAcknowledged, WorkerSchedulerStateResponse), and with everyone back it
// completes the recovery at once, before its CompleteRecovery timer. The app client (src/app) acknowledges the
// change once: master2's second MasterChanged, sent in case the client had reached it by itself, names no new
// master. The jobs go on succeeding; master1, restarted, joins the latch as a standby.
test('golden: the leader dies and the standby recovers', async () => {
  const result = await runSimulation({ seed: 1, masters: 3, workers: 2, apps: 1, schedule: [fault('crash-master', 30_000, 20_000)], keepTrace: true });
  const got = storyOf(result, /FAULT|zookeeper|restart|elected|recover|re-registered|Recovery complete|Master has changed|disassociated|✓/, 26, 57);
  check('the leader dies', result, got, [
    '26.291s driver driver1: job 1: multiples of 3 below 93 in 6 partitions = 31 ✓',
    '30.000s FAULT crash master master1, restart in 20000 ms',
    '30.001s worker worker-20260101000412-w1-7078 error: flint://master1:7077 disassociated! Connection to master failed! Waiting for master to reconnect...',
    '30.001s worker worker-20260101000231-w2-7078 error: flint://master1:7077 disassociated! Connection to master failed! Waiting for master to reconnect...',
    '37.040s zookeeper: session of flint://master1:7077 expired',
    '37.040s zookeeper: flint://master2:7077 is granted leadership',
    '37.040s master master2 info: I have been elected leader! New state: RECOVERING',
    '37.040s master master2 info: Trying to recover app: app-20260101000437-0000',
    '37.040s master master2 info: Trying to recover worker: worker-20260101000231-w2-7078',
    '37.040s master master2 info: Trying to recover worker: worker-20260101000412-w1-7078',
    '37.074s driver driver1 app client info: Master has changed, new master is at flint://Master@master2:7077',
    '37.082s master master2 info: Application has been re-registered: app-20260101000437-0000',
    '37.084s worker worker-20260101000231-w2-7078 info: Master has changed, new master is at flint://master2:7077',
    '37.089s worker worker-20260101000412-w1-7078 info: Master has changed, new master is at flint://master2:7077',
    '37.116s master master2 info: Worker has been re-registered: worker-20260101000231-w2-7078',
    '37.126s master master2 info: Worker has been re-registered: worker-20260101000412-w1-7078',
    '37.126s master master2 info: Recovery complete in 87 ms - resuming operations!',
    '38.631s driver driver1: job 2: the even numbers below 251 in 1 partitions = [0,2,4,6,8,10,12,14,16,18,20,22,24,26,28 ✓',
    '50.000s zookeeper: flint://master1:7077 joins the leader latch (node 3)',
    '50.000s restart master master1',
    '56.566s driver driver1: job 3: multiples of 3 below 585 in 7 partitions = 195 ✓',
  ]);
});

/** The real task scheduler, noting each task attempt it launches again (attempt > 0); it changes nothing. */
class RelaunchTap extends TaskSchedulerMachine {
  readonly relaunched: string[];
  constructor(config: DriverConfig, relaunched: string[]) {
    super(config);
    this.relaunched = relaunched;
  }

  override handle(input: DriverInput, now: number): DriverEffect[] {
    const effects = super.handle(input, now);
    for (const e of effects) {
      if (e.kind === 'Send' && e.message.type === 'LaunchTask' && e.message.attempt > 0) {
        this.relaunched.push(`job ${e.message.jobId} partition ${e.message.partition} attempt ${e.message.attempt} (TID ${e.message.taskId}) on executor ${e.executorId}`);
      }
    }
    return effects;
  }
}

// An executor is lost mid-job (Spark's CoarseGrainedSchedulerBackend.removeExecutor, TaskSchedulerImpl.executorLost
// and TaskSetManager.executorLost): at 25 s executor 0, which runs two tasks of job 1, is killed. Its worker
// reports it EXITED; the driver sees its connection drop, removes it and fails its two running tasks
// (ExecutorLostFailure, counted: failure 1 of 4) and puts them back in the queue; the master removes the executor
// and launches a replacement on the other worker. The two tasks run again as attempt 1 on the executors left, and
// job 1 returns the right sum (58695560 = the sum of the squares below 561, ✓).
test('golden: an executor is lost mid-job, and its tasks are resubmitted', async () => {
  const relaunched: string[] = [];
  const result = await runSimulation({
    seed: 12,
    masters: 1,
    workers: 2,
    apps: 1,
    schedule: [fault('crash-executor', 25_000, 1_000, 1, 0)],
    keepTrace: true,
    machines: { driver: (config) => new RelaunchTap(config, relaunched) },
  });
  const got = storyOf(result, /FAULT|EXITED|Lost executor|Lost task|Removing executor|failed on worker|Launching executor|launch executor|job 1:/, 20, 30);
  if (PRINT) console.log(relaunched.map((l) => `    ${quote(l)},`).join('\n'));
  check('an executor is lost', result, got, [
    '25.000s FAULT executor app-20260101000228-0000/0 on w2 is killed',
    '25.000s worker worker-20251231235503-w2-7078 info: Executor app-20260101000228-0000/0 finished with state EXITED message Command exited with signal SIGKILL (137) exitStatus 137',
    '25.001s driver driver1 error: Lost executor 0 on w2: Remote RPC client disassociated (flint+client://executor-app-20260101000228-0000-0)',
    '25.001s driver driver1 warn: Lost task 0.0 in job 1 (TID 3, partition 0) on executor 0: ExecutorLostFailure: Executor 0 exited caused by one of the running tasks. Reason: Remote RPC client disassociated (flint+client://executor-app-20260101000228-0000-0) (failure 1 of 4)',
    '25.001s driver driver1 warn: Lost task 3.0 in job 1 (TID 6, partition 3) on executor 0: ExecutorLostFailure: Executor 0 exited caused by one of the running tasks. Reason: Remote RPC client disassociated (flint+client://executor-app-20260101000228-0000-0) (failure 1 of 4)',
    '25.030s master master1 info: Removing executor app-20260101000228-0000/0 because it is EXITED',
    "25.030s master master1 info: Executor app-20260101000228-0000/0 failed on worker worker-20251231235503-w2-7078; the app's next executor there waits 1000 ms",
    '25.030s master master1 info: Launching executor app-20260101000228-0000/3 on worker worker-20260101000213-w1-7078',
    '25.077s driver driver1 app client info: Executor updated: app-20260101000228-0000/0 is now EXITED',
    '25.090s worker worker-20260101000213-w1-7078 info: Asked to launch executor app-20260101000228-0000/3 for app1',
    '27.102s driver driver1: job 1: sum of squares below 561 in 4 partitions = 58695560 ✓',
  ]);
  assert.deepEqual(relaunched, [
    'job 1 partition 0 attempt 1 (TID 7) on executor 1',
    'job 1 partition 3 attempt 1 (TID 8) on executor 2',
  ]);
});
