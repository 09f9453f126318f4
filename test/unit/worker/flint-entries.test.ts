// `flint:<entry>` main modules: the worker runs its own Flint install's program for them (process-specs.ts),
// refuses unknown names as a failed launch (never a crash), and runs any other main module as given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/errors.ts';
import { resolveMainModule } from '../../../src/worker/index.ts';
import { Harness, MASTER_A_ADDRESS, appDesc, driverDesc, launchExecutor, ofType, sent, testConfig } from './harness.ts';

const HOME = '/opt/flint-1.0';

function registered(flintHome: string | undefined = HOME): Harness {
  const h = new Harness(testConfig(flintHome === undefined ? {} : { flintHome }));
  h.register();
  return h;
}

function withMain(mainModule: string) {
  const desc = appDesc();
  return { ...desc, command: { ...desc.command, mainModule } };
}

test('resolveMainModule: flint:executor and flint:driver name the programs of the Flint home', () => {
  assert.deepEqual(resolveMainModule('flint:executor', HOME), { ok: true, path: `${HOME}/src/entry/executor.ts` });
  assert.deepEqual(resolveMainModule('flint:driver', `${HOME}/`), { ok: true, path: `${HOME}/src/entry/driver.ts` });
});

test('resolveMainModule: other main modules are run as given, with or without a Flint home', () => {
  assert.deepEqual(resolveMainModule('/apps/etl/main.ts', HOME), { ok: true, path: '/apps/etl/main.ts' });
  assert.deepEqual(resolveMainModule('flint/executor-backend.js', undefined), { ok: true, path: 'flint/executor-backend.js' });
});

test('resolveMainModule: an unknown flint: name, or one inherited from Object, is refused with the known names', () => {
  for (const name of ['flint:nope', 'flint:', 'flint:toString', 'flint:__proto__', 'flint:Executor']) {
    const resolved = resolveMainModule(name, HOME);
    assert.equal(resolved.ok, false, name);
    if (!resolved.ok) {
      assert.ok(resolved.error.includes(`"${name}"`), resolved.error);
      assert.match(resolved.error, /flint:executor, flint:driver/);
    }
  }
});

test('resolveMainModule: a flint: name on a worker that does not know its Flint home is refused', () => {
  const resolved = resolveMainModule('flint:executor', undefined);
  assert.deepEqual(resolved, { ok: false, error: 'Cannot run "flint:executor": this worker does not know its Flint home' });
});

test('the Flint home must be an absolute path', () => {
  assert.throws(() => testConfig({ flintHome: 'opt/flint' }), ConfigError);
});

test('LaunchExecutor with flint:executor runs <flintHome>/src/entry/executor.ts, and the stderr header shows it', () => {
  const h = registered();
  const spec = ofType(h.fromMaster(launchExecutor('app-1', 4, { appDesc: withMain('flint:executor') })), 'LaunchExecutor')[0]?.spec;
  assert.ok(spec);
  assert.deepEqual(spec.argv.slice(0, 5), ['node', '--max-old-space-size=1024', '--title=exec-app-1-4', `${HOME}/src/entry/executor.ts`, '--driver-url']);
  assert.ok(spec.stderrHeader.includes(`"${HOME}/src/entry/executor.ts"`), spec.stderrHeader);
});

test('a worker that runs from a build launches that build\'s programs (flintEntries)', () => {
  const entries = { executor: 'dist/builds/0123abcd/executor.mjs', driver: 'dist/builds/0123abcd/driver.mjs' };
  assert.deepEqual(resolveMainModule('flint:driver', HOME, entries), { ok: true, path: `${HOME}/dist/builds/0123abcd/driver.mjs` });
  const h = new Harness(testConfig({ flintHome: HOME, flintEntries: entries }));
  h.register();
  const spec = ofType(h.fromMaster(launchExecutor('app-1', 5, { appDesc: withMain('flint:executor') })), 'LaunchExecutor')[0]?.spec;
  assert.ok(spec);
  assert.equal(spec.argv[3], `${HOME}/dist/builds/0123abcd/executor.mjs`);
});

test('LaunchExecutor with an unknown flint: name ends FAILED with the reason, synced to the master, resources freed', () => {
  const h = registered();
  const effects = h.fromMaster(launchExecutor('app-1', 0, { appDesc: withMain('flint:exector') }));
  assert.equal(ofType(effects, 'LaunchExecutor').length, 0);
  const asks = ofType(effects, 'Ask');
  assert.equal(asks.length, 1);
  assert.equal(asks[0]?.to, MASTER_A_ADDRESS);
  assert.equal(asks[0]?.message.state, 'FAILED');
  assert.match(asks[0]?.message.message ?? '', /Unknown Flint program "flint:exector"/);
  const snap = h.machine.snapshot();
  assert.deepEqual([snap.coresUsed, snap.memoryUsedMb, snap.executors.length], [0, 0, 0]);
  assert.equal(snap.finishedExecutors[0]?.state, 'FAILED');
});

test('LaunchExecutor with flint:executor on a worker without a Flint home ends FAILED, not in a throw', () => {
  const h = new Harness(testConfig());
  h.register();
  const effects = h.fromMaster(launchExecutor('app-1', 0, { appDesc: withMain('flint:executor') }));
  assert.equal(ofType(effects, 'Ask')[0]?.message.state, 'FAILED');
});

test('LaunchDriver with flint:driver runs <flintHome>/src/entry/driver.ts', () => {
  const h = registered();
  const desc = driverDesc();
  const effects = h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-1', driverDesc: { ...desc, command: { ...desc.command, mainModule: 'flint:driver' } } });
  assert.equal(ofType(effects, 'LaunchDriver')[0]?.spec.argv[1], `${HOME}/src/entry/driver.ts`);
});

test('LaunchDriver with an unknown flint: name ends ERROR with the reason (a launch failure), resources freed', () => {
  const h = registered();
  const desc = driverDesc();
  const effects = h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-1', driverDesc: { ...desc, command: { ...desc.command, mainModule: 'flint:submit' } } });
  assert.equal(ofType(effects, 'LaunchDriver').length, 0);
  const changed = sent(effects, 'DriverStateChanged')[0]?.message;
  assert.equal(changed?.state, 'ERROR');
  assert.match(changed?.exception ?? '', /Unknown Flint program "flint:submit"/);
  assert.equal(h.machine.snapshot().coresUsed, 0);
  assert.equal(h.timers.has('DriverRelaunch:driver-1'), false, 'a supervised driver that cannot be launched is not relaunched');
});
