// RPC addresses.
//
//   flint://host:port            an RpcEnv that listens (master, worker): `RpcAddress`
//   flint://Name@host:port       an endpoint on such an env: what messages carry to name a peer
//   flint+client://Name@<id>     an endpoint on a client-mode env (apps, executors): it has no port, so it
//                                 can only be reached over the connection it opened
//   flint://h1:7077,h2:7077      several masters (HA). `spark://` is accepted everywhere for `flint://`.

import { InvalidAddressError } from '../errors.ts';

export interface RpcAddress {
  readonly host: string;
  readonly port: number;
}

/** An env's identity on the wire: `flint://host:port` for servers, `flint+client://<id>` for clients. */
export type EnvId = string;

export interface EndpointAddress {
  readonly env: EnvId;
  readonly name: string;
}

const SCHEMES = ['flint://', 'spark://'];
const CLIENT_SCHEME = 'flint+client://';
const ENDPOINT_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

function stripScheme(text: string): string | undefined {
  for (const scheme of SCHEMES) if (text.startsWith(scheme)) return text.slice(scheme.length);
  return undefined;
}

function parseHostPort(text: string, original: string): RpcAddress {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:/@\s[\]]+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || !match[1] || port < 1 || port > 65535) {
    throw new InvalidAddressError(
      `"${original}" is not an RPC address; expected flint://host:port with a port from 1 to 65535`,
    );
  }
  const host = match[1].startsWith('[') ? match[1].slice(1, -1) : match[1];
  return { host, port };
}

export function formatHostPort({ host, port }: RpcAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `flint://host:port` (or `spark://host:port`). */
export function parseRpcAddress(text: string): RpcAddress {
  const rest = stripScheme(text.trim());
  if (rest === undefined) {
    throw new InvalidAddressError(`"${text}" is not an RPC address; expected flint://host:port`);
  }
  return parseHostPort(rest, text);
}

export function formatRpcAddress(address: RpcAddress): EnvId {
  return `flint://${formatHostPort(address)}`;
}

/** The env id of an address given as text (`flint://h:1`, `spark://h:1`) or parsed: `flint://host:port`. */
export function envIdOfAddress(address: string | RpcAddress): EnvId {
  return formatRpcAddress(typeof address === 'string' ? parseRpcAddress(address) : address);
}

/** A comma list of masters: `flint://h1:7077,h2:7077` or `flint://h1:7077,flint://h2:7077`. */
export function parseMasterUrls(text: string): RpcAddress[] {
  const rest = stripScheme(text.trim());
  if (rest === undefined || rest.length === 0) {
    throw new InvalidAddressError(`"${text}" is not a master URL; expected flint://host:port[,host2:port2...]`);
  }
  return rest.split(',').map((part) => {
    const trimmed = part.trim();
    return parseHostPort(stripScheme(trimmed) ?? trimmed, text);
  });
}

export function isClientEnvId(env: EnvId): boolean {
  return env.startsWith(CLIENT_SCHEME);
}

export function clientEnvId(id: string): EnvId {
  return `${CLIENT_SCHEME}${id}`;
}

export function formatEndpointAddress({ env, name }: EndpointAddress): string {
  const scheme = isClientEnvId(env) ? CLIENT_SCHEME : 'flint://';
  return `${scheme}${name}@${env.slice(scheme.length)}`;
}

/** `flint://Name@host:port` or `flint+client://Name@id`. */
export function parseEndpointAddress(text: string): EndpointAddress {
  const isClient = text.startsWith(CLIENT_SCHEME);
  const rest = isClient ? text.slice(CLIENT_SCHEME.length) : stripScheme(text);
  const at = rest?.indexOf('@') ?? -1;
  const name = rest?.slice(0, at) ?? '';
  const where = rest?.slice(at + 1) ?? '';
  if (rest === undefined || at <= 0 || !ENDPOINT_NAME.test(name) || where.length === 0) {
    throw new InvalidAddressError(
      `"${text}" is not an endpoint address; expected flint://Name@host:port or flint+client://Name@id`,
    );
  }
  if (isClient) {
    if (!/^[A-Za-z0-9_-]+$/.test(where)) throw new InvalidAddressError(`"${text}" has a malformed client id; expected letters, digits, '_' or '-' after the @`);
    return { env: clientEnvId(where), name };
  }
  return { env: formatRpcAddress(parseHostPort(where, text)), name };
}

export function assertEndpointName(name: string): void {
  if (!ENDPOINT_NAME.test(name)) {
    throw new InvalidAddressError(
      `"${name}" is not an endpoint name; expected a letter followed by letters, digits, '_', '-' or '.'`,
    );
  }
}
