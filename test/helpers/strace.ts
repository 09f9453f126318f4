// Recording every byte a process tree writes, with strace (Debian's strace, installed by scripts/test-deps.sh):
// for tests that must show that something never crosses a socket, a pipe or a file. `--seccomp-bpf` stops the
// tracees only at the traced calls, so the daemons run at close to their normal speed.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor, type ChildHandle } from './process.ts';

const WRITE_CALLS = 'write,writev,sendto,sendmsg,sendmmsg,pwrite64,pwritev,pwritev2';

/** strace's arguments before the command: follow children, one output file per process (`<prefix>.<pid>`). */
export function straceArgs(prefix: string): string[] {
  return ['-f', '-ff', '--seccomp-bpf', '-qq', '-yy', '-xx', '-s', String(64 * 1024 * 1024), '-e', `trace=${WRITE_CALLS}`, '-o', prefix];
}

export interface TracedWrite {
  /** The strace output file: one per process. */
  readonly file: string;
  /** strace's description of the descriptor: `TCP:[a->b]`, `pipe:[n]`, a path, … */
  readonly target: string;
  /** `pipe`: a pipe or a Unix socket pair, the stdio channels between a parent and its child (Node's `pipe`). */
  readonly kind: 'tcp' | 'pipe' | 'file' | 'other';
  readonly data: Buffer;
}

const CALL = new RegExp(`^(?:${WRITE_CALLS.split(',').join('|')})\\(\\d+<(.*?)>, `);
const STRING = /"((?:\\x[0-9a-f]{2})*)"/g;

/** Every write recorded in the strace output files under `dir`, with its bytes. */
export function decodeStraceWrites(dir: string): TracedWrite[] {
  const writes: TracedWrite[] = [];
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    for (const line of readFileSync(file, 'latin1').split('\n')) {
      const call = CALL.exec(line);
      if (call === null) continue;
      const target = call[1] as string;
      const parts = [...line.matchAll(STRING)].map((m) => Buffer.from((m[1] as string).replaceAll('\\x', ''), 'hex'));
      writes.push({ file: name, target, kind: kindOf(target), data: Buffer.concat(parts) });
    }
  }
  return writes;
}

function kindOf(target: string): TracedWrite['kind'] {
  if (/^TCP(v6)?:/.test(target)) return 'tcp';
  if (target.startsWith('pipe:') || target.startsWith('UNIX-STREAM:')) return 'pipe';
  if (target.startsWith('/')) return 'file';
  return 'other';
}

/** Stops a traced program as an operator would (SIGTERM to the program, not to strace) and waits for strace. */
export async function stopTraced(strace: ChildHandle): Promise<void> {
  if (strace.exit !== undefined) return;
  for (const pid of childrenOf(strace.pid)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }
  await waitFor(() => strace.exit !== undefined, { timeoutMs: 20_000, intervalMs: 50, what: `${strace.label} to stop` }).catch(async () => {
    for (const pid of childrenOf(strace.pid)) process.kill(pid, 'SIGKILL');
    await strace.kill('SIGKILL');
  });
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
