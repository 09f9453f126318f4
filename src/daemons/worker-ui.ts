// The worker's web UI routes: Spark's `WorkerWebUI.initialize`, which attaches `WorkerPage` (`/`, `/json`) and
// `LogPage` (`/logPage`, `/log`). The pages are pure renderers in src/ui/; the logs are read by src/io/logs;
// this file only routes, turning a request's query into a LogRequest and an error into a 400 or 404 page.
//
//   /                  WorkerPage (live on /events/worker)     /json     Spark's worker document
//   /logPage/?…        LogPage (follow: /events/log?…)          /log?…    the whole log, as a file
//   /healthz           200 while the process runs              /readyz   200 once registered with a master, else 503

import { gotoRoutes } from './ui-goto.ts';
import { LogRequestError } from '../errors.ts';
import { liveEvents, type ChangeSignal } from '../io/http/live-page.ts';
import type { SseStream } from '../io/http/sse.ts';
import { UiReply, type UiRequest, type UiRoute } from '../io/http/ui-server.ts';
import { DEFAULT_LOG_BYTES, MAX_LOG_BYTES, logReadStream, parseLogQuery, readLog, type LogRequest } from '../io/logs/log-page.ts';
import type { LogRoots, LogTarget } from '../io/logs/log-files.ts';
import { logFileName, logPage, logProblemPage } from '../ui/log-page.ts';
import { WORKER_EVENTS_PATH, workerPage, workerPageMain } from '../ui/worker-page.ts';
import type { Logger } from '../util/logger.ts';
import { workerJson, type WorkerSnapshot } from '../worker/index.ts';

/** How often a following log page's stream looks for new bytes. */
export const FOLLOW_POLL_MS = 500;
/** The most bytes one `append` event carries; more is sent as further events. */
export const FOLLOW_CHUNK_BYTES = 64 * 1024;
/** The most bytes one look sends (16 events): a log growing faster is caught up with over the next looks. */
const FOLLOW_BYTES_PER_POLL = 16 * FOLLOW_CHUNK_BYTES;

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
}

const NO_OWN_LOG =
  "this worker's output does not go to a file it can show: it logs to a terminal or a pipe. A worker started " +
  'by sbin/start-worker.sh logs to a .out file under FLINT_LOG_DIR, which this page then shows';

function logQueryOf(query: URLSearchParams): LogRequest {
  const get = (name: string): string | undefined => query.get(name) ?? undefined;
  return parseLogQuery({
    appId: get('appId'),
    executorId: get('executorId'),
    driverId: get('driverId'),
    self: get('self'),
    logType: get('logType'),
    offset: get('offset'),
    byteLength: get('byteLength'),
  });
}

/** A LogRequestError as the 400 or 404 it stands for; anything else is a bug and rethrown (a 500). */
function problemOf(err: unknown, roots: LogRoots): { status: 400 | 404; message: string } {
  if (!(err instanceof LogRequestError)) throw err;
  if (err.code === 'FLINT_LOG_BAD_REQUEST') return { status: 400, message: err.message };
  return { status: 404, message: roots.daemonLogFile === undefined && /writes no log file/.test(err.message) ? NO_OWN_LOG : err.message };
}

export function workerUiRoutes(parts: WorkerUiParts): UiRoute[] {
  const { snapshot, signal, roots } = parts;
  const logPageRoute = async (req: UiRequest) => {
    try {
      const request = logQueryOf(req.query);
      const slice = await readLog(roots, request);
      return logPage({
        target: request.target,
        slice,
        byteLength: Math.min(request.byteLength ?? DEFAULT_LOG_BYTES, MAX_LOG_BYTES),
        maxBytes: MAX_LOG_BYTES,
        follow: req.query.get('follow') === '1',
        masterWebUiUrl: snapshot().activeMasterWebUiUrl,
      });
    } catch (err) {
      const { status, message } = problemOf(err, roots);
      return UiReply.page(status, logProblemPage(status, message));
    }
  };
  return [
    { kind: 'page', path: '/', handler: (req) => workerPage(snapshot(), req.query) },
    { kind: 'events', path: WORKER_EVENTS_PATH, handler: liveEvents({ signal, render: (req) => workerPageMain(snapshot(), req.query) }) },
    { kind: 'json', path: '/json', handler: () => workerJson(snapshot(), parts.now()) },
    { kind: 'json', path: '/healthz', handler: () => ({ status: 'ok' }) },
    {
      kind: 'json',
      path: '/readyz',
      handler: () => (snapshot().registered ? { status: 'ready' } : UiReply.json(503, { status: 'not registered with a master' })),
    },
    { kind: 'page', path: '/logPage', handler: logPageRoute },
    { kind: 'page', path: '/logPage/', handler: logPageRoute },
    {
      kind: 'download',
      path: '/log',
      handler: async (req) => {
        try {
          const { target } = logQueryOf(req.query);
          return { contentType: 'text/plain; charset=utf-8', fileName: logFileName(target), body: await logReadStream(roots, target) };
        } catch (err) {
          const { status, message } = problemOf(err, roots);
          return UiReply.json(status, { error: message });
        }
      },
    },
    { kind: 'events', path: '/events/log', handler: (req, stream) => followLog(roots, req, stream, parts.logger) },
    ...gotoRoutes({
      destinations: () => [snapshot().activeMasterWebUiUrl].filter((url) => url !== ''),
      uiToken: parts.uiToken,
      leadsTo: "its master's pages",
    }),
  ];
}

/**
 * A following log page's stream: from `offset` (default: the log's end now), every FOLLOW_POLL_MS the bytes the
 * log gained, as `append` events `{ text, startByte, endByte, totalLength }` of at most FOLLOW_CHUNK_BYTES each.
 * A bad request or a log that goes away ends the stream with a `problem` event naming why.
 */
async function followLog(roots: LogRoots, req: UiRequest, stream: SseStream, logger: Logger): Promise<void> {
  let target: LogTarget;
  let position: number;
  try {
    const request = logQueryOf(req.query);
    target = request.target;
    position = request.offset ?? (await readLog(roots, { target, byteLength: 0 })).totalLength;
  } catch (err) {
    stream.send('problem', problemOf(err, roots).message);
    stream.close();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const look = async (): Promise<void> => {
    timer = undefined;
    try {
      for (let sent = 0; sent < FOLLOW_BYTES_PER_POLL && !stream.closed; ) {
        const slice = await readLog(roots, { target, offset: position, byteLength: FOLLOW_CHUNK_BYTES });
        if (slice.totalLength < position) position = slice.totalLength; // the log was replaced by a shorter one
        if (slice.endByte <= slice.startByte) break;
        stream.send('append', slice);
        position = slice.endByte;
        sent += slice.endByte - slice.startByte;
      }
    } catch (err) {
      if (err instanceof LogRequestError) {
        stream.send('problem', err.message);
        stream.close();
        return;
      }
      logger.warn({ err: (err as Error).message }, 'following a log failed');
      stream.close();
      return;
    }
    if (!stream.closed) {
      timer = setTimeout(() => void look(), FOLLOW_POLL_MS);
      timer.unref();
    }
  };
  stream.onClose(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
  await look();
}
