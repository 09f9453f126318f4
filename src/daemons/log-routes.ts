// The log pages of a daemon's web UI: Spark's `LogPage` (`/logPage/`) and its raw `/log`, with Flint's follow stream
// (`/events/log`). A worker serves its executors' and drivers' logs and its own (`?self`); a master only its own.
// The logs are read by src/io/logs, which keeps every read inside the work dir; this file turns a request's query
// into a LogRequest and an error into a 400 or 404 page.

import { LogRequestError } from '../errors.ts';
import type { SseStream } from '../io/http/sse.ts';
import { UiReply, type UiRequest, type UiRoute } from '../io/http/ui-server.ts';
import { DEFAULT_LOG_BYTES, MAX_LOG_BYTES, logReadStream, parseLogQuery, readLog, type LogRequest } from '../io/logs/log-page.ts';
import type { LogRoots, LogTarget } from '../io/logs/log-files.ts';
import { logFileName, logPage, logProblemPage } from '../ui/log-page.ts';
import type { Logger } from '../util/logger.ts';

/** How often a following log page's stream looks for new bytes. */
export const FOLLOW_POLL_MS = 500;
/** The most bytes one `append` event carries; more is sent as further events. */
export const FOLLOW_CHUNK_BYTES = 64 * 1024;
/** The most bytes one look sends (16 events): a log growing faster is caught up with over the next looks. */
const FOLLOW_BYTES_PER_POLL = 16 * FOLLOW_CHUNK_BYTES;

export interface LogRoutesOptions {
  /** Where the logs are: a worker's work dir, and the daemon's own log file when it has one. */
  readonly roots: LogRoots;
  readonly logger: Logger;
  /** A master serves only `?self`. */
  readonly daemon: 'master' | 'worker';
  /** The master's web UI for the page's "Back to Master" link ('' for none). */
  readonly masterWebUiUrl: () => string;
}

/** What `?self` says when the daemon's output goes to no file it can show. */
function noOwnLog(daemon: 'master' | 'worker'): string {
  return (
    `this ${daemon}'s output does not go to a file it can show: it logs to a terminal or a pipe. A ${daemon} started ` +
    `by sbin/start-${daemon}.sh logs to a .out file under FLINT_LOG_DIR, which this page then shows`
  );
}

function logQueryOf(query: URLSearchParams, daemon: 'master' | 'worker'): LogRequest {
  const get = (name: string): string | undefined => query.get(name) ?? undefined;
  if (daemon === 'master' && !query.has('self')) {
    throw new LogRequestError('FLINT_LOG_BAD_REQUEST', "the master has only its own log: ask for it with ?self (executors' and drivers' logs are on their workers)");
  }
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
function problemOf(err: unknown, roots: LogRoots, daemon: 'master' | 'worker'): { status: 400 | 404; message: string } {
  if (!(err instanceof LogRequestError)) throw err;
  if (err.code === 'FLINT_LOG_BAD_REQUEST') return { status: 400, message: err.message };
  return { status: 404, message: roots.daemonLogFile === undefined && /writes no log file/.test(err.message) ? noOwnLog(daemon) : err.message };
}

export function logRoutes(options: LogRoutesOptions): UiRoute[] {
  const { roots, daemon } = options;
  const logPageRoute = async (req: UiRequest) => {
    try {
      const request = logQueryOf(req.query, daemon);
      const slice = await readLog(roots, request);
      return logPage({
        target: request.target,
        slice,
        byteLength: Math.min(request.byteLength ?? DEFAULT_LOG_BYTES, MAX_LOG_BYTES),
        maxBytes: MAX_LOG_BYTES,
        follow: req.query.get('follow') === '1',
        masterWebUiUrl: options.masterWebUiUrl(),
      });
    } catch (err) {
      const { status, message } = problemOf(err, roots, daemon);
      return UiReply.page(status, logProblemPage(status, message));
    }
  };
  return [
    { kind: 'page', path: '/logPage', handler: logPageRoute },
    { kind: 'page', path: '/logPage/', handler: logPageRoute },
    {
      kind: 'download',
      path: '/log',
      handler: async (req) => {
        try {
          const { target } = logQueryOf(req.query, daemon);
          return { contentType: 'text/plain; charset=utf-8', fileName: logFileName(target), body: await logReadStream(roots, target) };
        } catch (err) {
          const { status, message } = problemOf(err, roots, daemon);
          return UiReply.json(status, { error: message });
        }
      },
    },
    { kind: 'events', path: '/events/log', handler: (req, stream) => followLog(options, req, stream) },
    {
      // A slice as JSON ({ text, startByte, endByte, totalLength }), for `flint logs` (src/cli/logs-command.ts),
      // which follows a log by asking again from `endByte`. The same query as the log page.
      kind: 'json',
      path: '/json/log',
      handler: async (req) => {
        try {
          return await readLog(roots, logQueryOf(req.query, daemon));
        } catch (err) {
          const { status, message } = problemOf(err, roots, daemon);
          return UiReply.json(status, { error: message });
        }
      },
    },
  ];
}

/**
 * A following log page's stream: from `offset` (default: the log's end now), every FOLLOW_POLL_MS the bytes the
 * log gained, as `append` events `{ text, startByte, endByte, totalLength }` of at most FOLLOW_CHUNK_BYTES each.
 * A bad request or a log that goes away ends the stream with a `problem` event naming why.
 */
async function followLog(options: LogRoutesOptions, req: UiRequest, stream: SseStream): Promise<void> {
  const { roots, logger } = options;
  let target: LogTarget;
  let position: number;
  try {
    const request = logQueryOf(req.query, options.daemon);
    target = request.target;
    position = request.offset ?? (await readLog(roots, { target, byteLength: 0 })).totalLength;
  } catch (err) {
    stream.send('problem', problemOf(err, roots, options.daemon).message);
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
