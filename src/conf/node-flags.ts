// Node flags given as one space-separated setting (FLINT_DAEMON_NODE_OPTS, flint.executor.*NodeOptions). They
// become separate argv words of a child process, never a shell string, so a word that is not a flag is refused:
// it would be taken for the program to run.

import { ConfigError } from '../errors.ts';

/** The words of `text`; throws ConfigError naming `key` and the first word that does not start with `-`. */
export function parseNodeFlags(text: string, key: string): string[] {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  const bad = words.find((w) => !w.startsWith('-'));
  if (bad !== undefined) throw new ConfigError(key, `${key} holds '${bad}', which is not a Node flag (flags start with -)`);
  return words;
}
