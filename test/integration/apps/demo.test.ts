// `flint demo`, the main job, through bin/flint as a user runs it: it starts a cluster, runs pi, prints the
// result and the master's URL, and leaves no process behind, also when interrupted with Ctrl-C.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ChildGroup, processesOf, REPO_ROOT, spawnChild, waitFor, waitForChild, type ChildHandle } from '../../helpers/process.ts';

const children = new ChildGroup();
const clusterDirs = new Set<string>();
after(async () => {
  await children.killAll();
  // A test that failed before its Ctrl-C leaves the demo's cluster running once the demo is killed.
  for (const pid of [...clusterDirs].flatMap((dir) => processesOf(dir))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
});

function demo(args: string[]): ChildHandle {
  return children.add(spawnChild(join(REPO_ROOT, 'bin/flint'), ['demo', ...args], { label: 'flint demo' }));
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return ''; // exited meanwhile
  }
}

function logsDir(child: ChildHandle): string | undefined {
  const dir = /logs: (\S+)/.exec(child.stdoutLines.join('\n'))?.[1];
  if (dir !== undefined) clusterDirs.add(dir);
  return dir;
}

test('flint demo runs pi on a fresh local cluster and leaves nothing running', async () => {
  const run = demo(['--samples', '400000', '--slices', '8']);
  const dir = await waitForChild(run, () => logsDir(run), { timeoutMs: 60_000, what: 'the demo to start its cluster' });
  const exit = await run.exited;
  const out = run.stdoutLines.join('\n');
  assert.equal(exit.code, 0, `${out}\n${run.stderr()}`);
  assert.match(out, /Master: +flint:\/\/127\.0\.0\.1:\d+ +web UI and \/json: http:\/\/127\.0\.0\.1:\d+/);
  const pi = Number(/Pi is roughly (\d\.\d+)/.exec(out)?.[1]);
  assert.ok(Math.abs(pi - Math.PI) < 0.05, `π ≈ ${pi}`);
  assert.match(out, /Cluster stopped; nothing is left running\./);
  assert.deepEqual(processesOf(dir), [], 'no daemon or executor of the demo is left');
});

test('Ctrl-C stops the demo, its app and its cluster', async () => {
  const run = demo(['--samples', '4000000000', '--slices', '400']);
  const dir = await waitForChild(run, () => logsDir(run), { timeoutMs: 60_000, what: 'the demo to start its cluster' });
  // bin/flint runs the build, and so do the daemons and executors it starts. A worker's child caught between
  // fork and exec still shows the worker's command line: the daemons are counted by distinct command lines.
  const isDaemon = (c: string) => /\/dist\/builds\/[0-9a-f]{16}\/cli\.mjs (master|worker) /.test(c);
  const isExecutor = (c: string) => /\/dist\/builds\/[0-9a-f]{16}\/executor\.mjs /.test(c);
  let cmdlines: string[] = [];
  await waitForChild(
    run,
    () => {
      cmdlines = processesOf(dir).map((pid) => cmdlineOf(pid));
      return new Set(cmdlines.filter(isDaemon)).size >= 3 && cmdlines.some(isExecutor);
    },
    { timeoutMs: 60_000, what: 'the master, 2 workers and their executors to run' },
  );
  assert.equal(new Set(cmdlines.filter(isDaemon)).size, 3, cmdlines.join('\n'));
  run.killNow('SIGINT');
  const exit = await run.exited;
  assert.equal(exit.code, 130, run.stderr());
  assert.match(run.stdoutLines.join('\n'), /Cluster stopped/);
  await waitFor(() => processesOf(dir).length === 0, { timeoutMs: 15_000, what: 'every process of the demo to exit' });
});

/** The processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

test('Ctrl-C while the demo starts its cluster stops the daemons started so far', async () => {
  const run = demo(['--samples', '4000000000', '--slices', '400']);
  // bin/flint execs node (after building, if the build is stale): the demo is `run`'s own process, and the
  // daemons are its children.
  const daemonsOf = () => childrenOf(run.pid).filter((pid) => / (master|worker) /.test(cmdlineOf(pid)));
  const daemons = await waitForChild(run, () => daemonsOf().length >= 1 && daemonsOf(), { timeoutMs: 60_000, intervalMs: 5, what: 'the demo to spawn a daemon' });
  run.killNow('SIGINT');
  const exit = await run.exited;
  assert.equal(exit.code, 130, run.stderr());
  assert.match(run.stdoutLines.join('\n'), /Cluster stopped/, run.stderr());
  await waitFor(() => daemons.every((pid) => cmdlineOf(pid) === ''), { timeoutMs: 15_000, what: 'the daemons the demo started to exit' });
});
