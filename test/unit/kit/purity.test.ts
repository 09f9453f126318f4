// The machines are sans-I/O (STYLE.md §3, §6; docs/architecture.md), and the simulator that runs them must be
// deterministic: nothing the core folders (and src/sim) import, directly or
// through any chain of imports, may reach a `node:*` module, the clock, global randomness or the event loop's
// timers. The lint rule in eslint.config.js sees a file's own imports; this test follows every relative import from
// the core folders to the end and parses each file it reaches with the TypeScript compiler.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../../..');
const CORE = ['src/kit', 'src/master', 'src/worker', 'src/executor', 'src/task', 'src/driver', 'src/app', 'src/scheduling', 'src/sim', 'src/ui', 'src/protocol'];
/**
 * Packages the core may use: pure code (schemas and their compiler; the simulator's executors and drivers encode
 * and decode task results with msgpack, as the real ones do).
 */
const PACKAGES = new Set(['@sinclair/typebox', '@sinclair/typebox/compiler', '@sinclair/typebox/value', '@msgpack/msgpack']);
/** `object.member` reads that reach outside: the clock and randomness. */
const MEMBERS = new Map([
  ['Date', new Set(['now'])],
  ['Math', new Set(['random'])],
  ['performance', new Set(['now', 'timeOrigin'])],
  ['crypto', new Set(['getRandomValues', 'randomUUID'])],
]);
/** Globals the core must not name at all. */
const GLOBALS = new Set(['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask', 'process', 'require', 'fetch']);

interface Violation {
  readonly file: string;
  readonly what: string;
  readonly via: readonly string[];
}

function coreFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) out.push(path);
    }
  };
  for (const dir of CORE) walk(join(ROOT, dir));
  return out.sort();
}

/** The module specifiers a file imports or re-exports (static and dynamic), and what it reads that it must not. */
function scan(file: string): { imports: string[]; uses: string[] } {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const imports: string[] = [];
  const uses: string[] = [];
  const line = (node: ts.Node): number => source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      imports.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      imports.push(arg && ts.isStringLiteral(arg) ? arg.text : `<dynamic import at line ${line(node)}>`);
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      if (MEMBERS.get(node.expression.text)?.has(node.name.text)) uses.push(`${node.expression.text}.${node.name.text} (line ${line(node)})`);
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Date' && (node.arguments?.length ?? 0) === 0) {
      uses.push(`new Date() (line ${line(node)})`);
    } else if (ts.isIdentifier(node) && GLOBALS.has(node.text) && isGlobalReference(node)) {
      uses.push(`${node.text} (line ${line(node)})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { imports, uses };
}

/** An identifier used as a value reference, not a property name, a declaration or a type member. */
function isGlobalReference(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if ((ts.isPropertyAssignment(parent) || ts.isPropertySignature(parent) || ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent)) && parent.name === node) return false;
  if ((ts.isVariableDeclaration(parent) || ts.isParameter(parent) || ts.isFunctionDeclaration(parent)) && parent.name === node) return false;
  if (ts.isImportSpecifier(parent) || ts.isExportSpecifier(parent)) return false;
  return true;
}

function violations(): Violation[] {
  const found: Violation[] = [];
  const seen = new Set<string>();
  const queue: Array<{ file: string; via: string[] }> = coreFiles().map((file) => ({ file, via: [] }));
  for (let i = 0; i < queue.length && i < 10_000; i++) {
    const { file, via } = queue[i]!;
    if (seen.has(file)) continue;
    seen.add(file);
    const rel = relative(ROOT, file);
    const chain = [...via, rel];
    const { imports, uses } = scan(file);
    for (const use of uses) found.push({ file: rel, what: use, via });
    for (const spec of imports) {
      if (spec.startsWith('.')) queue.push({ file: resolve(dirname(file), spec), via: chain });
      else if (!PACKAGES.has(spec)) found.push({ file: rel, what: `imports ${spec}`, via });
    }
  }
  return found;
}

test('nothing the core folders reach imports node:*, reads the clock or randomness, or sets timers', () => {
  const found = violations();
  const report = found.map((v) => `${v.file}: ${v.what}${v.via.length > 0 ? `\n    reached through ${v.via.join(' -> ')}` : ''}`).join('\n');
  assert.deepEqual(found, [], `the sans-I/O core reaches I/O:\n${report}`);
});

test('the walker sees through a chain of imports', () => {
  // A self-check: util/install.ts (outside the core) reaches node:path; scanning it must say so.
  const { imports } = scan(join(ROOT, 'src/util/install.ts'));
  assert.ok(imports.some((s) => s.startsWith('node:')), `src/util/install.ts imports ${JSON.stringify(imports)}`);
  const { uses } = scan(join(ROOT, 'src/daemons/system.ts'));
  assert.deepEqual(uses.map((u) => u.replace(/ \(line \d+\)$/, '')), ['Date.now', 'performance.now']);
});
