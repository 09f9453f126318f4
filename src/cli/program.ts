// `flint`'s commands (commander). src/cli/main.ts loads this once the compile cache is on.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isFlintError } from '../errors.ts';
import { demoCommand } from './demo-command.ts';
import { masterCommand } from './master-command.ts';
import { planCommand } from './plan-command.ts';
import { submitCommand } from './submit-command.ts';
import { workerCommand } from './worker-command.ts';
import { appsCommand, statusCommand } from './status-command.ts';
import { killCommand } from './kill-command.ts';
import { decommissionCommand } from './decommission-command.ts';
import { logsCommand } from './logs-command.ts';
import { FLINT_HOME as INSTALL_HOME, sourcePath } from '../util/install.ts';

const FLINT_HOME = process.env['FLINT_HOME'] ?? INSTALL_HOME;

const pkg = JSON.parse(readFileSync(sourcePath('package.json'), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('flint')
    .description("Flint: Apache Spark's standalone cluster manager and task runtime, in TypeScript")
    .version(`flint ${pkg.version} (node ${process.version}, wire protocol 1)`, '-v, --version', 'print the version and exit')
    .showHelpAfterError('(run flint --help for usage)')
    .enablePositionalOptions()
    .exitOverride();
  program.addCommand(masterCommand(FLINT_HOME));
  program.addCommand(workerCommand(FLINT_HOME));
  program.addCommand(submitCommand(FLINT_HOME));
  program.addCommand(demoCommand(FLINT_HOME));
  // The operators' commands (docs/operations.md, "Commands for operators").
  program.addCommand(statusCommand(FLINT_HOME));
  program.addCommand(appsCommand(FLINT_HOME));
  program.addCommand(logsCommand(FLINT_HOME));
  program.addCommand(killCommand(FLINT_HOME));
  program.addCommand(decommissionCommand(FLINT_HOME));
  program.addCommand(planCommand(FLINT_HOME));
  program.addHelpText('after', '\nDocumentation: README.md and docs/ in the Flint checkout.');
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
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
