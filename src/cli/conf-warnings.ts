// The CLI's warnings about the configuration it loaded: a `flint.*` key Flint does not read is most often a
// misspelling (src/conf/known-keys.ts), ignored where Spark would ignore it too, so it is said on stderr.

import type { FlintConf } from '../conf/flint-conf.ts';
import { unknownKeyWarnings } from '../conf/known-keys.ts';

/** Writes `flint: warning: …` for each key of `conf` Flint does not read, naming the nearest known key. */
export function warnOfUnknownKeys(conf: FlintConf, write: (line: string) => void = (line) => void process.stderr.write(line)): void {
  for (const warning of unknownKeyWarnings(conf.keys(), '--conf, the properties file or the OPTS variables')) write(`flint: warning: ${warning}\n`);
}
