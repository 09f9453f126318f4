// The what-if planner (src/master/plan.ts): what it says would happen is what schedule() then does, it changes
// nothing, and it says why the rest would wait.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { masterJson } from '../../../src/master/json.ts';
import { planApplication } from '../../../src/master/plan.ts';
import { TestMaster, aliveMaster, sent, workerSpec } from './harness.ts';

const gpus = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i));

test('the plan names the executors schedule() then launches, with their addresses, and changes nothing', () => {
  const m = aliveMaster();
  m.registerWorker('w1', { cores: 4, resources: { gpu: gpus(2) } });
  m.registerWorker('w2', { cores: 4, resources: { gpu: gpus(4) } });
  const request = { maxCores: 4, coresPerExecutor: 1, memoryMbPerExecutor: 512, resourceReqsPerExecutor: [{ name: 'gpu', amount: 2 }] };
  const before = JSON.stringify(masterJson(m.state, m.now));
  const plan = planApplication(m.state, m.now, request);
  assert.equal(JSON.stringify(masterJson(m.state, m.now)), before, 'planning changed the state');
  const { effects } = m.registerApp('a', request);
  const launched = sent(effects, 'LaunchExecutor').map((s) => [s.to, s.message.cores, s.message.resources]);
  assert.deepEqual(
    plan.executors.map((e) => [workerSpec(e.workerId).address, e.cores, e.resources]),
    launched,
  );
  assert.equal(launched.length, 3);
  assert.equal(plan.coresPlaced, 3);
  assert.equal(plan.coresWaiting, 1);
  assert.deepEqual(plan.reasons.map((r) => [r.code, r.workerIds]), [['RESOURCE', ['w1', 'w2']]]);
  assert.match(plan.reasons[0]?.message ?? '', /w1 has 0 gpu free, 2 needed/);
});

test('a registered WAITING app: its own place in the queue, and why it waits', () => {
  const m = aliveMaster();
  m.registerWorker('w1', { cores: 4, memoryMb: 1024 });
  const { appId } = m.registerApp('big', { memoryMbPerExecutor: 2048 });
  assert.equal(m.app(appId).state, 'WAITING');
  const plan = planApplication(m.state, m.now, { appId });
  assert.deepEqual(plan.executors, []);
  assert.equal(plan.coresWaiting, undefined, 'no maxCores: unlimited');
  assert.deepEqual(plan.reasons.map((r) => [r.code, r.workerIds]), [['MEMORY', ['w1']]]);
  assert.match(plan.reasons[0]?.message ?? '', /w1 has 1024 MB free, 2048 MB needed/);
});

test('no worker, an executor limit, a master that is not ALIVE, an unknown app', () => {
  const m = aliveMaster();
  assert.deepEqual(planApplication(m.state, m.now, { maxCores: 2 }).reasons.map((r) => r.code), ['NO_ALIVE_WORKER']);
  m.registerWorker('w1', { cores: 8 });
  const limited = planApplication(m.state, m.now, { coresPerExecutor: 1, executorLimit: 2, memoryMbPerExecutor: 256 });
  assert.equal(limited.executors.length, 2);
  assert.deepEqual(limited.reasons.map((r) => r.code), ['EXECUTOR_LIMIT']);
  assert.deepEqual(planApplication(m.state, m.now, { appId: 'app-none' }).reasons.map((r) => r.code), ['APP_NOT_FOUND']);
  const standby = new TestMaster();
  assert.deepEqual(planApplication(standby.state, standby.now, { maxCores: 1 }).reasons.map((r) => r.code), ['MASTER_NOT_ALIVE']);
});

test('RequestPlan is an ask answered with a PlanResponse that passes its schema', () => {
  const m = aliveMaster();
  m.registerWorker('w1');
  const { reply } = m.ask({ type: 'RequestPlan', maxCores: 2, memoryMbPerExecutor: 512 });
  assert.equal(reply?.type, 'PlanResponse');
  assert.ok(reply?.type === 'PlanResponse' && reply.coresPlaced === 2 && reply.reasons.length === 0);
});
