// `flint`'s commands (commander). src/cli/main.ts loads this once the compile cache is on.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isFlintError } from '../errors.ts';
import { FLINT_HOME as INSTALL_HOME, sourcePath } from '../util/install.ts';

const FLINT_HOME = process.env['FLINT_HOME'] ?? INSTALL_HOME;

const pkg = JSON.parse(readFileSync(sourcePath('package.json'), 'utf8')) as { version: string };

/** A command's builder, given FLINT_HOME. */
type CommandBuilder = (flintHome: string) => Command;

/**
 * The commands, in the order `flint --help` lists them, each loaded only when needed: a command's module brings
 * what it runs (`submit` the driver's API, `demo` a local cluster, the operators' commands their client), and
 * loading all of them for any one cost `flint submit` about 12 ms of its start (docs/benchmarks.md, bench:submit).
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<CommandBuilder>]> = [
  ['master', async () => (await import('./master-command.ts')).masterCommand],
  ['worker', async () => (await import('./worker-command.ts')).workerCommand],
  ['submit', async () => (await import('./submit-command.ts')).submitCommand],
  ['demo', async () => (await import('./demo-command.ts')).demoCommand],
  // The operators' commands (docs/operations.md, "Commands for operators").
  ['status', async () => (await import('./status-command.ts')).statusCommand],
  ['apps', async () => (await import('./status-command.ts')).appsCommand],
  ['logs', async () => (await import('./logs-command.ts')).logsCommand],
  ['kill', async () => (await import('./kill-command.ts')).killCommand],
  ['decommission', async () => (await import('./decommission-command.ts')).decommissionCommand],
  ['plan', async () => (await import('./plan-command.ts')).planCommand],
];

/**
 * The program for `argv`: with only the command it names when its first word is one (its options, help and errors
 * are all that can show), else with every command (`flint`, `flint --help`, `flint help x`, a misspelt command,
 * which commander answers with the nearest name).
 */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('flint')
    .description("Flint: Apache Spark's standalone cluster manager and task runtime, in TypeScript")
    .version(`flint ${pkg.version} (node ${process.version}, wire protocol 1)`, '-v, --version', 'print the version and exit')
    .showHelpAfterError('(run flint --help for usage)')
    .enablePositionalOptions()
    .exitOverride();
  const named = COMMANDS.find(([name]) => name === argv[0]);
  const builders = await Promise.all((named === undefined ? COMMANDS : [named]).map(([, load]) => load()));
  for (const build of builders) program.addCommand(build(FLINT_HOME));
  program.addHelpText('after', '\nDocumentation: README.md and docs/ in the Flint checkout.');
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    if (argv.length === 0) program.outputHelp();
    // A command (or the application it ran) may have set the exit code already.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (isFlintError(err)) {
      process.stderr.write(`flint: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
