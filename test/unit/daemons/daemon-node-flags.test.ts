// The daemons' Node flags (docs/configuration.md "Node flags for the daemons"): bin/flint and LocalCluster give
// master and workers the same default, FLINT_DAEMON_NODE_OPTS replaces it, and words that are not flags are refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_DAEMON_NODE_OPTS, daemonNodeFlags } from '../../../src/daemons/local-cluster.ts';
import { ConfigError } from '../../../src/errors.ts';

test('bin/flint and LocalCluster hold the same default daemon flags, and Node starts with them', () => {
  const script = readFileSync(new URL('../../../bin/flint', import.meta.url), 'utf8');
  const inScript = /\$\{FLINT_DAEMON_NODE_OPTS-([^}]*)\}/.exec(script)?.[1];
  assert.equal(inScript, DEFAULT_DAEMON_NODE_OPTS);
  // Node exits with 9 ("bad option") on a flag neither it nor V8 knows.
  const run = spawnSync(process.execPath, [...daemonNodeFlags({}), '-e', 'process.stdout.write("ran")'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.stderr, '');
  assert.equal(run.stdout, 'ran');
});

test('FLINT_DAEMON_NODE_OPTS replaces the default; empty means none; a word that is no flag is refused', () => {
  assert.deepEqual(daemonNodeFlags({}), DEFAULT_DAEMON_NODE_OPTS.split(' '));
  assert.deepEqual(daemonNodeFlags({ FLINT_DAEMON_NODE_OPTS: '--max-old-space-size=512' }), ['--max-old-space-size=512']);
  assert.deepEqual(daemonNodeFlags({ FLINT_DAEMON_NODE_OPTS: '' }), []);
  assert.throws(() => daemonNodeFlags({ FLINT_DAEMON_NODE_OPTS: '--trace-gc rm' }), (e: unknown) => e instanceof ConfigError && /FLINT_DAEMON_NODE_OPTS/.test(e.message));
});
