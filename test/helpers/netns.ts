// Separate network hosts on one machine, for the tests under test/integration/hosts: Linux network namespaces
// (`ip netns`, Debian's iproute2) joined by veth pairs to a bridge that lives in a namespace of its own (the
// "switch"), so nothing here touches the host's own network and all traffic stays between the namespaces made.
//
//   switch namespace  flint-<pid>-<n>-sw:   br0 ── p0 ┐ ── p1 ┐ ── p2 ┐ …
//   host namespaces   flint-<pid>-<n>-<h>:        eth0 (10.X.Y.2)   eth0 (10.X.Y.3)   …, and lo up
//
// Each host has its own address in a private /24 (X and Y from the pid, so two runs on one machine do not look
// alike in `ip netns list`; the namespaces keep them apart anyway), and a name, `<h>.flint.test`, that every host
// resolves through its own /etc/hosts (ip netns exec bind-mounts /etc/netns/<namespace>/hosts over /etc/hosts).
// Processes run inside a host with `ip netns exec <namespace> <command> <args…>`: an argv array, never a shell.
//
// Faults: `unplug(h)` sets the switch's end of h's cable down (h sees NO-CARRIER, its packets go nowhere), and
// `partition(a, b)` drops what a and b send each other (blackhole routes on both), leaving both reachable by others.
//
// `destroy()` deletes every namespace made (the veths and the bridge go with them) and the /etc/netns entries;
// a process exit hook does the same for a test that never got there, and `NetnsLab.create` first sweeps the
// namespaces of earlier runs whose process is gone. `netnsUnavailable()` says why namespaces cannot be made here
// (not root, no CAP_NET_ADMIN, no `ip`), so a test can skip with that reason.

import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type SuiteContext } from 'node:test';
import { promisify } from 'node:util';
import { spawnChild, NODE_BIN, REPO_ROOT, type ChildHandle, type SpawnOptions } from './process.ts';

const run = promisify(execFile);
const PREFIX = 'flint-';
/** The DNS suffix of every host's name. */
export const DOMAIN = 'flint.test';
/** The interface of a host (in its own namespace) and the bridge (in the switch's). */
const HOST_IF = 'eth0';
const BRIDGE = 'br0';

/** One separate host: its namespace, its address and its name. */
export interface NetHost {
  /** The short name the test gave it (`a`, `master`, …). */
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  /** `<name>.flint.test`, resolvable on every host of the lab. */
  readonly dnsName: string;
  /** Its cable's end in the switch namespace. */
  readonly port: string;
}

