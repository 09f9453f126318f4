// The what-if planner (docs/resources.md; Nomad's `job plan`): where an application with a given request would
// get executors now, and why the rest would wait, without changing anything. It runs the very executor pass
// schedule() runs (`executorPass` in schedule.ts: the same worker views, the same apps ahead in FIFO order, the
// same `placeExecutorsInTurn`), with the request as one more app at the end of the queue, or, for a registered
// app, in its own place. Read-only: it never touches the state it is given.

import type { PlanReason, PlanResponse, RequestPlan } from '../protocol/messages.ts';
import type { Static } from '@sinclair/typebox';
import { whyNotUsable, withoutAddresses, type ExecutorLaunch, type ExecutorRequest, type WorkerView } from '../scheduling/index.ts';
import { executorPass, workerView } from './schedule.ts';
import { coresLeft, type MasterState } from './state.ts';

type PlanRequestMessage = Static<typeof RequestPlan>;

/** Answers RequestPlan and `POST /api/v1/plan`. */
export function planApplication(state: Readonly<MasterState>, now: number, ask: Omit<PlanRequestMessage, 'type'>): PlanResponse {
  const { config } = state;
  const app = ask.appId === undefined ? undefined : state.idToApp.get(ask.appId);
  const request = app === undefined ? requestOf(ask, config.defaultCores) : undefined;
  const shape = app?.desc ?? { maxCores: request?.maxCores, coresPerExecutor: ask.coresPerExecutor, memoryMbPerExecutor: ask.memoryMbPerExecutor ?? 1024, resourceReqsPerExecutor: ask.resourceReqsPerExecutor };
  const base = {
    type: 'PlanResponse' as const,
    masterUrl: config.masterUrl,
    status: state.recoveryState,
    ...(shape.maxCores === undefined ? {} : { maxCores: shape.maxCores }),
    ...(shape.coresPerExecutor === undefined ? {} : { coresPerExecutor: shape.coresPerExecutor }),
    memoryMbPerExecutor: shape.memoryMbPerExecutor,
    resourceReqsPerExecutor: shape.resourceReqsPerExecutor ?? [],
  };
  const wanted = app === undefined ? (request?.maxCores ?? Number.POSITIVE_INFINITY) : coresLeft(app);
  const nothing = (code: PlanReason['code'], message: string): PlanResponse => ({
    ...base,
    executors: [],
    coresPlaced: 0,
    ...(Number.isFinite(wanted) ? { coresWaiting: wanted } : {}),
    reasons: [{ code, message, workerIds: [] }],
  });
  if (ask.appId !== undefined && app === undefined) return nothing('APP_NOT_FOUND', `No active application ${ask.appId}.`);
  if (state.recoveryState !== 'ALIVE') return nothing('MASTER_NOT_ALIVE', `The master is ${state.recoveryState}: it places nothing until it is ALIVE.`);
  const pass = executorPass(state, config, now, request?.executorRequest);
  const at = app === undefined ? pass.turns.length - 1 : pass.apps.indexOf(app);
  const executorRequest = app === undefined ? request?.executorRequest : pass.requests[at];
  const launches = at < 0 ? [] : (pass.turns[at]?.executors ?? []);
  const executors = launches.map((launch) => planned(state, launch));
  const coresPlaced = launches.reduce((sum, e) => sum + e.cores, 0);
  const waiting = wanted - coresPlaced;
  const reasons =
    executorRequest === undefined || waiting < (shape.coresPerExecutor ?? 1)
      ? []
      : whyWaiting(state, executorRequest, pass.turns.slice(0, Math.max(at, 0) + 1).flatMap((t) => t.executors), at > 0);
  if (app !== undefined && coresLeft(app) < (app.desc.coresPerExecutor ?? 1) && Number.isFinite(wanted)) {
    reasons.push({ code: 'CORES_GRANTED', message: `The application has all the cores it asked for (${app.desc.maxCores ?? app.defaultCores}).`, workerIds: [] });
  }
  return { ...base, executors, coresPlaced, ...(Number.isFinite(waiting) ? { coresWaiting: Math.max(0, waiting) } : {}), reasons };
}

