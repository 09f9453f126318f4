// Raw TCP connections for the tests of the RPC edge: a client that never says HELLO, from a chosen loopback address.

import { connect, type Socket } from 'node:net';

export interface RawConnection {
  readonly socket: Socket;
  /** The local address it connects from (the socket forgets it once destroyed). */
  readonly from: string;
  closed(): boolean;
}

/** Connects to 127.0.0.1:`port` from `localAddress`; reads and drops whatever comes, so a close is seen. */
export function rawConnect(port: number, localAddress = '127.0.0.1'): Promise<RawConnection> {
  return new Promise((resolve) => {
    let closed = false;
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    socket.on('error', () => {});
    socket.on('close', () => (closed = true));
    socket.resume();
    socket.once('connect', () => resolve({ socket, from: localAddress, closed: () => closed }));
    socket.once('close', () => resolve({ socket, from: localAddress, closed: () => true }));
  });
}
