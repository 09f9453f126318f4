// Where this daemon's own log goes, for the log page's `?self` (Spark 4's `LogPage` reads the daemon's log from
// SPARK_LOG_DIR). Flint daemons log to stderr; sbin/flint-daemon.sh sends it, with stdout, to
// `$FLINT_LOG_DIR/flint-<ident>-<command>-<instance>-<host>.out`. The daemon learns that file from its own file
// descriptor 2: when stderr is a regular file, that file is the log. When it is a terminal or a pipe (a daemon
// run in the foreground, under systemd, in a test) there is no file to show, and `?self` says so.

import { fstatSync, readlinkSync } from 'node:fs';

/** The regular file this process's stderr writes to, or undefined (a terminal, a pipe, no /proc). */
export function ownLogFile(): string | undefined {
  try {
    if (!fstatSync(2).isFile()) return undefined;
    const path = readlinkSync('/proc/self/fd/2');
    return path.startsWith('/') && !path.endsWith(' (deleted)') ? path : undefined;
  } catch {
    return undefined;
  }
}
