// Recovery mode FILESYSTEM on real processes: the only master is restarted (kill -9) on the same address and
// recovery directory; its workers and its running app come back, and the job completes. Then the faults: a
// corrupt record and a missing one are logged and skipped, never fatal. Reference §8.2, §8.5; issue 5.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { logLine, newSecret, startWorker, untilMasterJson, writeSecretFile } from '../../helpers/daemons.ts';
import { freePort, startRecoveringMaster, startSumAppMidJob, sumAppCompletes } from '../../helpers/ha.ts';
import { ChildGroup, tail } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const children = new ChildGroup();
const dir = tempDir('flint-fs-recovery-');
const secretFile = writeSecretFile(join(dir, 'secret'), newSecret());
const recoveryDir = join(dir, 'recovery');
const CONF = ['flint.deploy.recoveryMode=FILESYSTEM', `flint.deploy.recoveryDirectory=${recoveryDir}`];

/**
 * Workers retry every 100–300 ms while the master restarts, for as long as the test waits (a worker's quick
 * retries are its first `flint.worker.initialRegistrationRetries`; after them it waits 30–90 s, reference §2.1).
 */
const WORKER_CONF = ['flint.worker.registrationRetryInterval=200ms', 'flint.worker.initialRegistrationRetries=150', 'flint.worker.maxRegistrationRetries=160'];

describe('FILESYSTEM recovery mode', () => {
  after(async () => {
    await children.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test('restart the only master mid-job: its workers and app are recovered and the job completes', async () => {
    const port = await freePort();
    const masterUrl = `flint://127.0.0.1:${port}`;
    const master = await startRecoveringMaster(children, 'master', secretFile, port, CONF);
    const workers = await Promise.all(
      [1, 2].map((i) => startWorker(children, { label: `worker-${i}`, masterUrl, secretFile, workDir: join(dir, `w${i}`), cores: 2, memory: '1g', conf: WORKER_CONF })),
    );
    await untilMasterJson(master.webUiPort, (j) => j.status === 'ALIVE' && j.aliveworkers === 2, 'both workers ALIVE');
    const progress = mkdtempSync(join(dir, 'progress-'));
    const { app, appId, release } = await startSumAppMidJob(children, masterUrl, secretFile, progress);
    assert.deepEqual(readdirSync(recoveryDir).sort(), [`app_${appId}`, ...workers.map((w) => `worker_${w.workerId}`).sort()]);

    await master.child.kill('SIGKILL');
    const again = await startRecoveringMaster(children, 'master again', secretFile, port, CONF);
    await logLine(again.child, (l) => String(l['msg']).startsWith('I have been elected leader! New state: RECOVERING'), 'the restarted master to recover');
    const json = await untilMasterJson(
      again.webUiPort,
      (j) => j.status === 'ALIVE' && j.aliveworkers === 2 && j.activeapps.some((a) => a.id === appId && a.state === 'RUNNING'),
      'workers and app recovered',
      15_000,
    ).catch((err: Error) => {
      // Once seen with both CPUs busy (the app ended FINISHED 2 s into the recovery): say why, next time.
      const about = (text: string): string => text.split('\n').filter((l) => /app|recover|disconnect|disassociat|master/i.test(l)).join('\n');
      throw new Error(`${err.message}\n--- the restarted master:\n${tail(about(again.child.stderr()), 8_000)}\n--- the app:\n${tail(about(app.stderr()), 8_000)}`);
    });
    assert.deepEqual(json.workers.map((w) => w.id).sort(), workers.map((w) => w.workerId).sort());
    await logLine(again.child, (l) => /^Recovery complete in \d+ ms/.test(String(l['msg'])), 'recovery to complete');
    await sumAppCompletes(app, release);

    // Faults: one worker's record goes missing, another record is corrupt, a third is truncated.
    const [first, second] = workers;
    assert.ok(first && second);
    await again.child.kill('SIGKILL');
    rmSync(join(recoveryDir, `worker_${first.workerId}`));
    writeFileSync(join(recoveryDir, 'app_app-corrupt'), 'not a record at all');
    const good = readFileSync(join(recoveryDir, `worker_${second.workerId}`));
    writeFileSync(join(recoveryDir, 'worker_truncated'), good.subarray(0, good.length - 5));
    const third = await startRecoveringMaster(children, 'master third', secretFile, port, CONF);
    await logLine(third.child, (l) => l['msg'] === 'skipping an unreadable persisted record' && l['key'] === 'app_app-corrupt', 'the corrupt record to be skipped');
    await logLine(third.child, (l) => l['msg'] === 'skipping an unreadable persisted record' && l['key'] === 'worker_truncated', 'the truncated record to be skipped');
    // The recorded worker is recovered; the one whose record is gone registers anew when it reconnects.
    const after3 = await untilMasterJson(third.webUiPort, (j) => j.status === 'ALIVE' && j.aliveworkers === 2, 'both workers back after the faults', 15_000);
    assert.deepEqual(after3.workers.filter((w) => w.state === 'ALIVE').map((w) => w.id).sort(), [first.workerId, second.workerId].sort());
    assert.ok(third.child.alive, 'the master survived the bad files');
  });
});
