// Mutation testing of the sans-I/O cores with Stryker (stryker.config.json, docs/testing.md):
//
//   npm run mutate                            tests every mutant (43 minutes on 2 busy cores)
//   npm run mutate -- --survivors             also lists each surviving and uncovered mutant, by file and line
//   npm run mutate -- --retest-undetected     tests again only the lines where the last report has a surviving or
//                                             uncovered mutant, and keeps that report's results for the rest
//
// Stryker mutates src/scheduling, src/master and src/worker and runs the unit tests of those folders against
// each mutant. This script then reads Stryker's JSON report and prints a table per folder. The last line is one
// JSON object: mutationScore, folders, killed, survived, noCoverage, timeout, cpu, node, wallSeconds, mode.
//
// --retest-undetected is for the loop of writing tests: a test added can kill a mutant, never revive one, so
// while src/ and the existing tests are unchanged, the mutants the last report saw killed stay killed. It
// runs Stryker in incremental mode on a copy of that report, with `--force` and `--mutate` narrowed to those
// lines: the mutants on them are tested again, every other result is taken from the copy.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '..');
const FOLDERS = ['src/scheduling', 'src/master', 'src/worker'] as const;

const { values } = parseArgs({
  options: {
    survivors: { type: 'boolean', default: false },
    'retest-undetected': { type: 'boolean', default: false },
  },
  strict: true,
});

function fail(message: string): never {
  process.stderr.write(`mutate: ${message}\n`);
  process.exit(2);
}

/** The part of mutation-testing-report-schema that this script reads. */
interface Report {
  readonly files: Record<string, { readonly mutants: ReadonlyArray<Mutant> }>;
}
interface Mutant {
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly status: string;
  readonly location: { readonly start: Position; readonly end: Position };
}
interface Position {
  readonly line: number;
  readonly column: number;
}
const UNDETECTED: ReadonlySet<string> = new Set(['Survived', 'NoCoverage']);

const config = JSON.parse(readFileSync(join(root, 'stryker.config.json'), 'utf8')) as { jsonReporter: { fileName: string } };
const reportPath = join(root, config.jsonReporter.fileName);
const readReport = (): Report => JSON.parse(readFileSync(reportPath, 'utf8')) as Report;

/** Stryker's arguments for --retest-undetected: the last report as the incremental file, the lines to test again. */
function retestArguments(): string[] {
  if (!existsSync(reportPath)) fail(`--retest-undetected needs a report from an earlier run at ${relative(root, reportPath)}`);
  const previous = join(dirname(reportPath), 'previous.json');
  copyFileSync(reportPath, previous);
  const ranges = new Set<string>();
  for (const [file, { mutants }] of Object.entries(readReport().files)) {
    for (const m of mutants) {
      if (UNDETECTED.has(m.status)) ranges.add(`${relative(root, join(root, file))}:${m.location.start.line}-${m.location.end.line}`);
    }
  }
  if (ranges.size === 0) fail('the last report has no surviving or uncovered mutant: nothing to test again');
  return ['--incremental', '--incrementalFile', previous, '--force', '--mutate', [...ranges].join(',')];
}

// The tap runner starts each test file with the `node` it finds on PATH: make that the node running this script
// (Node 24, whose type stripping runs the .ts tests), not whatever older node the shell has. Every mutant starts
// a test process that loads the same instrumented sources (Stryker switches mutants on at run time), so Node's
// compile cache spares each of them the type stripping and compiling of all that code.
const strykerArgs = values['retest-undetected'] ? retestArguments() : [];
const started = performance.now();
const run = spawnSync(process.execPath, [join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js'), 'run', ...strykerArgs], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    NODE_COMPILE_CACHE: join(root, '.stryker-tmp', 'node-compile-cache'),
  },
});
const wallSeconds = (performance.now() - started) / 1000;
if (run.error !== undefined) fail(`could not start Stryker: ${run.error.message}`);
if (run.status !== 0) fail(`Stryker exited with ${run.status ?? run.signal}`);


interface Tally {
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
}
const emptyTally = (): Tally => ({ killed: 0, timeout: 0, survived: 0, noCoverage: 0 });

/** Stryker's mutation score: detected (killed + timeout) over valid (detected + survived + no coverage), in %. */
const score = (t: Tally): number => {
  const valid = t.killed + t.timeout + t.survived + t.noCoverage;
  return valid === 0 ? 100 : Math.round(((t.killed + t.timeout) / valid) * 10000) / 100;
};

const report = readReport();
const total = emptyTally();
const byFolder = new Map<string, Tally>(FOLDERS.map((f) => [f, emptyTally()]));
const undetected: string[] = [];
for (const [file, { mutants }] of Object.entries(report.files)) {
  const path = relative(root, join(root, file));
  const folder = FOLDERS.find((f) => path.startsWith(`${f}/`));
  if (folder === undefined) fail(`${path} is outside the mutated folders ${FOLDERS.join(', ')}`);
  const tally = byFolder.get(folder) ?? fail(`no tally for ${folder}`);
  for (const m of mutants) {
    // CompileError, RuntimeError and Ignored mutants are not valid ones and count nowhere, as in Stryker's score.
    const key = ({ Killed: 'killed', Timeout: 'timeout', Survived: 'survived', NoCoverage: 'noCoverage' } as const)[m.status];
    if (key === undefined) continue;
    tally[key]++;
    total[key]++;
    if (UNDETECTED.has(m.status)) {
      undetected.push(`${path}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} ${m.status}: ${JSON.stringify(m.replacement ?? '')}`);
    }
  }
}

const rows = [...byFolder.entries(), ['all', total] as const];
const line = (cells: ReadonlyArray<string | number>): string => cells.map((c, i) => (i === 0 ? String(c).padEnd(16) : String(c).padStart(10))).join(' ');
const out: string[] = [];
if (values.survivors) out.push(...undetected, '');
out.push(line(['folder', 'score %', 'killed', 'timeout', 'survived', 'no cov']));
for (const [name, t] of rows) out.push(line([name, score(t).toFixed(2), t.killed, t.timeout, t.survived, t.noCoverage]));

const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
const summary = {
  mutationScore: score(total),
  folders: Object.fromEntries([...byFolder].map(([f, t]) => [f, score(t)])),
  ...total,
  cpu,
  node: process.version,
  wallSeconds: Math.round(wallSeconds),
  mode: values['retest-undetected'] ? 'retest-undetected' : 'full',
};
process.stdout.write(`${out.join('\n')}\n${JSON.stringify(summary)}\n`);