function requestOf(ask: Omit<PlanRequestMessage, 'type'>, defaultCores: number | undefined): { maxCores: number | undefined; executorRequest: ExecutorRequest } {
  const maxCores = ask.maxCores ?? defaultCores;
  return {
    maxCores,
    executorRequest: {
      coresLeft: maxCores ?? Number.POSITIVE_INFINITY,
      ...(ask.coresPerExecutor === undefined ? {} : { coresPerExecutor: ask.coresPerExecutor }),
      memoryMbPerExecutor: ask.memoryMbPerExecutor ?? 1024,
      ...(ask.executorLimit === undefined ? {} : { executorLimit: ask.executorLimit }),
      existingExecutors: 0,
      ...(ask.resourceReqsPerExecutor === undefined ? {} : { resourcesPerExecutor: ask.resourceReqsPerExecutor }),
    },
  };
}

function planned(state: Readonly<MasterState>, launch: ExecutorLaunch): PlanResponse['executors'][number] {
  const worker = state.idToWorker.get(launch.workerId);
  return {
    workerId: launch.workerId,
    host: worker?.host ?? '',
    port: worker?.port ?? 1,
    cores: launch.cores,
    memoryMb: launch.memoryMb,
    ...(launch.resources === undefined ? {} : { resources: Object.fromEntries(Object.entries(launch.resources).map(([k, v]) => [k, [...v]])) }),
  };
}

/**
 * Why no worker can take one more executor once the pass is done: each worker's first failing filter, on its
 * view charged with everything the pass placed (the request's own executors and the apps' before it), grouped.
 */
function whyWaiting(
  state: Readonly<MasterState>,
  request: ExecutorRequest,
  placed: ReadonlyArray<ExecutorLaunch>,
  hadEarlierApps: boolean,
): PlanReason[] {
  if (request.executorLimit !== undefined && request.existingExecutors + placed.length >= request.executorLimit) {
    return [{ code: 'EXECUTOR_LIMIT', message: `The executor limit (${request.executorLimit}) is reached.`, workerIds: [] }];
  }
  const views = [...state.workers].filter((w) => w.state !== 'DEAD').map((w) => charged(workerView(w), placed));
  if (views.every((v) => v.state !== 'ALIVE')) {
    return [{ code: 'NO_ALIVE_WORKER', message: 'No ALIVE worker is registered.', workerIds: [] }];
  }
  const groups = new Map<string, PlanReason & { workerIds: string[] }>();
  const need = {
    memoryMbPerExecutor: request.memoryMbPerExecutor,
    minCores: request.coresPerExecutor ?? 1,
    excludedWorkerIds: request.excludedWorkerIds,
    resources: request.resourcesPerExecutor,
  };
  for (const view of views.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const why = whyNotUsable(view, need);
    if (why === undefined) continue;
    const key = why.code === 'RESOURCE' ? `RESOURCE ${why.resource}` : why.code;
    const group = groups.get(key) ?? { code: why.code, message: headline(why.code, why.code === 'RESOURCE' ? why.resource : '', hadEarlierApps), workerIds: [] };
    group.workerIds.push(view.id);
    group.message += ` ${view.id} ${why.detail};`;
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => ({ ...g, message: g.message.replace(/;$/, '.') }));
}

function headline(code: string, resource: string, hadEarlierApps: boolean): string {
  const taken = hadEarlierApps ? ' (applications ahead in the queue are served first)' : '';
  switch (code) {
    case 'WORKER_NOT_READY':
      return 'Workers not ready for executors:';
    case 'EXCLUDED':
      return 'Workers where the application\'s executors failed recently (relaunch backoff):';
    case 'CORES':
      return `Not enough free cores${taken}:`;
    case 'MEMORY':
      return `No worker with enough free memory${taken}:`;
    default:
      return `Not enough free ${resource}${taken}:`;
  }
}

function charged(view: WorkerView, placed: ReadonlyArray<ExecutorLaunch>): WorkerView {
  let { coresFree, memoryFreeMb, resourcesFree } = view;
  for (const launch of placed) {
    if (launch.workerId !== view.id) continue;
    coresFree -= launch.cores;
    memoryFreeMb -= launch.memoryMb;
    resourcesFree = withoutAddresses(resourcesFree, launch.resources);
  }
  return { ...view, coresFree, memoryFreeMb, resourcesFree };
}

