// `flint <command> -h` and `--help` print the command's usage and exit 0, as `spark-submit -h` does
// (SparkSubmitOptionParser takes -h for --help). `flint master` and `flint worker` keep -h for --host, as Spark's
// start-master.sh and start-worker.sh do, and take --help only. A misspelled key is warned about. Run through the
// real bin/flint.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../helpers/process.ts';

function flint(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(join(REPO_ROOT, 'bin', 'flint'), args, { encoding: 'utf8', timeout: 120_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr.replace(/^flint: built .*\n/m, '') };
}

test('-h and --help print a command\'s usage and exit 0: submit, demo, plan and the operators\' commands', { timeout: 300_000 }, () => {
  for (const command of ['submit', 'demo', 'plan', 'status', 'apps', 'logs', 'kill', 'decommission']) {
    for (const flag of ['-h', '--help']) {
      const run = flint(command, flag);
      assert.equal(run.code, 0, `flint ${command} ${flag}: ${run.stderr}`);
      assert.match(run.stdout, new RegExp(`^Usage: flint ${command} `), `flint ${command} ${flag}`);
      assert.match(run.stdout, /-h, --help +show this help/, `flint ${command} ${flag} lists -h`);
      assert.equal(run.stderr, '', `flint ${command} ${flag}`);
    }
  }
});

test('flint master and flint worker take -h as --host (as Spark\'s scripts do) and --help for help', { timeout: 120_000 }, () => {
  for (const command of ['master', 'worker']) {
    const help = flint(command, '--help');
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /-h, --host <host>/);
    const missing = flint(command, '-h');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /option '-h, --host <host>' argument missing/);
  }
});

test('a flint.* key Flint does not read is warned about on stderr, with the nearest known key', { timeout: 120_000 }, () => {
  const run = flint('plan', '--master', 'flint://127.0.0.1:1', '--conf', 'flint.executor.memroy=2g', '--conf', 'flint.my.own.setting=1');
  assert.match(run.stderr, /^flint: warning: flint\.executor\.memroy \(--conf, the properties file or the OPTS variables\) is not a key Flint reads; it is ignored\. Did you mean flint\.executor\.memory\?$/m);
  assert.match(run.stderr, /^flint: warning: flint\.my\.own\.setting \(.*\) is not a key Flint reads; it is ignored \(the keys: docs\/configuration\.md\)$/m);
  const known = flint('plan', '--master', 'flint://127.0.0.1:1', '--conf', 'flint.executor.memory=2g');
  assert.doesNotMatch(known.stderr, /warning/);
});

test('flint --help lists every command in order, and a misspelt command gets the nearest name', { timeout: 120_000 }, () => {
  for (const args of [['--help'], ['help']]) {
    const run = flint(...args);
    assert.equal(run.code, 0, `flint ${args.join(' ')}: ${run.stderr}`);
    const listed = [...run.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]);
    assert.deepEqual(listed, ['master', 'worker', 'submit', 'demo', 'status', 'apps', 'logs', 'kill', 'decommission', 'plan', 'help'], run.stdout);
  }
  const typo = flint('sumbit', 'app.ts');
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /^error: unknown command 'sumbit'\n\(Did you mean submit\?\)/);
});
