// The RPC env's sockets: plain TCP (node:net), or TLS (node:tls) when `flint.ssl.rpc.enabled` (or
// `flint.ssl.enabled`) is on. A TLSSocket is a Socket, so Connection and the HMAC handshake above it are the
// same either way: authentication (flint.authenticate) and encryption are independent, as in Spark.
//
// Server certificates are checked against `flint.ssl.trustedCaFile` (Node's bundled CAs when it is not set)
// and against the host the peer was dialed by (`flint://host:port`): a DNS name must be in the certificate's
// subjectAltName, an IP address among its IP entries. Spark's RPC TLS checks neither the host name nor, without
// a trust store, the CA; Flint always checks both and has no switch to skip them (docs/security.md, "TLS").

import { isIP, createServer as createTcpServer, connect as connectTcp, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tlsModule, type SslOptions } from '../io/tls/ssl-options.ts';
import type { Logger } from '../util/logger.ts';

export interface RpcTransport {
  /** `tls` when the env's sockets are TLS, for logs. */
  readonly kind: 'tcp' | 'tls';
  /** A server calling `onSocket` with each accepted connection (for TLS: once its TLS handshake is done). */
  createServer(onSocket: (socket: Socket) => void): Server;
  /**
   * A socket dialing `host:port`, whose bytes go to `onData` (not to 'data' events); errors surface as its 'error'
   * event, with a message saying what to fix.
   */
  connect(host: string, port: number, onData: (chunk: Buffer) => void): Socket;
}

/**
 * Where a dialed TCP socket's bytes land (Node's `onread`), before each read is copied out to the connection: a
 * read skips the stream's machinery (push, 'data', and the read-more tick that follows every chunk), about 0.5 µs
 * an ask on the dialing side. One for the process: reads are handled one at a time, and copied before the next.
 */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/** Plain TCP, or TLS with `ssl`. `handshakeTimeoutMs` bounds a TLS handshake (flint.rpc.connect.timeout). */
export function rpcTransport(ssl: SslOptions | undefined, handshakeTimeoutMs: number, logger: Logger): RpcTransport {
  if (ssl === undefined) {
    return {
      kind: 'tcp',
      createServer: (onSocket) =>
        createTcpServer({ noDelay: true }, (socket) => {
          socket.once('data', (chunk: Buffer) => {
            if (isTlsRecord(chunk)) {
              logger.warn(
                { remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` },
                'a peer opened TLS on this plain RPC port; turn flint.ssl.rpc.enabled (or flint.ssl.enabled) on here too, or off there',
              );
            }
          });
          onSocket(socket);
        }),
      connect: (host, port, onData) => {
        const socket = connectTcp({
          host,
          port,
          noDelay: true,
          onread: {
            buffer: READ_BUFFER,
            callback: (bytes: number): boolean => {
              const chunk = Buffer.allocUnsafe(bytes);
              READ_BUFFER.copy(chunk, 0, 0, bytes);
              onData(chunk);
              return true; // reading goes on; the connection pauses the socket itself when it must
            },
          },
        });
        // A TLS server hangs up on a plain hello without a word. Say what that most likely means, rather than
        // a bare "closed" (the 'error' comes before 'close', so Connection reports this message).
        socket.once('end', () => {
          if (socket.bytesRead === 0) {
            socket.destroy(new Error(`${host}:${port} closed the connection without answering; if it has TLS on, set flint.ssl.rpc.enabled=true (or flint.ssl.enabled=true) here too`));
          }
        });
        return socket;
      },
    };
  }
  return {
    kind: 'tls',
    createServer: (onSocket) => {
      const server = tlsModule().createServer({
        ...ssl.secureContext,
        requestCert: ssl.needClientAuth,
        rejectUnauthorized: ssl.needClientAuth,
        handshakeTimeout: handshakeTimeoutMs,
        noDelay: true,
      });
      server.on('secureConnection', onSocket);
      server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
        logger.warn(
          { remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, code: err.code, reason: err.message },
          `refused a connection that failed the TLS handshake (${inboundReason(err, ssl)})`,
        );
      });
      return server;
    },
    connect: (host, port, onData) => {
      const socket = tlsModule().connect({
        ...ssl.secureContext,
        host,
        port,
        // SNI takes names only; an IP address is checked against the certificate's IP entries instead.
        ...(isIP(host) === 0 ? { servername: host } : {}),
      }); // Connection sets no-delay on every socket it owns
      // Runs before Connection's own listener, which reports err.message: make that message say what to fix.
      socket.prependListener('error', (err: NodeJS.ErrnoException) => {
        err.message = `TLS to ${host}:${port}: ${outboundReason(err, ssl)}`;
      });
      socket.on('data', onData);
      return socket;
    },
  };
}

/** A TLS handshake or alert record: content type 0x16 or 0x15, then major version 3. */
function isTlsRecord(chunk: Buffer): boolean {
  return chunk.length >= 2 && (chunk[0] === 0x16 || chunk[0] === 0x15) && chunk[1] === 0x03;
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

function trusted(ssl: SslOptions): string {
  return ssl.trustedCaFile === undefined ? "Node's bundled CAs (flint.ssl.trustedCaFile is not set)" : `flint.ssl.trustedCaFile (${ssl.trustedCaFile})`;
}

/** What a dialing env's TLS failure means, in terms of the keys to check. */
function outboundReason(err: NodeJS.ErrnoException, ssl: SslOptions): string {
  const code = err.code ?? '';
  if (UNTRUSTED.has(code)) return `the server's certificate is not signed by a CA in ${trusted(ssl)} [${code}]`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the server's certificate does not name the host it was dialed by (${err.message}); its subjectAltName must list that host [${code}]`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `the server's certificate is not valid now [${code}]`;
  if (/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE|UNKNOWN_CA/.test(code)) {
    return `the server refused this process's certificate (it requires mutual TLS: set flint.ssl.keyFile and flint.ssl.certFile to a certificate signed by a CA it trusts) [${code}]`;
  }
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNEXPECTED_EOF|ECONNRESET/.test(code) || /wrong version number|socket disconnected before secure/i.test(err.message)) {
    return `the peer did not answer in TLS; is flint.ssl.rpc.enabled (or flint.ssl.enabled) true there? (${err.message})`;
  }
  return err.message;
}

/** What a refused inbound TLS handshake most likely means, for the log line. */
function inboundReason(err: NodeJS.ErrnoException, ssl: SslOptions): string {
  const code = err.code ?? '';
  if (/WRONG_VERSION_NUMBER|HTTP_REQUEST|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL/.test(code) || /wrong version number/i.test(err.message)) {
    return 'the peer does not speak TLS: is flint.ssl.rpc.enabled (or flint.ssl.enabled) true there?';
  }
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE|CERTIFICATE_REQUIRED/.test(code)) return 'the peer sent no certificate, and flint.ssl.needClientAuth is true here';
  if (UNTRUSTED.has(code)) return `the peer's certificate is not signed by a CA in ${trusted(ssl)}`;
  if (/UNSUPPORTED_PROTOCOL|VERSION_TOO_LOW/.test(code)) return `the peer offers only TLS versions older than ${ssl.minVersion} (flint.ssl.protocol)`;
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT' || /timed? ?out/i.test(err.message)) return 'the peer did not finish the TLS handshake in time';
  return err.message;
}
