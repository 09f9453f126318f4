// The programs of a Flint install, by name: pure data, so that the worker's machine (src/worker/process-specs.ts)
// can name them without reaching install.ts, which reads where this install is through node:path and node:url.

/** The programs of an install: their source file, and their name in a build (`<name>.mjs`). */
export const PROGRAMS = {
  cli: 'src/cli/main.ts',
  executor: 'src/entry/executor.ts',
  driver: 'src/entry/driver.ts',
  'task-thread': 'src/io/executor/task-thread.ts',
  api: 'src/api/index.ts',
} as const;

export type ProgramName = keyof typeof PROGRAMS;
