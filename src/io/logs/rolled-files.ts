// The files of one log, oldest first: Spark's `RollingFileAppender.getSortedRolledOverFiles`. The appender
// (retention) and the log page (reading across files) share this one listing.

import { readdir } from 'node:fs/promises';

/** Spark's `RollingFileAppender.GZIP_LOG_SUFFIX`. */
export const GZIP_LOG_SUFFIX = '.gz';

/**
 * Whether `name` is a rolled file of `activeName`. Spark takes every name that starts with the active one; Flint
 * also requires the `--` every rolled suffix starts with, so that a file an application writes in its working
 * dir (`stdout.txt`) is neither read as its log nor deleted by retention.
 */
export function isRolledFileOf(name: string, activeName: string): boolean {
  return name.startsWith(`${activeName}--`);
}

const sortKey = (name: string): string => (name.endsWith(GZIP_LOG_SUFFIX) ? name.slice(0, -GZIP_LOG_SUFFIX.length) : name);

/** Rolled file names in the order they were rolled: by name without `.gz` (the suffixes are timestamps). */
export function sortRolledNames(names: readonly string[]): string[] {
  return [...names].sort((a, b) => {
    const ka = sortKey(a);
    const kb = sortKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

export interface LogFileNames {
  /** Rolled files, oldest first. */
  readonly rolled: readonly string[];
  /** Whether the active file itself exists (it comes after every rolled one). */
  readonly activeExists: boolean;
}

/** The rolled files of `activeName` in `dir`, and whether the active file is there; regular files only. */
export async function listLogFiles(dir: string, activeName: string): Promise<LogFileNames> {
  const entries = await readdir(dir, { withFileTypes: true });
  const rolled: string[] = [];
  let activeExists = false;
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    if (entry.name === activeName) activeExists = true;
    else if (isRolledFileOf(entry.name, activeName)) rolled.push(entry.name);
  }
  return { rolled: sortRolledNames(rolled), activeExists };
}
