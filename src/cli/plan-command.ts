// `flint plan`: the what-if planner from the command line (docs/resources.md; Nomad's `job plan`). It asks the
// master, as an authenticated client over RPC (RequestPlan → PlanResponse), where an application with this
// request would get executors now and why the rest would wait. Nothing changes on the cluster.
//
//   flint plan --master flint://host:7077 --total-executor-cores 8 [--executor-cores 2] [--executor-memory 1g]
//              [--resource gpu=1 …] [--json]

import { Command } from 'commander';
import { loadConf } from '../conf/load-conf.ts';
import { warnOfUnknownKeys } from './conf-warnings.ts';
import { ConfigError, FlintError } from '../errors.ts';
import { LIMITS, RESOURCE_NAME_PATTERN } from '../protocol/limits.ts';
import { MasterQueryReplies, type MasterQuery, type PlanResponse, type ResourceRequest } from '../protocol/messages.ts';
import { formatRpcAddress, parseMasterUrls, RpcEnv } from '../rpc/index.ts';
import { silentLogger } from '../util/logger.ts';
import { collect, parseIntIn, type Env } from './daemon-options.ts';
import type { FlintConf } from '../conf/flint-conf.ts';

interface PlanFlags {
  master?: string;
  totalExecutorCores?: string;
  executorCores?: string;
  executorMemory?: string;
  resource: string[];
  propertiesFile?: string;
  conf: string[];
  json?: boolean;
}

const RESOURCE_FLAG = new RegExp(`^(${RESOURCE_NAME_PATTERN})=(\\d+)$`);

/** `--resource gpu=2`, repeatable; each name once. */
export function parseResourceFlags(values: readonly string[]): ResourceRequest[] {
  const byName = new Map<string, number>();
  for (const value of values) {
    const match = RESOURCE_FLAG.exec(value.trim());
    if (match === null) throw new ConfigError('--resource', `--resource ${JSON.stringify(value)} is not name=amount; expected e.g. --resource gpu=1`);
    const name = match[1] as string;
    if (byName.has(name)) throw new ConfigError('--resource', `--resource names ${name} twice; give each resource once, e.g. --resource ${name}=2`);
    byName.set(name, parseIntIn({ value: match[2] as string, what: `--resource ${name}` }, 1, LIMITS.resourceAddresses, 'an amount'));
  }
  return [...byName].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, amount]) => ({ name, amount }));
}

export function planCommand(flintHome: string, env: Env = process.env): Command {
  return new Command('plan')
    .description('show where an application with this request would get executors now, and why the rest would wait (changes nothing)')
    .helpOption('-h, --help', 'show this help')
    .option('--master <url>', 'flint://host:port, or a comma list for standby masters (flint.master)')
    .option('--total-executor-cores <n>', 'cores for all executors together (flint.cores.max); default: unlimited')
    .option('--executor-cores <n>', 'cores per executor (flint.executor.cores); default: one executor per worker')
    .option('--executor-memory <mem>', 'memory per executor, e.g. 1g (flint.executor.memory)', undefined)
    .option('--resource <name=amount>', 'a custom resource each executor needs, e.g. gpu=1; repeatable', collect, [])
    .option('--properties-file <file>', 'properties file (default: conf/flint-defaults.conf)')
    .option('--conf <key=value>', 'a configuration key (the secret, TLS), repeatable', collect, [])
    .option('--json', 'print the PlanResponse as JSON')
    .action(async (flags: PlanFlags) => {
      const conf = loadConf({ propertiesFile: flags.propertiesFile, confPairs: flags.conf, optsVariables: ['FLINT_SUBMIT_OPTS'], env, flintHome });
      warnOfUnknownKeys(conf);
      if (flags.master !== undefined) conf.set('flint.master', flags.master);
      const master = conf.get('flint.master');
      if (master === undefined || master.trim() === '') throw new ConfigError('--master', 'flint plan needs --master flint://host:port');
      if (flags.executorMemory !== undefined) conf.set('flint.executor.memory', flags.executorMemory);
      const ask: MasterQuery = {
        type: 'RequestPlan',
        ...(flags.totalExecutorCores === undefined ? {} : { maxCores: parseIntIn({ value: flags.totalExecutorCores, what: '--total-executor-cores' }, 1, LIMITS.appCores, 'a number of cores') }),
        ...(flags.executorCores === undefined ? {} : { coresPerExecutor: parseIntIn({ value: flags.executorCores, what: '--executor-cores' }, 1, LIMITS.cores, 'a number of cores') }),
        memoryMbPerExecutor: conf.getMemoryMb('flint.executor.memory', '1g'),
        ...(flags.resource.length === 0 ? {} : { resourceReqsPerExecutor: parseResourceFlags(flags.resource) }),
      };
      const reply = await askMaster(conf, master, ask);
      process.stdout.write(flags.json === true ? `${JSON.stringify(reply, null, 2)}\n` : formatPlan(reply));
    });
}

async function askMaster(conf: FlintConf, master: string, message: MasterQuery): Promise<PlanResponse> {
  const rpc = await RpcEnv.create({ name: 'flintPlan', clientMode: true, principal: 'app', conf: conf.withAuthenticationWhenSecretGiven(), logger: silentLogger });
  try {
    const errors: string[] = [];
    for (const address of parseMasterUrls(master).map(formatRpcAddress)) {
      try {
        const ref = await rpc.setupEndpointRef<MasterQuery>(address, 'Master');
        const reply = await ref.ask(message, { expect: MasterQueryReplies, timeoutMs: conf.getDurationMs('flint.rpc.askTimeout', '30s', 's') });
        // A standby answers too; the active master's plan is the one that counts.
        if (reply.type === 'PlanResponse' && (reply.status === 'ALIVE' || errors.length === parseMasterUrls(master).length - 1)) return reply;
        errors.push(`${address}: ${reply.type === 'PlanResponse' ? reply.status : reply.type}`);
      } catch (err) {
        errors.push(`${address}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    throw new FlintError('FLINT_APP_FAILED', `no active master answered: ${errors.join('; ')}`);
  } finally {
    await rpc.shutdown();
  }
}

/** Nomad-style text: what would be placed (+), what would wait (-) and why. */
export function formatPlan(plan: PlanResponse): string {
  const lines: string[] = [];
  const res = (r: Record<string, string[]> | undefined): string =>
    r === undefined ? '' : Object.entries(r).map(([name, a]) => `, ${name} [${a.join(',')}]`).join('');
  const want = plan.maxCores === undefined ? 'unlimited cores' : `${plan.maxCores} cores`;
  lines.push(`Plan on ${plan.masterUrl} (${plan.status}) for ${want}, ${plan.memoryMbPerExecutor} MB per executor${plan.resourceReqsPerExecutor.map((r) => `, ${r.name} ×${r.amount}`).join('')}:`);
  lines.push(`+ ${plan.executors.length} executor(s), ${plan.coresPlaced} core(s) would start now`);
  for (const e of plan.executors) lines.push(`    ${e.workerId} (${e.host}:${e.port}): ${e.cores} core(s), ${e.memoryMb} MB${res(e.resources)}`);
  if (plan.reasons.length > 0) {
    const waiting = plan.coresWaiting === undefined ? 'More cores' : `${plan.coresWaiting} core(s)`;
    lines.push(`- ${waiting} would wait:`);
    for (const r of plan.reasons) lines.push(`    ${r.code}: ${r.message}`);
  }
  return `${lines.join('\n')}\n`;
}
