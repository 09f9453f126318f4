// The application's code on an executor: the bundle the driver serves (content-addressed by its sha256), cached
// on disk so that a bundle is fetched once per machine. A worker's executors share `<workDir>/.app-code/` (the
// worker names it in FLINT_APP_CODE_DIR: src/worker/process-specs.ts), whatever their application: a second run
// of an unchanged app has the same bundle, so its executors neither fetch it nor, with Node's compile cache
// (keyed by the file's path), compile it again. An executor started without the variable keeps the bundle beside
// its own directory, in `<cwd>/../code/` (executors run in `<workDir>/<appId>/<execId>/`).
//
// A cached file is used only when its sha256 matches, and its modification time is then set to now (and again with
// each heartbeat while the executor runs: executor-backend.ts): the worker's cleanup removes the bundles no executor
// has used for flint.worker.cleanup.appDataTtl (src/io/worker-files/app-code-dir.ts). One that vanishes while it is
// checked (the cleanup took it aside) is fetched. A fetched one is written to a temporary file in the same
// directory, verified, then renamed into place: two executors fetching at once both end with a whole file.

import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';

/** Fetches `length` bytes of the bundle from `offset` (FetchAppCode); may return fewer, never none. */
export type FetchCodeChunk = (offset: number, length: number) => Promise<Uint8Array>;

export interface LoadAppCodeOptions {
  /** sha256 of the bundle, hex. */
  readonly hash: string;
  readonly bytes: number;
  /** The worker's `.app-code` dir, or `<cwd>/../code`. */
  readonly cacheDir: string;
  /** The most to ask for at once (it must fit a frame). */
  readonly chunkBytes: number;
  readonly fetchChunk: FetchCodeChunk;
}

export interface LoadedAppCode {
  readonly path: string;
  /** False when the cached file was used. */
  readonly fetched: boolean;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

async function sha256OfFile(path: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(path)).digest('hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Sets the file's modification time to now: the worker's cleanup keeps what was used within its TTL. False when the
 * file is gone; any other failure costs only an earlier removal, and a later fetch.
 */
export async function markUsed(path: string): Promise<boolean> {
  const now = new Date();
  return utimes(path, now, now).then(
    () => true,
    (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
  );
}

/** Makes the bundle `hash` available as a file; returns its path. Throws an Error saying what went wrong. */
export async function loadAppCode(opts: LoadAppCodeOptions): Promise<LoadedAppCode> {
  const { hash, bytes, cacheDir } = opts;
  // The hash names a file: anything but a sha256 in hex could point outside the cache.
  if (!SHA256_HEX.test(hash)) throw new Error(`the code hash ${JSON.stringify(hash.slice(0, 100))} is not a sha256 in hex`);
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`the code size ${bytes} is not a byte count`);
  const path = join(cacheDir, `${hash}.mjs`);
  // Marked as used, the worker's cleanup keeps it. Gone by then (the cleanup took it aside): fetched instead.
  if ((await sha256OfFile(path)) === hash && (await markUsed(path))) return { path, fetched: false };
  await mkdir(cacheDir, { recursive: true });
  const temp = join(cacheDir, `.${hash}.${randomUUID()}.tmp`);
  const file = await open(temp, 'wx');
  let closed = false;
  try {
    const sha = createHash('sha256');
    // Every round adds at least one byte, so the loop ends after at most `bytes` rounds.
    for (let offset = 0; offset < bytes; ) {
      const left = bytes - offset;
      const data = await opts.fetchChunk(offset, Math.min(opts.chunkBytes, left));
      if (data.byteLength === 0 || data.byteLength > left) {
        throw new Error(`the driver sent ${data.byteLength} bytes of code at offset ${offset}; expected 1 to ${left}`);
      }
      sha.update(data);
      await file.write(data);
      offset += data.byteLength;
    }
    await file.close();
    closed = true;
    const got = sha.digest('hex');
    if (got !== hash) throw new Error(`the fetched code has sha256 ${got}, not ${hash}`);
    await rename(temp, path);
    return { path, fetched: true };
  } catch (err) {
    if (!closed) await file.close().catch(() => {});
    await rm(temp, { force: true });
    throw err;
  }
}
