// What bench/master.ts (the parent) and bench/master-workers.ts (a process simulating many workers) share:
// the simulator's configuration, its line protocol, and how a simulated worker is named.
//
// The parent starts the simulator with one argument, a SimConfig in JSON. The simulator prints lines that
// start with SIM_MARKER followed by a SimEvent in JSON on stdout, and reads commands from stdin, one a line:
// `register` (start the registration storm), `stats` (answer with a `stats` event), `stop` (exit). It exits
// when stdin closes, so it never outlives the parent for long.

/** Starts every line the simulator prints for the parent; the rest of the line is a SimEvent in JSON. */
export const SIM_MARKER = 'FLINT_BENCH_SIM ';

export interface SimConfig {
  /** The master's env id, `flint://127.0.0.1:<rpcPort>`: what every simulated worker dials. */
  readonly masterEnv: string;
  /** What RegisterWorker carries as `masterAddress` (the URL the worker was given); the master echoes it. */
  readonly masterUrl: string;
  /** Global index of this process's first worker (names and loopback addresses come from the index). */
  readonly first: number;
  readonly count: number;
  readonly cores: number;
  readonly memoryMb: number;
  /** Every worker heartbeats this often (a quarter of flint.worker.timeout, as the Worker does). */
  readonly heartbeatMs: number;
  /** Registrations in flight at most (connecting, handshaking or waiting for RegisteredWorker). */
  readonly inFlight: number;
  /** flint.authenticate.secret.file when the master authenticates; absent for an open master. */
  readonly secretFile?: string;
  /** The timestamp part of worker ids (Spark's `worker-yyyyMMddHHmmss-host-port`). */
  readonly idStamp: string;
}

export interface SimStats {
  readonly pid: number;
  readonly count: number;
  /** Registrations begun (connection opened, RegisterWorker queued). */
  readonly started: number;
  /** RegisteredWorker replies received (duplicate=false). */
  readonly registered: number;
  /** Epoch ms (performance.timeOrigin + now, sub-ms) when the first RegisterWorker was queued; 0 before. */
  readonly firstSendEpochMs: number;
  /** Epoch ms of the last RegisteredWorker reply; 0 before. */
  readonly lastReplyEpochMs: number;
  readonly heartbeatsSent: number;
  readonly latestStatesSent: number;
  /** Connections that closed, before or after registration. None is expected. */
  readonly closed: number;
  /** Messages from the master other than one RegisteredWorker per worker, by type. */
  readonly unexpected: Readonly<Record<string, number>>;
  /** Writes refused because a connection was over its high-water mark (should stay 0). */
  readonly backpressured: number;
}

export type SimEvent =
  | { readonly event: 'ready'; readonly pid: number }
  /** Every worker of this process got its RegisteredWorker. */
  | { readonly event: 'registered'; readonly stats: SimStats }
  | { readonly event: 'stats'; readonly stats: SimStats }
  /** Something the benchmark cannot go on with (a refused registration, a lost connection, a crash). */
  | { readonly event: 'failed'; readonly reason: string };

/** The port every simulated worker claims: each has its own loopback address, as if on its own host. */
export const SIM_WORKER_PORT = 7078;

/**
 * The loopback address of worker `index`: 127.<10+a>.<b>.<c> with c in 1..250, so no address ends in .0 or
 * .255 and 10,000 workers fit under 127.10.x.x. Linux routes all of 127.0.0.0/8 to `lo`, so a socket can
 * bind any of them without configuration.
 */
export function simWorkerHost(index: number): string {
  const c = 1 + (index % 250);
  const rest = Math.floor(index / 250);
  const b = rest % 250;
  const a = 10 + Math.floor(rest / 250);
  if (a > 254) throw new RangeError(`worker index ${index} is too large for the simulated address plan`);
  return `127.${a}.${b}.${c}`;
}

/** The worker id, in Spark's shape `worker-<yyyyMMddHHmmss>-<host>-<port>`. */
export function simWorkerId(stamp: string, index: number): string {
  return `worker-${stamp}-${simWorkerHost(index)}-${SIM_WORKER_PORT}`;
}
