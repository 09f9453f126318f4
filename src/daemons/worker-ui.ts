// The worker's web UI routes: Spark's `WorkerWebUI.initialize`, which attaches `WorkerPage` (`/`, `/json`) and
// `LogPage` (`/logPage`, `/log`). The pages are pure renderers in src/ui/; the logs are read by src/io/logs;
// this file only routes, turning a request's query into a LogRequest and an error into a 400 or 404 page.
//
//   /                  WorkerPage (live on /events/worker)     /json     Spark's worker document
//   /logPage/?…        LogPage (follow: /events/log?…)          /log?…    the whole log, as a file
//   /healthz           200 while the process runs              /readyz   200 once registered with a master, else 503

import { gotoRoutes } from './ui-goto.ts';
import { logRoutes } from './log-routes.ts';
import { liveEvents, type ChangeSignal } from '../io/http/live-page.ts';
import { UiReply, type UiRoute } from '../io/http/ui-server.ts';
import type { LogRoots } from '../io/logs/log-files.ts';
import { WORKER_EVENTS_PATH, workerPage, workerPageMain } from '../ui/worker-page.ts';
import type { Logger } from '../util/logger.ts';
import { workerJson, type WorkerSnapshot } from '../worker/index.ts';
import type { StandbyStatus } from '../io/child-process/standby-launcher.ts';

export interface WorkerUiParts {
  /** The worker's state now (read-only). */
  readonly snapshot: () => WorkerSnapshot;
  /** Notified after every input the worker handled. */
  readonly signal: ChangeSignal;
  /** The work dir, and the worker's own log file when it has one (src/io/logs/own-log-file.ts). */
  readonly roots: LogRoots;
  readonly now: () => number;
  readonly logger: Logger;
  /** The UI token the cluster's UIs share (undefined: an open UI), for the ticket of `/goto/` to the master. */
  readonly uiToken: string | undefined;
  /** The standby executors (docs/standby-executors.md), listed in /json as `standbyexecutors`; undefined: none. */
  readonly standbys?: () => StandbyStatus | undefined;
}

export function workerUiRoutes(parts: WorkerUiParts): UiRoute[] {
  const { snapshot, signal, roots } = parts;
  return [
    { kind: 'page', path: '/', handler: (req) => workerPage(snapshot(), req.query) },
    { kind: 'events', path: WORKER_EVENTS_PATH, handler: liveEvents({ signal, render: (req) => workerPageMain(snapshot(), req.query) }) },
    { kind: 'json', path: '/json', handler: () => withStandbys(workerJson(snapshot(), parts.now()), parts.standbys?.()) },
    { kind: 'json', path: '/healthz', handler: () => ({ status: 'ok' }) },
    {
      kind: 'json',
      path: '/readyz',
      handler: () => (snapshot().registered ? { status: 'ready' } : UiReply.json(503, { status: 'not registered with a master' })),
    },
    ...logRoutes({ roots, logger: parts.logger, daemon: 'worker', masterWebUiUrl: () => snapshot().activeMasterWebUiUrl }),
    ...gotoRoutes({
      destinations: () => [snapshot().activeMasterWebUiUrl].filter((url) => url !== ''),
      uiToken: parts.uiToken,
      leadsTo: "its master's pages",
    }),
  ];
}

/** Spark's worker document, and Flint's standby executors after its fields (lowercase, as Spark's keys). */
function withStandbys<T extends object>(json: T, standbys: StandbyStatus | undefined): T | (T & { standbyexecutors: StandbyStatus }) {
  return standbys === undefined ? json : { ...json, standbyexecutors: standbys };
}
