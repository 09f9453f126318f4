// Which files make up one log, oldest first, and how long each is: what Spark's `LogPage.getLog` gets from
// `RollingFileAppender.getSortedRolledOverFiles` and `Utils.getFileLength`.
//
// Nothing outside the work dir is ever read. Ids must be plain ids (no `/`, no leading `.`), the directory is
// resolved through its symbolic links and must still be inside the work dir's real path, and a log file must be
// a regular file with one link, opened with O_NOFOLLOW: a symbolic link named `stdout` (or a hard link to a file
// elsewhere) is refused, not followed.

import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { createGunzip } from 'node:zlib';
import { LogRequestError } from '../../errors.ts';
import { GZIP_LOG_SUFFIX, listLogFiles } from './rolled-files.ts';

/** The worker's `SAFE_PATH_PART`: what an app, executor or driver id must look like to name a directory. */
export const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MAX_ID_LENGTH = 255;

export type LogType = 'stdout' | 'stderr';
export const LOG_TYPES: readonly LogType[] = ['stdout', 'stderr'];

/** Whose log: an executor's or a driver's (under the work dir), or the daemon's own log file. */
export type LogTarget =
  | { readonly kind: 'executor'; readonly appId: string; readonly executorId: string; readonly logType: LogType }
  | { readonly kind: 'driver'; readonly driverId: string; readonly logType: LogType }
  | { readonly kind: 'daemon' };

export interface LogRoots {
  /**
   * The worker's work dir: executors' logs are in `<workDir>/<appId>/<executorId>/`, drivers' in `<workDir>/<driverId>/`.
   * Undefined for a daemon with no work dir (a master): only its own log can be asked for.
   */
  readonly workDir: string | undefined;
  /** The daemon's own log file, when it writes one (Spark's `self` log, from SPARK_LOG_DIR). */
  readonly daemonLogFile?: string;
}

export interface LogFile {
  readonly path: string;
  /** A gzipped rolled file (`.gz`): read decompressed. */
  readonly compressed: boolean;
  /** The bytes it contributes to the log: the uncompressed length for a `.gz` (as Spark's `getFileLength`). */
  readonly length: number;
}

/** Short, printable, for error messages: never echo a long or hostile input in full. */
export function quoteInput(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

export function checkPlainId(name: string, value: string): void {
  if (value.length > MAX_ID_LENGTH || !PLAIN_ID.test(value)) {
    throw new LogRequestError('FLINT_LOG_BAD_REQUEST', `${name}=${quoteInput(value)} is not a plain id (letters, digits, '.', '_', '-', not starting with '.', '_' or '-')`);
  }
}

export function checkLogType(value: string): LogType {
  if (!(LOG_TYPES as readonly string[]).includes(value)) {
    throw new LogRequestError('FLINT_LOG_BAD_REQUEST', `logType=${quoteInput(value)} is not a log type; expected stdout or stderr`);
  }
  return value as LogType;
}

const notFound = (message: string): LogRequestError => new LogRequestError('FLINT_LOG_NOT_FOUND', message);

async function realDir(path: string, what: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    throw notFound(`${what} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

const isInside = (root: string, path: string): boolean => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/** The real directory of `target`'s log and the name of its active file, checked to be where it must be. */
async function logLocation(roots: LogRoots, target: LogTarget): Promise<{ dir: string; activeName: string }> {
  if (target.kind === 'daemon') {
    if (roots.daemonLogFile === undefined) throw notFound('this daemon writes no log file');
    const file = resolve(roots.daemonLogFile);
    return { dir: await realDir(dirname(file), 'the log directory'), activeName: basename(file) };
  }
  const ids = target.kind === 'executor' ? { appId: target.appId, executorId: target.executorId } : { driverId: target.driverId };
  for (const [name, value] of Object.entries(ids)) checkPlainId(name, value);
  const logType = checkLogType(target.logType);
  if (roots.workDir === undefined) throw notFound('this daemon keeps no executor or driver logs');
  const workDir = await realDir(resolve(roots.workDir), 'the work dir');
  const lexical = join(workDir, ...Object.values(ids));
  if (!isInside(workDir, lexical) || lexical === workDir) throw notFound(`${lexical} is not inside the work dir`);
  const dir = await realDir(lexical, 'the log directory');
  if (!isInside(workDir, dir) || dir === workDir) throw notFound(`the log directory ${lexical} leads outside the work dir`);
  return { dir, activeName: logType };
}

/** Opens a log file for reading; refuses a symbolic link, anything but a regular file, and a file with other links. */
export async function openLogFile(path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw notFound(`the log file ${path} cannot be opened (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const info = await handle.stat();
  if (!info.isFile() || info.nlink !== 1) {
    await handle.close();
    throw notFound(`the log file ${path} is not a plain file`);
  }
  return handle;
}

/** Spark's `spark.worker.ui.compressedLogFileLengthCacheSize` default: uncompressed lengths remembered. */
const GZ_LENGTH_CACHE_SIZE = 100;
const gzLengths = new Map<string, number>();

/** The uncompressed length of a `.gz`, by decompressing it once (streaming) and remembering it for this version. */
async function uncompressedLength(path: string, handle: FileHandle): Promise<number> {
  const info = await handle.stat();
  const key = `${path}\0${info.size}\0${info.mtimeMs}`;
  const known = gzLengths.get(key);
  if (known !== undefined) return known;
  let length = 0;
  const stream = handle.createReadStream({ autoClose: false, start: 0 }).pipe(createGunzip());
  for await (const chunk of stream) length += (chunk as Buffer).length;
  if (gzLengths.size >= GZ_LENGTH_CACHE_SIZE) gzLengths.delete(gzLengths.keys().next().value as string);
  gzLengths.set(key, length);
  return length;
}

/**
 * The files of one log, oldest first (rolled files by name, then the active one), each with its length. An
 * existing directory without the log gives an empty list (Spark shows 0 bytes); a missing directory is
 * FLINT_LOG_NOT_FOUND.
 */
export async function logFiles(roots: LogRoots, target: LogTarget): Promise<LogFile[]> {
  const { dir, activeName } = await logLocation(roots, target);
  const { rolled, activeExists } = await listLogFiles(dir, activeName).catch((err: NodeJS.ErrnoException) => {
    throw notFound(`the log directory ${dir} cannot be listed (${err.code ?? err.message})`);
  });
  const names = activeExists ? [...rolled, activeName] : rolled;
  const files: LogFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const compressed = name.endsWith(GZIP_LOG_SUFFIX);
    const handle = await openLogFile(path);
    try {
      const length = compressed ? await uncompressedLength(path, handle) : (await handle.stat()).size;
      files.push({ path, compressed, length });
    } finally {
      await handle.close();
    }
  }
  return files;
}
