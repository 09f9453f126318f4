// `flint submit`'s client of the masters' REST gateways (docs/rest.md): Spark's `RestSubmissionClient`
// (reference §12.5). Given `rest://h1:6066[,h2:6066]`, it tries each master in turn until one gives a
// successful response of the expected type; a refusal (a standby's "Current state is not alive") or a failed
// connection moves on to the next one.
//
// It authenticates with the REST token of the secret `flint submit` reads for RPC (flint.authenticate.appSecret
// or flint.authenticate.secret, from their `.file` keys): the token is derived here, the secret never leaves the
// process. With flint.ssl.ui on, it speaks HTTPS and trusts flint.ssl.trustedCaFile, as the gateway serves the
// UI's certificate.

import type { IncomingMessage, RequestOptions } from 'node:http';
import type { FlintConf } from '../conf/flint-conf.ts';
import { ConfigError, FlintError, InvalidAddressError } from '../errors.ts';
import { deriveRestToken } from '../io/http/rest-server.ts';
import { readSslOptions } from '../io/tls/ssl-options.ts';
import { REST_PROTOCOL_VERSION } from '../protocol/rest-messages.ts';
import { formatHostPort, parseMasterUrls, type RpcAddress } from '../rpc/address.ts';
import { readRpcSettings } from '../rpc/rpc-env.ts';

export const REST_SCHEME = 'rest://';

/** Largest response read: a protocol message is a few hundred bytes. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
/** What an answer that is not the gateway's means: the URL names some other HTTP server, the web UI most likely. */
const NOT_A_GATEWAY = "so it is not a Flint REST gateway: give the master's REST port (flint.master.rest.port, 6066 by default), not its web UI's";

export function isRestMaster(master: string): boolean {
  return master.trim().startsWith(REST_SCHEME);
}

/** `rest://h1:6066,h2:6066` → the masters' host and port. */
export function parseRestMasters(master: string): RpcAddress[] {
  const text = master.trim();
  if (!text.startsWith(REST_SCHEME)) throw new ConfigError('--master', `"${text}" is not a REST master URL; expected rest://host:port[,host2:port2...]`);
  try {
    return parseMasterUrls(`flint://${text.slice(REST_SCHEME.length)}`);
  } catch (err) {
    if (!(err instanceof InvalidAddressError)) throw err;
    throw new ConfigError('--master', `"${text.slice(0, 200)}" is not a REST master URL; expected rest://host:port[,host2:port2...] with ports from 1 to 65535`);
  }
}

/** A response body: a protocol message (an object with `action`), as the gateway wrote it. */
export type RestBody = Record<string, unknown> & { readonly action: string };

export class RestSubmissionClient {
  readonly #masters: RpcAddress[];
  readonly #token: string;
  readonly #tls: ReturnType<typeof readSslOptions>;
  readonly #timeoutMs: number;

  constructor(conf: FlintConf, master: string) {
    this.#masters = parseRestMasters(master);
    const rpc = readRpcSettings(conf.withAuthenticationWhenSecretGiven());
    const secret = rpc.appSecret ?? rpc.secret;
    if (secret === undefined) {
      throw new ConfigError(
        'flint.authenticate.secret.file',
        'flint submit --master rest://… needs the secret its REST token is derived from: flint.authenticate.appSecret.file or flint.authenticate.secret.file (docs/rest.md)',
      );
    }
    this.#token = deriveRestToken(secret);
    this.#tls = readSslOptions(conf, 'ui', { listens: false });
    this.#timeoutMs = rpc.askTimeoutMs;
  }

  /**
   * `method path` on each master in turn; returns the first response of `expected` with `success: true`, else the
   * last response received (a refusal), else throws with every master's failure.
   */
  async request(method: 'GET' | 'POST', action: string, expected: string, body?: unknown): Promise<RestBody> {
    const failures: string[] = [];
    let last: RestBody | undefined;
    for (const master of this.#masters) {
      const where = `${this.#tls === undefined ? 'http' : 'https'}://${formatHostPort(master)}`;
      try {
        const response = await this.#send(master, method, `/${REST_PROTOCOL_VERSION}/submissions/${action}`, body);
        if (response.action === expected && response['success'] === true) return response;
        last = response;
        failures.push(`${where}: ${typeof response['message'] === 'string' ? response['message'] : response.action}`);
      } catch (err) {
        failures.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (last !== undefined && last.action === expected) return last;
    throw new FlintError('FLINT_APP_FAILED', `no REST gateway accepted the request: ${failures.join('; ')}`);
  }

  #send(master: RpcAddress, method: string, path: string, body: unknown): Promise<RestBody> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const options: RequestOptions = {
      host: master.host,
      port: master.port,
      method,
      path,
      timeout: this.#timeoutMs,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(payload === undefined ? {} : { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(payload) }),
      },
    };
    const request =
      this.#tls === undefined
        ? process.getBuiltinModule('node:http').request(options)
        : process.getBuiltinModule('node:https').request({ ...options, ...this.#tls.secureContext, servername: master.host });
    return new Promise<RestBody>((resolve, reject) => {
      request.once('timeout', () => request.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      request.once('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code ?? err.message)));
      request.once('response', (response) => void readResponse(response).then(resolve, reject));
      request.end(payload);
    });
  }
}

async function readResponse(response: IncomingMessage): Promise<RestBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > MAX_RESPONSE_BYTES) throw new Error(`the response is over ${MAX_RESPONSE_BYTES} bytes, ${NOT_A_GATEWAY}`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${response.statusCode ?? '?'} with a body that is not JSON, ${NOT_A_GATEWAY}`);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { action?: unknown }).action !== 'string') {
    throw new Error(`HTTP ${response.statusCode ?? '?'} with a body that is not a protocol message, ${NOT_A_GATEWAY}`);
  }
  return parsed as RestBody;
}
