// Two Connections (src/rpc/connection.ts) over a real loopback socket, handshake done, no authentication: for
// tests of one connection's own behaviour, below the RpcEnv. The client dials through the RPC transport
// (transport.ts), as an env does, unless `viaDataEvents` asks for a plain socket read through 'data' events.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Connection, type ConnectionHooks, type ConnectionOptions } from '../../src/rpc/connection.ts';
import { rpcTransport } from '../../src/rpc/transport.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { waitFor } from './process.ts';

export interface ConnectionPair {
  readonly client: Connection;
  /** The client's socket. */
  readonly socket: Socket;
  /** The server's end of the connection. */
  readonly accepted: Connection;
  close(): void;
}

function options(socket: Socket, role: 'client' | 'server', hooks: Partial<ConnectionHooks>, writeHighWaterBytes: number): ConnectionOptions {
  return {
    socket,
    role,
    localEnv: role === 'client' ? 'flint://127.0.0.1:1' : 'flint://127.0.0.1:2',
    dialed: role === 'client' ? 'flint://127.0.0.1:2' : undefined,
    credential: undefined,
    principal: 'daemon',
    keyring: undefined,
    maxFrameBytes: 1024 * 1024,
    handshakeTimeoutMs: 10_000,
    writeHighWaterBytes,
    logger: silentLogger,
    hooks: { onOpen: () => {}, onRequest: () => {}, onClose: () => {}, ...hooks },
  };
}

export async function openConnectionPair(opts: {
  client?: Partial<ConnectionHooks>;
  server?: Partial<ConnectionHooks>;
  viaDataEvents?: boolean;
  writeHighWaterBytes?: number;
}): Promise<ConnectionPair> {
  const highWater = opts.writeHighWaterBytes ?? 1024 * 1024;
  let serverOpen = false;
  let clientOpen = false;
  let accepted: Connection | undefined;
  const server: Server = createServer((s) => {
    accepted = new Connection(
      options(s, 'server', { ...opts.server, onOpen: (c) => ((serverOpen = true), opts.server?.onOpen?.(c)) }, highWater),
    );
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as { port: number }).port;
  const clientHooks = { ...opts.client, onOpen: (c: Connection) => ((clientOpen = true), opts.client?.onOpen?.(c)) };
  let client: Connection;
  let socket: Socket;
  if (opts.viaDataEvents === true) {
    socket = connect({ host: '127.0.0.1', port });
    client = new Connection(options(socket, 'client', clientHooks, highWater));
  } else {
    socket = rpcTransport(undefined, 10_000, silentLogger).connect('127.0.0.1', port, (chunk) => conn.receive(chunk));
    const conn = new Connection({ ...options(socket, 'client', clientHooks, highWater), dataFromTransport: true });
    client = conn;
  }
  await waitFor(() => serverOpen && clientOpen, { timeoutMs: 10_000, what: 'both ends of the handshake' });
  return {
    client,
    socket,
    accepted: accepted as Connection,
    close: () => {
      client.close();
      accepted?.close();
      server.close();
    },
  };
}
