// Operators' decommission requests (reference §4.4, §11.1; Spark 3.1+ `Master.receiveAndReply`
// `DecommissionWorkersOnHosts` and its self-sent `DecommissionWorkers`), and the end of an executor that
// drained on a decommissioned worker. The worker's own `WorkerDecommissioning` and `decommissionWorker` itself
// are in workers.ts.

import { EXECUTOR_FINISHED_STATES } from '../protocol/messages.ts';
import type { Ctx } from './context.ts';
import type { Msg, ReplyToken } from './inputs.ts';
import { workerRemoveExecutor, type WorkerInfo } from './state.ts';
import { decommissionWorker } from './workers.ts';

/**
 * Spark's `DecommissionWorkersOnHosts`: every registered worker whose host is one of `hostnames`
 * (case-insensitive, without ports) is decommissioned and told so. Replies the count, which includes workers
 * decommissioned before (so a repeated call answers the same); 0 in STANDBY.
 */
export function handleDecommissionWorkersOnHosts(ctx: Ctx, token: ReplyToken, msg: Msg<'DecommissionWorkersOnHosts'>): void {
  const hosts = new Set(msg.hostnames.map((h) => h.toLowerCase()));
  const matched = [...ctx.state.addressToWorker.values()].filter((w) => hosts.has(w.host.toLowerCase()));
  decommissionAndReply(ctx, token, matched, `hosts ${msg.hostnames.join(', ')}`);
}

/** By worker id (`flint decommission <workerId>`): the same, for the registered workers among `ids`. */
export function handleDecommissionWorkers(ctx: Ctx, token: ReplyToken, msg: Msg<'DecommissionWorkers'>): void {
  const matched: WorkerInfo[] = [];
  for (const id of new Set(msg.ids)) {
    const worker = ctx.state.idToWorker.get(id);
    if (worker !== undefined) matched.push(worker);
  }
  decommissionAndReply(ctx, token, matched, `workers ${msg.ids.join(', ')}`);
}

function decommissionAndReply(ctx: Ctx, token: ReplyToken, workers: readonly WorkerInfo[], what: string): void {
  if (ctx.state.recoveryState === 'STANDBY') {
    ctx.out.reply(token, { type: 'DecommissionWorkersResponse', count: 0 });
    return;
  }
  ctx.out.info(`Asked to decommission ${what}: ${workers.length} worker(s) match`);
  for (const worker of workers) {
    decommissionWorker(ctx, worker);
    ctx.out.send(worker.address, { type: 'DecommissionWorker' });
  }
  ctx.out.reply(token, { type: 'DecommissionWorkersResponse', count: workers.length });
}

/**
 * An executor that was on a worker when it was decommissioned left its app then, but stayed booked on the
 * worker (decommissionWorker). Its end, reported by that worker, frees its cores and memory there. Returns
 * whether it was such an executor.
 */
export function releaseDecommissionedExecutor(ctx: Ctx, msg: Msg<'ExecutorStateChanged'>, from: string): boolean {
  if (!EXECUTOR_FINISHED_STATES.includes(msg.state)) return false;
  const worker = ctx.state.addressToWorker.get(from);
  const exec = worker?.executors.get(`${msg.appId}/${msg.execId}`);
  if (worker === undefined || exec === undefined || exec.state !== 'DECOMMISSIONED') return false;
  ctx.out.info(`Decommissioned executor ${msg.appId}/${msg.execId} ended: ${msg.state}`, { appId: msg.appId, workerId: worker.id });
  workerRemoveExecutor(worker, exec);
  return true;
}
