// Many simulated workers in one process, for bench/master.ts (run as its child, never on its own).
//
// Each simulated worker is a distinct peer to the master: its own TCP connection, from its own loopback
// address (127.10.x.y, see simWorkerHost), with its own env id `flint://127.10.x.y:7078` announced in the
// handshake, its own worker id, and RegisterWorker / WorkerLatestState / Heartbeat messages shaped exactly as
// the Worker sends them. The connection is Flint's own `Connection` (src/rpc/connection.ts: the framing,
// handshake with authentication, and batched writes every RpcEnv uses), so the master sees the same bytes as
// from real workers. What a simulated worker does not have is a listening socket: the master answers a worker
// over the connection that worker opened (the RpcEnv registers an inbound connection under the env id its
// HELLO announced), exactly as it answers a real one, so it never needs to dial back. If it ever tried, the
// dial would be refused and the connection count in the stats would show it.
//
// The life of one worker: connect → handshake → RegisterWorker → RegisteredWorker → WorkerLatestState and an
// immediate Heartbeat (the Worker arms its heartbeat timer at 0 on registration) → a Heartbeat every
// `heartbeatMs`, at a phase drawn at random per worker so the load is spread over the interval. One timer
// wheel drives every heartbeat of the process.

import { randomInt } from 'node:crypto';
import { connect } from 'node:net';
import { FlintConf } from '../src/conf/flint-conf.ts';
import type { WorkerToMaster } from '../src/protocol/messages.ts';
import { Connection } from '../src/rpc/connection.ts';
import { readRpcSettings } from '../src/rpc/rpc-env.ts';
import { Kind, type Envelope } from '../src/rpc/wire.ts';
import { silentLogger } from '../src/util/logger.ts';
import { SIM_MARKER, SIM_WORKER_PORT, simWorkerHost, simWorkerId, type SimConfig, type SimEvent, type SimStats } from './lib/master-sim.ts';

const TICK_MS = 100;
const WRITE_HIGH_WATER_BYTES = 16 * 1024 * 1024;

interface SimWorker {
  readonly id: string;
  readonly address: string;
  readonly conn: Connection;
  registered: boolean;
}

const config = JSON.parse(process.argv[2] ?? '{}') as SimConfig;
const conf = new FlintConf(
  config.secretFile === undefined
    ? [['flint.authenticate', 'false']]
    : [
        ['flint.authenticate', 'true'],
        ['flint.authenticate.secret.file', config.secretFile],
      ],
);
const settings = readRpcSettings(conf);
const epochNow = (): number => performance.timeOrigin + performance.now();

const workers: SimWorker[] = [];
const unexpected: Record<string, number> = {};
let started = 0;
let registered = 0;
let heartbeatsSent = 0;
let latestStatesSent = 0;
let closed = 0;
let backpressured = 0;
let firstSendEpochMs = 0;
let lastReplyEpochMs = 0;
let nextToStart = 0;
let failed = false;

function emit(event: SimEvent): void {
  process.stdout.write(`${SIM_MARKER}${JSON.stringify(event)}\n`);
}

function fail(reason: string): void {
  if (failed) return;
  failed = true;
  emit({ event: 'failed', reason });
}

function stats(): SimStats {
  return {
    pid: process.pid,
    count: config.count,
    started,
    registered,
    firstSendEpochMs,
    lastReplyEpochMs,
    heartbeatsSent,
    latestStatesSent,
    closed,
    unexpected: { ...unexpected },
    backpressured,
  };
}

function sendToMaster(w: SimWorker, body: WorkerToMaster): boolean {
  if (w.conn.isClosed) return false;
  w.conn.send({ kind: Kind.SEND, endpoint: 'Master', body });
  if (w.conn.needsDrain) backpressured++;
  return true;
}

// ---- heartbeats: one wheel of TICK_MS slots over the interval -------------------------------------------

const slots: SimWorker[][] = Array.from({ length: Math.max(1, Math.round(config.heartbeatMs / TICK_MS)) }, () => []);
let wheelStart = 0;
let ticksDone = 0;
let wheel: NodeJS.Timeout | undefined;

function beat(w: SimWorker): void {
  if (sendToMaster(w, { type: 'Heartbeat', workerId: w.id, workerAddress: w.address })) heartbeatsSent++;
}

function turnWheel(): void {
  const due = Math.floor((performance.now() - wheelStart) / TICK_MS);
  for (; ticksDone <= due; ticksDone++) {
    for (const w of slots[ticksDone % slots.length] as SimWorker[]) beat(w);
  }
}

// ---- registration ---------------------------------------------------------------------------------------