/** Runs `ip <args>` (no shell), bounded; throws with ip's stderr. */
async function ip(args: readonly string[]): Promise<string> {
  try {
    return (await run('ip', [...args], { timeout: 15_000 })).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('the `ip` command is missing: run scripts/test-deps.sh as root (apt-get install iproute2)', { cause: err });
    throw new Error(`ip ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function namespaces(): Promise<string[]> {
  return (await ip(['netns', 'list'])).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== '');
}

function deleteNamespaceSync(namespace: string): void {
  try {
    execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    // already gone
  }
  rmSync(join('/etc/netns', namespace), { recursive: true, force: true });
}

/** Deletes the `flint-<pid>-…` namespaces of runs whose process is gone (a crashed earlier run left them). */
export async function sweepStaleNamespaces(): Promise<string[]> {
  const stale = (await namespaces()).filter((n) => {
    const pid = /^flint-(\d+)-/.exec(n)?.[1];
    return pid !== undefined && Number(pid) !== process.pid && !pidAlive(Number(pid));
  });
  for (const n of stale) deleteNamespaceSync(n);
  // The mount points of hostOwnDir (empty in this namespace).
  for (const entry of readdirSync('/etc')) {
    const pid = /^flint-(\d+)-\d+-/.exec(entry)?.[1];
    if (pid !== undefined && Number(pid) !== process.pid && !pidAlive(Number(pid))) rmSync(join('/etc', entry), { recursive: true, force: true });
  }
  return stale;
}

/**
 * Why separate hosts cannot be made on this machine, or undefined when they can: tries the real thing (adds a
 * namespace with its loopback up, and deletes it), so the reason is the system's own (not root, no
 * CAP_NET_ADMIN/CAP_SYS_ADMIN, no `ip` command).
 */
export async function netnsUnavailable(): Promise<string | undefined> {
  const probe = `${PREFIX}${process.pid}-probe`;
  try {
    await ip(['netns', 'add', probe]);
    await ip(['-n', probe, 'link', 'set', 'lo', 'up']);
    return undefined;
  } catch (err) {
    const uid = process.getuid?.();
    return `network namespaces cannot be made here (${uid === 0 ? 'as root' : `uid ${uid}, not root`}): ${(err as Error).message}`;
  } finally {
    deleteNamespaceSync(probe);
  }
}

/**
 * `describe(name, options, fn)` where separate hosts can be made; where they cannot (`skipReason`, from
 * netnsUnavailable or another missing piece), one test of that name that is skipped with the reason, so
 * `node --test` counts it as skipped and says why.
 */
export function describeOnHosts(skipReason: string | undefined, name: string, options: { timeout: number }, fn: (s: SuiteContext) => void): void {
  if (skipReason === undefined) describe(name, options, fn);
  else test(name, (t) => t.skip(skipReason));
}

let labs = 0;
const live = new Set<NetnsLab>();
process.once('exit', () => {
  for (const lab of live) lab.destroySync();
});

export class NetnsLab {
  readonly hosts: readonly NetHost[];
  readonly #base: string;
  readonly #switch: string;
  readonly #ownDirs: string[] = [];
  #destroyed = false;

  private constructor(base: string, hosts: readonly NetHost[]) {
    this.#base = base;
    this.#switch = `${base}-sw`;
    this.hosts = hosts;
  }

  /** Makes a switch and one host per name (at most 200), each cabled to the switch; resolves once all are up. */
  static async create(names: readonly string[]): Promise<NetnsLab> {
    if (names.length === 0 || names.length > 200) throw new RangeError(`a lab has 1 to 200 hosts, not ${names.length}`);
    for (const n of names) if (!/^[a-z][a-z0-9]{0,11}$/.test(n)) throw new RangeError(`host name ${JSON.stringify(n)}: expected 1–12 lower-case letters and digits`);
    if (new Set(names).size !== names.length) throw new RangeError(`host names must differ: ${names.join(', ')}`);
    await sweepStaleNamespaces();
    const seq = labs++;
    const base = `${PREFIX}${process.pid}-${seq}`;
    const subnet = `10.${64 + ((process.pid >> 8) % 128)}.${(process.pid + seq) % 256}`;
    const hosts = names.map((name, i): NetHost => ({ name, namespace: `${base}-${name}`, address: `${subnet}.${i + 2}`, dnsName: `${name}.${DOMAIN}`, port: `p${i}` }));
    const lab = new NetnsLab(base, hosts);
    live.add(lab);
    try {
      await lab.#build(subnet);
    } catch (err) {
      lab.destroySync();
      throw err;
    }
    return lab;
  }

  async #build(subnet: string): Promise<void> {
    const sw = this.#switch;
    await ip(['netns', 'add', sw]);
    await ip(['-n', sw, 'link', 'set', 'lo', 'up']);
    await ip(['-n', sw, 'link', 'add', BRIDGE, 'type', 'bridge']);
    await ip(['-n', sw, 'link', 'set', BRIDGE, 'up']);
    const hostsFile = ['127.0.0.1 localhost', '::1 localhost', ...this.hosts.map((h) => `${h.address} ${h.dnsName} ${h.name}`), ''].join('\n');
    for (const h of this.hosts) {
      await ip(['netns', 'add', h.namespace]);
      await ip(['-n', h.namespace, 'link', 'set', 'lo', 'up']);
      // Made in the switch's namespace, the host's end moved straight into the host's: nothing in the root one.
      await ip(['-n', sw, 'link', 'add', h.port, 'type', 'veth', 'peer', 'name', HOST_IF, 'netns', h.namespace]);
      await ip(['-n', sw, 'link', 'set', h.port, 'master', BRIDGE]);
      await ip(['-n', sw, 'link', 'set', h.port, 'up']);
      await ip(['-n', h.namespace, 'addr', 'add', `${h.address}/24`, 'dev', HOST_IF]);
      await ip(['-n', h.namespace, 'link', 'set', HOST_IF, 'up']);
      mkdirSync(join('/etc/netns', h.namespace), { recursive: true });
      writeFileSync(join('/etc/netns', h.namespace, 'hosts'), hostsFile);
    }
    const routes = await ip(['-n', this.hosts[0]?.namespace ?? sw, 'route', 'show']);
    if (!routes.includes(`${subnet}.0/24`)) throw new Error(`the host network ${subnet}.0/24 has no route: ${routes}`);
  }

  /** The host named `name`; throws naming the hosts there are. */
  host(name: string): NetHost {
    const h = this.hosts.find((x) => x.name === name);
    if (h === undefined) throw new Error(`no host ${JSON.stringify(name)} in this lab (hosts: ${this.hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  /** Spawns `command args…` inside `host` (ip netns exec execs it: the handle's pid is the command's own). */
  spawn(host: NetHost, command: string, args: readonly string[], options: SpawnOptions = {}): ChildHandle {
    return spawnChild('ip', ['netns', 'exec', host.namespace, command, ...args], { label: `${command} on ${host.name}`, ...options });
  }

  /** Runs a TypeScript file of this repo with the project's Node 24 inside `host`. */
  spawnNode(host: NetHost, script: string, args: readonly string[], options: SpawnOptions = {}): ChildHandle {
    return this.spawn(host, NODE_BIN, [join(REPO_ROOT, script), ...args], { label: `${script} on ${host.name}`, ...options });
  }

  /** Runs a short command inside `host` and returns its stdout (bounded). */
  exec(host: NetHost, command: string, args: readonly string[]): Promise<string> {
    return ip(['netns', 'exec', host.namespace, command, ...args]);
  }

  /**
   * A directory at one path, `/etc/flint-<pid>-<n>-<name>`, that is each host's own, as `/etc/flint/tls` is on
   * every node of a real cluster: a process on a host sees there what was written to `on(host)`. (ip netns exec
   * bind-mounts `/etc/netns/<namespace>/<entry>` over `/etc/<entry>`; the directory at `path` itself stays empty.)
   * Write the files before starting the processes that read them.
   */
  hostOwnDir(name: string): { readonly path: string; on(host: NetHost): string } {
    if (!/^[a-z][a-z0-9-]{0,19}$/.test(name)) throw new RangeError(`directory name ${JSON.stringify(name)}: expected lower-case letters, digits and dashes`);
    const entry = `${this.#base}-${name}`;
    mkdirSync(join('/etc', entry));
    this.#ownDirs.push(join('/etc', entry));
    for (const h of this.hosts) mkdirSync(join('/etc/netns', h.namespace, entry), { mode: 0o700 });
    return { path: join('/etc', entry), on: (host) => join('/etc/netns', host.namespace, entry) };
  }

  /** Unplugs `host`'s cable at the switch: the host's link loses its carrier; nothing reaches it or leaves it. */
  unplug(host: NetHost): Promise<string> {
    return ip(['-n', this.#switch, 'link', 'set', host.port, 'down']);
  }

  /** Plugs the cable back in. */
  plug(host: NetHost): Promise<string> {
    return ip(['-n', this.#switch, 'link', 'set', host.port, 'up']);
  }

  /** Drops everything `a` and `b` send each other (blackhole routes on both); both still reach every other host. */
  async partition(a: NetHost, b: NetHost): Promise<void> {
    await ip(['-n', a.namespace, 'route', 'add', 'blackhole', `${b.address}/32`]);
    await ip(['-n', b.namespace, 'route', 'add', 'blackhole', `${a.address}/32`]);
  }

  /** Heals a `partition(a, b)`. */
  async heal(a: NetHost, b: NetHost): Promise<void> {
    await ip(['-n', a.namespace, 'route', 'del', 'blackhole', `${b.address}/32`]);
    await ip(['-n', b.namespace, 'route', 'del', 'blackhole', `${a.address}/32`]);
  }

  /** Deletes the hosts and the switch. Kill the processes in them first (a namespace lives while they do). */
  async destroy(): Promise<void> {
    this.destroySync();
  }

  destroySync(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    live.delete(this);
    for (const h of this.hosts) deleteNamespaceSync(h.namespace);
    deleteNamespaceSync(this.#switch);
    for (const dir of this.#ownDirs) rmSync(dir, { recursive: true, force: true });
  }
}
