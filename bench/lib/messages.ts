// Messages and constants shared by bench/rpc.ts (the client) and bench/rpc-peer.ts (the server).

import { Type } from '@sinclair/typebox';
import { ANY_ROLE, defineCatalog, message } from '../../src/protocol/catalog.ts';

/** The endpoint the peer hosts. */
export const PEER_ENDPOINT = 'BenchPeer';

/** The ~64-byte string carried by every Ping (and echoed by every Pong). */
export const PAYLOAD = 'flint-rpc-bench-payload-0123456789abcdefghijklmnopqrstuvwxyzABCDE';

export const BenchRequests = defineCatalog('BenchRequests', [
  // ask: answered with a Pong carrying the same seq and payload
  message('Ping', { seq: Type.Integer(), payload: Type.String() }),
  // one-way: counted
  message('Tick', { seq: Type.Integer() }),
  // ask: answered with Counted; every Tick sent before it on the same connection has been handled by then
  message('Count', {}),
  // ask: zeroes the Tick count; answered with Counted (the count before the reset)
  message('Reset', {}),
], ANY_ROLE);

export const BenchReplies = defineCatalog('BenchReplies', [
  message('Pong', { seq: Type.Integer(), payload: Type.String() }),
  message('Counted', { n: Type.Integer(), cpuUserUs: Type.Number(), cpuSystemUs: Type.Number() }),
], ANY_ROLE);

/** Starts the line the peer prints on stdout once both servers listen; a PeerReady in JSON follows it. */
export const READY_MARKER = 'FLINT_BENCH_PEER_READY ';

/** The peer's ready line. */
export interface PeerReady {
  readonly rpcEnv: string;
  readonly rawPort: number;
  readonly pid: number;
}