function onRegistered(w: SimWorker): void {
  if (w.registered) {
    unexpected['RegisteredWorker(again)'] = (unexpected['RegisteredWorker(again)'] ?? 0) + 1;
    return;
  }
  w.registered = true;
  registered++;
  lastReplyEpochMs = epochNow();
  // As the Worker does on RegisteredWorker: report what it runs (nothing), then heartbeat at once.
  if (sendToMaster(w, { type: 'WorkerLatestState', id: w.id, executors: [], driverIds: [] })) latestStatesSent++;
  beat(w);
  (slots[randomInt(slots.length)] as SimWorker[]).push(w);
  startNext();
  if (registered === config.count) emit({ event: 'registered', stats: stats() });
}

function onMessage(w: SimWorker, envelope: Envelope): void {
  if (envelope.kind !== Kind.SEND) {
    const what = `kind ${envelope.kind}`;
    unexpected[what] = (unexpected[what] ?? 0) + 1;
    return;
  }
  const body = envelope.body as { type?: unknown; duplicate?: unknown } | null;
  const type = typeof body?.type === 'string' ? body.type : '(no type)';
  if (type === 'RegisteredWorker' && body?.duplicate === false) return onRegistered(w);
  unexpected[type] = (unexpected[type] ?? 0) + 1;
  if (type === 'RegisterWorkerFailed' || type === 'MasterInStandby') fail(`worker ${w.id} got ${type}: ${JSON.stringify(body)}`);
}

function startWorker(index: number): void {
  const host = simWorkerHost(index);
  const id = simWorkerId(config.idStamp, index);
  const address = `flint://Worker@${host}:${SIM_WORKER_PORT}`;
  const { host: masterHost, port: masterPort } = parseEnv(config.masterEnv);
  const socket = connect({ host: masterHost, port: masterPort, localAddress: host, noDelay: true });
  const holder: { w?: SimWorker } = {};
  const conn = new Connection({
    socket,
    role: 'client',
    localEnv: `flint://${host}:${SIM_WORKER_PORT}`,
    dialed: config.masterEnv,
    credential: settings.secret === undefined ? undefined : { principal: 'daemon', key: settings.secret },
    principal: 'daemon',
    keyring: undefined,
    maxFrameBytes: settings.maxFrameBytes,
    handshakeTimeoutMs: settings.connectTimeoutMs,
    writeHighWaterBytes: WRITE_HIGH_WATER_BYTES,
    logger: silentLogger,
    hooks: {
      onOpen: () => {},
      onRequest: (_conn, envelope) => {
        if (holder.w) onMessage(holder.w, envelope);
      },
      onClose: (_conn, failure) => {
        closed++;
        const w = holder.w;
        if (w && !w.registered) fail(`worker ${w.id} lost its connection before registering: ${failure?.message ?? 'closed'}`);
      },
    },
  });
  const w: SimWorker = { id, address, conn, registered: false };
  holder.w = w;
  workers.push(w);
  started++;
  if (firstSendEpochMs === 0) firstSendEpochMs = epochNow();
  // Queued now, written as soon as the handshake is done (the same order a real Worker's RpcEnv keeps).
  sendToMaster(w, {
    type: 'RegisterWorker',
    id,
    host,
    port: SIM_WORKER_PORT,
    workerAddress: address,
    cores: config.cores,
    memoryMb: config.memoryMb,
    workerWebUiUrl: `http://${host}:8081`,
    masterAddress: config.masterUrl,
  });
}

function startNext(): void {
  if (failed) return;
  while (nextToStart < config.count && started - registered < config.inFlight) {
    startWorker(config.first + nextToStart);
    nextToStart++;
  }
}

function parseEnv(env: string): { host: string; port: number } {
  const match = /^flint:\/\/([^:/]+):(\d+)$/.exec(env);
  if (!match) throw new Error(`not a flint://host:port env id: ${env}`);
  return { host: match[1] as string, port: Number(match[2]) };
}

function register(): void {
  if (wheel !== undefined) return;
  wheelStart = performance.now();
  wheel = setInterval(turnWheel, TICK_MS);
  startNext();
}

// ---- lifecycle ------------------------------------------------------------------------------------------

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  clearInterval(wheel);
  for (const w of workers) w.conn.close();
  setTimeout(() => process.exit(0), 200).unref();
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  input += chunk;
  for (let nl = input.indexOf('\n'); nl >= 0; nl = input.indexOf('\n')) {
    const command = input.slice(0, nl).trim();
    input = input.slice(nl + 1);
    if (command === 'register') register();
    else if (command === 'stats') emit({ event: 'stats', stats: stats() });
    else if (command === 'stop') stop();
  }
});
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('uncaughtException', (err) => {
  fail(`simulator crashed: ${err.stack ?? err.message}`);
  process.exit(1);
});

emit({ event: 'ready', pid: process.pid });
