// What the operators' commands (`flint status`, `apps`, `logs`, `kill`, `decommission`) share: the flags that
// say where the cluster is and how to prove who they are, and an RPC client to its masters.
//
// They authenticate as every client does (docs/security.md): with the cluster secret
// (`flint.authenticate.secret[.file]`, from --conf or the properties file) they speak as `daemon`, which the
// master requires for decommissioning and for killing applications; with only `flint.authenticate.appSecret`
// they speak as `app`, which may read the cluster's state and kill drivers. The web UI token for a worker's
// logs is `flint.ui.token`, else derived from the cluster secret, as the daemons derive it.

import type { Command } from 'commander';
import type { FlintConf } from '../conf/flint-conf.ts';
import { loadConf } from '../conf/load-conf.ts';
import { warnOfUnknownKeys } from './conf-warnings.ts';
import { ConfigError, FlintError } from '../errors.ts';
import { readUiAuthSettings } from '../io/http/ui-auth.ts';
import { MasterQueryReplies, MasterReplies, type ClientToMaster, type MasterReply } from '../protocol/messages.ts';
import type { MessageOf } from '../protocol/catalog.ts';
import { formatRpcAddress, parseMasterUrls, RpcEnv } from '../rpc/index.ts';
import { readRpcSettings } from '../rpc/rpc-env.ts';
import { silentLogger } from '../util/logger.ts';
import { collect, type Env } from './daemon-options.ts';

export interface OperatorFlags {
  master?: string;
  propertiesFile?: string;
  conf: string[];
  json?: boolean;
}

export type MasterState = Extract<MessageOf<typeof MasterQueryReplies>, { type: 'MasterStateResponse' }>;

/** One master of the URL as it answered: its state, or why it did not. */
export interface MasterAnswer {
  readonly url: string;
  readonly state?: MasterState;
  readonly error?: string;
}

/** Adds the flags every operator command takes. */
export function withOperatorOptions(command: Command): Command {
  return command
    .helpOption('-h, --help', 'show this help')
    .option('--master <url>', 'flint://host:port, or a comma list flint://h1:7077,h2:7077 (flint.master)')
    .option('--json', 'print JSON instead of a table (for scripts)')
    .option('--properties-file <file>', 'properties file (default: conf/flint-defaults.conf)')
    .option('--conf <key=value>', 'a configuration key, repeatable (e.g. flint.authenticate.secret.file=…)', collect, []);
}

export class OperatorClient {
  readonly conf: FlintConf;
  readonly masterUrls: readonly string[];
  readonly #env: RpcEnv;
  readonly #askTimeoutMs: number;

  private constructor(conf: FlintConf, masterUrls: readonly string[], env: RpcEnv) {
    this.conf = conf;
    this.masterUrls = masterUrls;
    this.#env = env;
    this.#askTimeoutMs = Math.min(conf.getDurationMs('flint.rpc.askTimeout', '30s', 's'), 30_000);
  }

  static async open(flags: OperatorFlags, flintHome: string, env: Env): Promise<OperatorClient> {
    const conf = loadConf({ propertiesFile: flags.propertiesFile, confPairs: flags.conf, optsVariables: [], env, flintHome });
    warnOfUnknownKeys(conf);
    if (flags.master !== undefined) conf.set('flint.master', flags.master);
    const master = conf.get('flint.master');
    if (master === undefined || master.trim() === '') {
      throw new ConfigError('--master', 'give the cluster: --master flint://host:7077 (or flint.master in the properties file)');
    }
    const masterUrls = parseMasterUrls(master).map(formatRpcAddress);
    const withAuth = conf.withAuthenticationWhenSecretGiven();
    const principal = conf.has('flint.authenticate.secret') || conf.has('flint.authenticate.secret.file') ? 'daemon' : 'app';
    const rpc = await RpcEnv.create({ name: 'flintOperator', clientMode: true, principal, conf: withAuth, logger: silentLogger });
    return new OperatorClient(conf, masterUrls, rpc);
  }

  /** Every master's state, in the URL's order; a master that did not answer carries its reason. */
  async masters(): Promise<MasterAnswer[]> {
    return Promise.all(
      this.masterUrls.map(async (url): Promise<MasterAnswer> => {
        try {
          const ref = await this.#env.setupEndpointRef<{ type: 'RequestMasterState' }>(url, 'Master');
          const state = await ref.ask({ type: 'RequestMasterState' }, { expect: MasterQueryReplies, timeoutMs: this.#askTimeoutMs });
          return state.type === 'MasterStateResponse' ? { url, state } : { url, error: `unexpected reply ${state.type}` };
        } catch (err) {
          return { url, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
  }

  /** The leading (ALIVE) master's URL and state; a FlintError saying why when there is none. */
  async leader(): Promise<{ url: string; state: MasterState }> {
    const answers = await this.masters();
    const alive = answers.find((a) => a.state?.status === 'ALIVE');
    if (alive?.state !== undefined) return { url: alive.url, state: alive.state };
    const why = answers.map((a) => `${a.url}: ${a.error ?? `${a.state?.status ?? '?'} (not the leader)`}`).join('; ');
    throw new FlintError('FLINT_OPERATOR_FAILED', answers.every((a) => a.error !== undefined) ? `no master answered: ${why}` : `no master is ALIVE: ${why}`);
  }

  /** Asks the leading master. */
  async ask(message: ClientToMaster): Promise<MasterReply> {
    const { url } = await this.leader();
    const ref = await this.#env.setupEndpointRef<ClientToMaster>(url, 'Master');
    try {
      return await ref.ask(message, { expect: MasterReplies, timeoutMs: this.#askTimeoutMs });
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      const hint = /FORBIDDEN|not allowed|forbidden/i.test(text) ? ' (this needs the cluster secret: --conf flint.authenticate.secret.file=…)' : '';
      throw new FlintError('FLINT_OPERATOR_FAILED', `${url} refused ${message.type}: ${text}${hint}`);
    }
  }

  /** `Authorization` for the daemons' web UIs (a worker's log endpoint), when the cluster has a UI token. */
  uiHeaders(): Record<string, string> {
    const { token } = readUiAuthSettings(this.conf, readRpcSettings(this.conf.withAuthenticationWhenSecretGiven()).secret);
    return token === undefined ? {} : { authorization: `Bearer ${token}` };
  }

  close(): Promise<void> {
    return this.#env.shutdown();
  }
}

/** Runs `body` with a client, closed afterwards whatever happens. */
export async function withOperatorClient<T>(flags: OperatorFlags, flintHome: string, env: Env, body: (client: OperatorClient) => Promise<T>): Promise<T> {
  const client = await OperatorClient.open(flags, flintHome, env);
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

/** Writes `text` to stdout. */
export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
}
