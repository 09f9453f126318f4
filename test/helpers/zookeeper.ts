// A real standalone ZooKeeper server for integration tests: Debian's `zookeeper` package (scripts/test-deps.sh
// installs it), run with `java` directly on the package's jar (its manifest's Class-Path names the other
// jars), on a free loopback port, with its own temp conf and data directory. tickTime is 200 ms, so sessions
// may be as short as 400 ms (the server clamps a session to [2, 20] ticks).
//
// `stop()` kills the server and keeps its data directory and port; `start()` brings it back on both (a restart
// as the masters would see it); `destroy()` stops it and removes the directory. Always `destroy()` in after().

import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/daemons/local-cluster.ts';
import { spawnChild, waitFor, type ChildHandle } from './process.ts';

const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
export const TICK_MS = 200;

export function zooKeeperInstalled(): boolean {
  return existsSync(ZOOKEEPER_JAR) && existsSync('/usr/bin/java');
}

/** Sends a four-letter word (to `host`, loopback by default) and returns the server's whole answer ('' when nothing answers). */
export function fourLetterWord(port: number, word: string, timeoutMs = 1_000, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = createConnection({ host, port });
    const done = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, done);
    socket.once('connect', () => socket.write(word));
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.once('error', done);
    socket.once('close', done);
  });
}

/**
 * Listens on a ZooKeeper server's port (while that server is down), accepts connections and never answers nor
 * closes them: what ZooKeeper 3.8.0 does with a connection made while it starts (it refuses the handshake,
 * then fails to close the connection). `stopListening()` frees the port for the real server and keeps the
 * connections open; `destroy()` closes them.
 */
export class SilentListener {
  readonly connections: Socket[] = [];
  readonly #server = createServer((socket) => {
    socket.on('error', () => {});
    this.connections.push(socket);
  });

  static async listen(port: number): Promise<SilentListener> {
    const listener = new SilentListener();
    await new Promise<void>((resolve, reject) => {
      listener.#server.once('error', reject);
      listener.#server.listen(port, '127.0.0.1', () => resolve());
    });
    return listener;
  }

  /** Waits until a client connected (it is then waiting for a handshake answer that never comes). */
  accepted(timeoutMs = 10_000): Promise<void> {
    return waitFor(() => this.connections.length > 0, { timeoutMs, intervalMs: 20, what: 'a client to connect to the silent listener' }).then(() => undefined);
  }

  /** Frees the port at once (`close`'s callback would wait for the held connections to end). */
  stopListening(): void {
    this.#server.close();
  }

  destroy(): void {
    for (const socket of this.connections) socket.destroy();
    this.#server.close();
  }
}

/** Writes `<dir>/zoo.cfg`: a standalone server on address:port, its data in `<dir>/data`, a 200 ms tick. */
export async function writeZooKeeperConfig(dir: string, port: number, address: string): Promise<void> {
  await writeFile(
    join(dir, 'zoo.cfg'),
    [
      `tickTime=${TICK_MS}`,
      `dataDir=${join(dir, 'data')}`,
      `clientPort=${port}`,
      `clientPortAddress=${address}`,
      'maxClientCnxns=0',
      'admin.enableServer=false',
      '4lw.commands.whitelist=*',
      '',
    ].join('\n'),
  );
}

/** The `java` arguments that run the server configured in `<dir>/zoo.cfg` (a small heap, quick start-up). */
export function zooKeeperJavaArgs(dir: string): string[] {
  return [
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Dzookeeper.admin.enableServer=false',
    '-cp',
    ZOOKEEPER_JAR,
    'org.apache.zookeeper.server.ZooKeeperServerMain',
    join(dir, 'zoo.cfg'),
  ];
}

export class ZooKeeperServer {
  readonly port: number;
  readonly dir: string;
  #child: ChildHandle | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  /** The connect string clients use. */
  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child?.alive === true;
  }

  static async start(timeoutMs = 30_000): Promise<ZooKeeperServer> {
    const server = await ZooKeeperServer.prepare();
    try {
      await server.start(timeoutMs);
    } catch (err) {
      await server.destroy();
      throw err;
    }
    return server;
  }

  /** A server with its port, conf and data directory, not started yet (for tests of a ZooKeeper that is down). */
  static async prepare(): Promise<ZooKeeperServer> {
    if (!zooKeeperInstalled()) throw new Error(`ZooKeeper is not installed (${ZOOKEEPER_JAR}); run scripts/test-deps.sh as root`);
    const dir = await mkdtemp(join(tmpdir(), 'flint-zookeeper-'));
    const server = new ZooKeeperServer(await freePort(), dir);
    await writeZooKeeperConfig(dir, server.port, '127.0.0.1');
    return server;
  }

  /** The server's output so far (its log goes to stdout), for test failures. */
  output(): string {
    const child = this.#child;
    return child === undefined ? '(not running)' : `${child.stdoutLines.slice(-40).join('\n')}\n${child.stderr().slice(-2_000)}`;
  }

  /** Starts the server (again) on the same port and data directory and waits until it serves requests (`srvr`). */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.running) return;
    const child = spawnChild('java', zooKeeperJavaArgs(this.dir), { label: `zookeeper:${this.port}` });
    this.#child = child;
    await waitFor(
      async () => {
        if (!child.alive) throw new Error(`ZooKeeper exited during start-up: ${child.stderr().slice(-2_000)}`);
        // `ruok` answers before the server serves requests; `srvr` reports the mode only once it does.
        return (await fourLetterWord(this.port, 'srvr', 500)).includes('Mode: standalone');
      },
      { timeoutMs, intervalMs: 50, what: `ZooKeeper to serve requests on ${this.url}` },
    );
  }

  /** Kills the server (SIGKILL, as a crash) and waits for it to exit; the data directory stays. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child !== undefined) await child.kill('SIGKILL');
  }

  async restart(timeoutMs?: number): Promise<void> {
    await this.stop();
    await this.start(timeoutMs);
  }

  /** Stops the server and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
