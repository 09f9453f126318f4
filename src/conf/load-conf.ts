// Where a daemon's configuration comes from, in increasing precedence (Spark's order, plus `--conf`):
//
//   1. the properties file: `--properties-file F`, else `$FLINT_CONF_DIR/flint-defaults.conf`, else
//      `<flint home>/conf/flint-defaults.conf` when it exists;
//   2. `-Dkey=value` words in the daemon's options variable (`FLINT_MASTER_OPTS`, `FLINT_WORKER_OPTS`,
//      `FLINT_DAEMON_OPTS`), as Spark reads `SPARK_MASTER_OPTS`;
//   3. `--conf key=value` flags.
//
// The file is read before anything reads conf (seed 000). Every problem is a ConfigError naming the file and
// line, or the flag, and what is expected.

import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { FlintConf } from './flint-conf.ts';

/**
 * Parses a Java-style properties file: `key value`, `key=value` or `key: value` per line; `#` and `!` start
 * comments; a trailing backslash continues a line. Keys must look like config keys.
 */
export function parseProperties(text: string, source: string): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = (lines[i] as string).trim();
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + (lines[++i] as string).trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const match = /^([^\s=:]+)\s*(?:[=:]\s*|\s+|$)(.*)$/.exec(line);
    const key = match?.[1];
    if (match === null || key === undefined || !isConfigKey(key)) {
      throw new ConfigError(
        source,
        `${source}:${lineNo}: cannot read "${line.slice(0, 80)}"; expected "key value" or "key=value" with a key like flint.worker.timeout`,
      );
    }
    entries.push([key, (match[2] ?? '').trim()]);
  }
  return entries;
}

function isConfigKey(key: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_.-]*$/.test(key);
}

/** `key=value` (for `--conf`). */
export function parseConfPair(pair: string, flag = '--conf'): [string, string] {
  const eq = pair.indexOf('=');
  const key = eq > 0 ? pair.slice(0, eq).trim() : '';
  if (!isConfigKey(key)) {
    throw new ConfigError(flag, `${flag} ${JSON.stringify(pair)}: expected key=value, e.g. ${flag} flint.worker.timeout=30s`);
  }
  return [key, pair.slice(eq + 1)];
}

/** `-Dkey=value` words of an options variable; other words (Node flags) are returned apart. */
export function parseDaemonOpts(value: string, variable: string): { conf: Array<[string, string]>; other: string[] } {
  const conf: Array<[string, string]> = [];
  const other: string[] = [];
  for (const word of value.split(/\s+/).filter((w) => w.length > 0)) {
    if (word.startsWith('-D')) conf.push(parseConfPair(word.slice(2), variable));
    else other.push(word);
  }
  return { conf, other };
}

export interface LoadConfOptions {
  /** `--properties-file`. */
  readonly propertiesFile?: string | undefined;
  /** `--conf` pairs, in order. */
  readonly confPairs?: readonly string[];
  /** Names of the options variables to read, e.g. ['FLINT_DAEMON_OPTS', 'FLINT_MASTER_OPTS']. */
  readonly optsVariables?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Flint's home, for the default `conf/flint-defaults.conf`. */
  readonly flintHome?: string;
}

export function defaultPropertiesFile(env: NodeJS.ProcessEnv, flintHome: string | undefined): string | undefined {
  const dir = env['FLINT_CONF_DIR'] ?? (flintHome ? join(flintHome, 'conf') : undefined);
  const file = dir ? join(dir, 'flint-defaults.conf') : undefined;
  return file && existsSync(file) ? file : undefined;
}

export function loadConf(opts: LoadConfOptions = {}): FlintConf {
  const env = opts.env ?? process.env;
  const conf = new FlintConf();
  const file = opts.propertiesFile ?? defaultPropertiesFile(env, opts.flintHome);
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError('--properties-file', `cannot read properties file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    for (const [k, v] of parseProperties(text, file)) conf.set(k, v);
  }
  for (const variable of opts.optsVariables ?? []) {
    const value = env[variable];
    if (value) for (const [k, v] of parseDaemonOpts(value, variable).conf) conf.set(k, v);
  }
  for (const pair of opts.confPairs ?? []) {
    const [k, v] = parseConfPair(pair);
    conf.set(k, v);
  }
  return conf;
}
