// The source transform that lets task functions be written inline: `ds.map((x) => x * factor)`. Flint's
// counterpart of Spark's ClosureCleaner plus closure serialisation (docs/applications.md, "Task functions";
// docs/differences-from-spark.md). Spark ships a closure's bytecode and its captured objects; JavaScript
// cannot serialise a function, so the function's code travels in the application bundle instead, under a
// stable id, and only its captured values travel with the task.
//
// Each arrow function or function expression passed directly as an argument to a call of a method that takes
// task functions (TASK_FUNCTION_METHODS, the Dataset's) is analysed with Babel's scope bindings:
//   - a name bound at the module's top level (an import, a top-level const or function) stays as it is: the
//     executor evaluates the module too;
//   - a name bound in an enclosing function or block is a capture;
//   - a global stays as it is.
// The function's text is moved to the module's top level inside a factory of its captures,
//   function __flint$f_<id>(factor) { return (x) => x * factor; }
// registered under its id when the module loads, and the call site becomes the factory applied to the
// current values, tagged with the id and those values (a no-op on executors):
//   ds.map(__flint$inline.tag(__flint$f_<id>(factor), "<id>", [factor]))
// A function that cannot move stays where it is, tagged with the reason (`refuse`), which the driver throws
// when it is passed to a Dataset method: a capture assigned after the function or inside it (the copy would
// not see the change), an arrow that uses its enclosing function's `this`, `arguments`, `super` or `new.target`,
// or a class's private name.
//
// Array methods of the same names (`[1, 2].map((x) => x + k)`) match too: the factory returns the same
// function, so they behave as before, at the cost of one call and one tag per creation, never per element.
//
// The id is a hash of the file's path relative to the app's main-module directory and the function's line and
// column, so the driver (its module load hook, resolve-flint.ts) and the executors' bundle (bundle-app.ts's
// esbuild plugin) agree on it, run after run. Positions outside the moved text are kept; a source map maps the
// moved text back to its own lines.

import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { relative, sep } from 'node:path';
import type * as BabelParser from '@babel/parser';
import type * as BabelTraverse from '@babel/traverse';
import type { Binding, NodePath, Scope } from '@babel/traverse';
import type * as t from '@babel/types';
import type MagicStringClass from 'magic-string';

/** Methods whose function arguments are task functions (src/api/dataset.ts, and the context's `runJob`). */
export const TASK_FUNCTION_METHODS: ReadonlySet<string> = new Set([
  'map',
  'filter',
  'flatMap',
  'mapPartitions',
  'keyBy',
  'mapValues',
  'flatMapValues',
  'sortBy',
  'reduceByKey',
  'foldByKey',
  'aggregateByKey',
  'combineByKey',
  'reduce',
  'fold',
  'foreach',
  'runJob',
]);

/**
 * Bumped whenever the generated code changes, or the files transformed (2: ds[`map`](…)), so that bundles and
 * transformed modules cached before are not reused (bundle-app.ts, transformedText).
 */
export const INLINE_TRANSFORM_VERSION = 2;

/** One inline function found by the transform. */
export interface InlineSite {
  readonly id: string;
  /** `file:line` relative to the app's main-module directory, as errors show it. */
  readonly where: string;
  readonly line: number;
  readonly column: number;
  /** Names the function captures from enclosing functions and blocks, in order of first use. */
  readonly captures: readonly string[];
  /** Why it cannot travel, when it cannot (the driver throws this when it is passed to a Dataset method). */
  readonly refused?: string;
}

export interface InlineTransformResult {
  readonly code: string;
  /** A source map (version 3, JSON) from `code` to the original source. */
  readonly map: string;
  readonly sites: readonly InlineSite[];
}

export interface InlineTransformOptions {
  /** The file's absolute path. */
  readonly path: string;
  /** The app's main-module directory: ids and messages name files relative to it. */
  readonly rootDir: string;
}

/**
 * Quick tests before parsing: only a file with a call of such a method with a function literal among its
 * arguments (before the next semicolon), or a const bound to a function literal, is parsed. Both sides (the
 * driver's hook, the bundle) apply the same tests, so they transform the same files.
 */
const METHOD_NAMES = [...TASK_FUNCTION_METHODS].join('|');
const MAYBE_CALL = new RegExp(String.raw`(?:\.\s*(?:${METHOD_NAMES})|\[\s*(['"\x60])(?:${METHOD_NAMES})\1\s*\])\s*(?:\?\.\s*)?\([^;]*?(?:=>|\bfunction\b)`);
const MAYBE_CONST = /\bconst\s+[\w$]+\s*(?::[^=;]*)?=\s*(?:async\s*)?(?:function\b|\([^()]*\)\s*(?::[^=;{]*)?=>|[\w$]+\s*=>)/;

/** Whether the quick tests say the module may have inline functions (only then is it parsed). */
function mayHaveInlineFunctions(source: string): boolean {
  return MAYBE_CALL.test(source) || MAYBE_CONST.test(source);
}

interface Tools {
  readonly traverse: typeof BabelTraverse.default;
  readonly MagicString: typeof MagicStringClass;
}
let parser: typeof BabelParser.parse | undefined;
let tools: Tools | undefined;

/**
 * Babel's parser, loaded the first time a file may hold inline functions (synchronously: the driver's module hook
 * is synchronous): about 20 ms.
 */
function loadParser(): typeof BabelParser.parse {
  parser ??= (createRequire(import.meta.url)('@babel/parser') as typeof BabelParser).parse;
  return parser;
}

/**
 * Babel's traverse (its scope analysis) and magic-string, loaded the first time a file has an inline function:
 * traverse alone takes 110–130 ms to load on a 2-vCPU VM (bench:submit), which a program whose task functions are
 * all exported never pays.
 */
function loadTools(): Tools {
  if (tools === undefined) {
    const require = createRequire(import.meta.url);
    tools = {
      traverse: (require('@babel/traverse') as typeof BabelTraverse).default,
      MagicString: (require('magic-string') as { default: typeof MagicStringClass }).default,
    };
  }
  return tools;
}

/** A node of Babel's AST, as hasCandidates walks it: plain objects with a `type`. */
interface AnyNode {
  readonly type: string;
  readonly [key: string]: unknown;
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

function isFunctionLiteral(node: unknown): boolean {
  return isNode(node) && (node.type === 'ArrowFunctionExpression' || node.type === 'FunctionExpression');
}

/**
 * Whether findCandidates would find an inline function in `root`, told from the parsed tree alone (a walk over
 * its nodes, no scope analysis), so that Babel's traverse is loaded only for a file that has one. The same tests as
 * findCandidates: a `const` bound to a function literal, or a function literal given to a task-function method.
 */
function hasCandidates(root: AnyNode): boolean {
  const stack: unknown[] = [root];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    if (!isNode(node)) continue;
    if (node.type === 'VariableDeclaration' && node['kind'] === 'const') {
      const declarations = node['declarations'] as AnyNode[];
      if (declarations.some((d) => isNode(d['id']) && d['id'].type === 'Identifier' && isFunctionLiteral(d['init']))) return true;
    }
    if ((node.type === 'CallExpression' || node.type === 'OptionalCallExpression') && callsTaskMethod(node['callee'] as t.Node)) {
      if ((node['arguments'] as unknown[]).some(isFunctionLiteral)) return true;
    }
    for (const key in node) {
      if (key === 'loc' || key === 'leadingComments' || key === 'trailingComments' || key === 'innerComments' || key === 'extra') continue;
      const child = node[key];
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
  return false;
}

/**
 * The module with its inline task functions moved into registered factories, or undefined when it has none (or
 * is not an ES module: the prelude is an import). Throws Babel's SyntaxError for a file that does not parse.
 */
export function transformInline(source: string, opts: InlineTransformOptions): InlineTransformResult | undefined {
  if (!mayHaveInlineFunctions(source)) return undefined;
  const parse = loadParser();
  const typescript = /\.[cm]?tsx?$/.test(opts.path);
  const jsx = opts.path.endsWith('x') ? (['jsx'] as const) : [];
  const ast = parse(source, {
    sourceType: 'module',
    sourceFilename: opts.path,
    plugins: typescript ? [['typescript', { dts: false }], ...jsx] : [...jsx],
    errorRecovery: false,
  });
  if (!ast.program.body.some((s) => s.type.startsWith('Import') || s.type.startsWith('Export'))) return undefined;
  if (!hasCandidates(ast.program as unknown as AnyNode)) return undefined;
  const { traverse, MagicString } = loadTools();
  const candidates = findCandidates(ast, traverse);
  if (candidates.length === 0) return undefined;
  const file = relative(opts.rootDir, opts.path).split(sep).join('/');
  const ms = new MagicString(source);
  const sites: InlineSite[] = [];
  const defines: string[] = [];
  // Innermost first: a function inside another moves first, and its call site then moves with the outer one.
  for (const { fn, name } of [...candidates].sort((a, b) => (b.fn.node.start ?? 0) - (a.fn.node.start ?? 0))) {
    const site = analyse(fn, file, name);
    sites.push(site);
    const start = fn.node.start as number;
    const end = fn.node.end as number;
    if (site.refused !== undefined) {
      ms.appendLeft(start, `__flint$inline.refuse(`);
      ms.prependRight(end, `, ${JSON.stringify(site.id)})`);
      continue;
    }
    const factory = `__flint$f_${site.id}`;
    const params = site.captures.join(', ');
    // A const's function keeps its name (`scale.name`), as it had where it was.
    ms.prependRight(start, name === undefined ? `\nfunction ${factory}(${params}) { return (` : `\nfunction ${factory}(${params}) { const ${name} = (`);
    ms.appendLeft(end, name === undefined ? `); }` : `); return ${name}; }`);
    ms.move(start, end, source.length);
    ms.appendLeft(start, `__flint$inline.tag(${factory}(${params}), ${JSON.stringify(site.id)}, [${params}])`);
    defines.push(`__flint$inline.define(${JSON.stringify(site.id)}, ${factory}, ${JSON.stringify(site.where)}, ${JSON.stringify(site.captures)});`);
  }
  sites.reverse();
  const refusals = sites.filter((s) => s.refused !== undefined).map((s) => `__flint$inline.explain(${JSON.stringify(s.id)}, ${JSON.stringify(s.refused)});`);
  // One line, so that no line below moves; after a hashbang, which must stay first.
  // The registry's global slot is src/api/inline-registry.ts's; a `flint` that installs none (a test's stand-in)
  // gets one that does nothing, so the module still runs as it was written.
  const fallback = '{ define() {}, explain() {}, tag: (f) => f, refuse: (f) => f }';
  const prelude = `import "flint"; const __flint$inline = globalThis[Symbol.for("flint.inline")] ?? ${fallback}; ${[...defines, ...refusals].join(' ')} `;
  const at = ast.program.interpreter ? source.indexOf('\n', ast.program.interpreter.end as number) + 1 : 0;
  if (at <= 0) ms.prepend(prelude);
  else ms.appendLeft(at, prelude);
  return { code: ms.toString(), map: ms.generateMap({ source: opts.path, hires: true, includeContent: false }).toString(), sites };
}

type FunctionPath = NodePath<t.ArrowFunctionExpression | t.FunctionExpression>;

/** An inline function: an argument of a task-function method, or the value of a `const` (`name`). */
interface Candidate {
  readonly fn: FunctionPath;
  readonly name?: string;
}

function findCandidates(ast: t.File, traverse: Tools['traverse']): Candidate[] {
  const found: Candidate[] = [];
  traverse(ast, {
    VariableDeclarator(path: NodePath<t.VariableDeclarator>) {
      const init = path.get('init');
      const parent = path.parentPath.node;
      if (path.node.id.type !== 'Identifier' || parent.type !== 'VariableDeclaration' || parent.kind !== 'const') return;
      if (init.isArrowFunctionExpression() || init.isFunctionExpression()) found.push({ fn: init, name: path.node.id.name });
    },
    'CallExpression|OptionalCallExpression'(path: NodePath<t.CallExpression | t.OptionalCallExpression>) {
      if (!callsTaskMethod(path.node.callee)) return;
      for (const arg of path.get('arguments')) {
        if (arg.isArrowFunctionExpression() || arg.isFunctionExpression()) found.push({ fn: arg });
      }
    },
  });
  return found;
}

/** Whether a call's callee is `x.m`, `x?.m` or `x['m']` with `m` a task-function method (TASK_FUNCTION_METHODS). */
function callsTaskMethod(callee: t.Node): boolean {
  if (callee.type !== 'MemberExpression' && callee.type !== 'OptionalMemberExpression') return false;
  const { property } = callee;
  return TASK_FUNCTION_METHODS.has(memberName(callee.computed, property) ?? '');
}

/** `ds.map`, `ds['map']` and ds[`map`] name `map`; any other computed member names nothing known. */
function memberName(computed: boolean, property: t.Node): string | undefined {
  if (!computed) return property.type === 'Identifier' ? property.name : undefined;
  if (property.type === 'StringLiteral') return property.value;
  if (property.type === 'TemplateLiteral' && property.expressions.length === 0) return property.quasis[0]?.value.cooked ?? undefined;
  return undefined;
}

/** The function's id, captures and, when it cannot move, why. */
function analyse(fn: FunctionPath, file: string, ownName: string | undefined): InlineSite {
  const loc = fn.node.loc?.start ?? { line: 0, column: 0 };
  const where = `${file}:${loc.line}`;
  const id = createHash('sha256').update(`${file}:${loc.line}:${loc.column}`).digest('hex').slice(0, 16);
  const base = { id, where, line: loc.line, column: loc.column };
  const captures: string[] = [];
  const problems: string[] = [];
  for (const binding of enclosingBindings(fn)) {
    const name = binding.identifier.name;
    const used = binding.referencePaths.some((p) => inside(p, fn) && !inTypePosition(p, fn));
    const assignedInside = binding.constantViolations.find((p) => inside(p, fn));
    if (!used && assignedInside === undefined) continue;
    captures.push(name);
    if (name === ownName && binding.path.node === fn.parentPath.node) {
      problems.push(`it calls itself through the const "${name}", which is not yet set when the function is made. Fix: declare it with "function ${name}(…)" at the module's top level and export it`);
      continue;
    }
    if (assignedInside !== undefined) {
      problems.push(`it assigns to "${name}" (line ${lineOf(assignedInside)}), a variable of the enclosing code: a copy of the function travels, so the assignment would be lost`);
      continue;
    }
    const later = binding.constantViolations.find((p) => (p.node.start ?? 0) > (fn.node.end ?? 0) || p.scope.getFunctionParent() !== binding.scope.getFunctionParent());
    if (later !== undefined) {
      problems.push(`it captures "${name}", which is assigned again at line ${lineOf(later)}: the value would not be the one the function sees later. Fix: copy it into a const just before the call (const ${name}Now = ${name};) and use that`);
    }
  }
  problems.push(...ownThisProblems(fn));
  if (problems.length === 0) return { ...base, captures };
  return { ...base, captures, refused: `the inline function at ${where} cannot be sent to executors: ${problems.join('; ')}` };
}

/** The bindings of the scopes between the function and the module's top level (both excluded). */
function enclosingBindings(fn: FunctionPath): Binding[] {
  const out: Binding[] = [];
  for (let scope: Scope | undefined = fn.parentPath.scope; scope !== undefined && !scope.path.isProgram(); scope = scope.parent) {
    for (const binding of Object.values(scope.bindings)) {
      if (binding.path.node.type.startsWith('TS') && binding.path.node.type !== 'TSEnumDeclaration') continue; // a type
      if (!out.some((b) => b.identifier.name === binding.identifier.name)) out.push(binding); // the nearest shadows
    }
  }
  return out;
}

function inside(path: NodePath, fn: FunctionPath): boolean {
  const s = path.node.start ?? -1;
  return s >= (fn.node.start ?? 0) && (path.node.end ?? 0) <= (fn.node.end ?? 0);
}

/** A reference in a type annotation (`(x: Local) => …`): erased before running, so no capture. */
function inTypePosition(path: NodePath, fn: FunctionPath): boolean {
  for (let p: NodePath | null = path.parentPath; p !== null && p.node !== fn.node; p = p.parentPath) {
    const type = p.node.type;
    if (type.startsWith('TS') && !VALUE_WRAPPERS.has(type)) return true;
  }
  return false;
}

const VALUE_WRAPPERS = new Set(['TSAsExpression', 'TSSatisfiesExpression', 'TSNonNullExpression', 'TSInstantiationExpression', 'TSTypeAssertion']);

/** `this`, `arguments`, `super`, `new.target` an arrow takes from its enclosing function, and private names. */
function ownThisProblems(fn: FunctionPath): string[] {
  const problems = new Set<string>();
  const outer = (path: NodePath): boolean => {
    for (let p: NodePath | null = path.parentPath; p !== null; p = p.parentPath) {
      if (p.node === fn.node) return fn.isArrowFunctionExpression();
      if ((p.isFunction() && !p.isArrowFunctionExpression()) || p.isClassProperty() || p.isClassPrivateProperty() || p.isStaticBlock()) return false;
    }
    return false;
  };
  fn.traverse({
    ThisExpression(p) {
      if (outer(p)) problems.add(`it uses "this" (line ${lineOf(p)}) of the enclosing function. Fix: copy what it needs from this into a const before the call`);
    },
    Super(p) {
      if (outer(p)) problems.add(`it uses "super" (line ${lineOf(p)}) of the enclosing class`);
    },
    MetaProperty(p) {
      if (p.node.meta.name === 'new' && outer(p)) problems.add(`it uses "new.target" (line ${lineOf(p)}) of the enclosing function`);
    },
    Identifier(p) {
      if (p.node.name === 'arguments' && p.isReferencedIdentifier() && p.scope.getBinding('arguments') === undefined && outer(p)) {
        problems.add(`it uses "arguments" (line ${lineOf(p)}) of the enclosing function. Fix: name the parameters it needs`);
      }
    },
    PrivateName(p) {
      const body = p.findParent((q) => q.isClassBody());
      if (body === null || !inside(body, fn)) problems.add(`it uses the private name #${p.node.id.name} (line ${lineOf(p)}) of the enclosing class`);
    },
  });
  return [...problems];
}

function lineOf(path: NodePath): number {
  return path.node.loc?.start.line ?? 0;
}

/** The first line of every bundle Flint builds (bundle-app.ts): a bundle's inline functions are transformed already. */
export const BUNDLE_MARKER = '// flint bundle: inline task functions transformed';

/**
 * Whether the file at `path` (absolute) may be one of the application's own: a script that is not a package's
 * under node_modules and not Flint's own code (`flintDirs`: its sources, and the build a process runs from, whose
 * chunks the driver loads too: install.ts FLINT_CODE_DIRS). See isFlintBundle too.
 */
export function isAppPath(path: string, flintDirs: readonly string[]): boolean {
  if (!/\.(?:[mc]?[jt]s|[jt]sx)$/.test(path) || /\.d\.[mc]?ts$/.test(path)) return false;
  if (path.split(sep).includes('node_modules')) return false;
  return !flintDirs.some((dir) => path === dir || path.startsWith(dir + sep));
}

/** Whether `source` is a bundle Flint built (cluster mode runs one), whose inline functions are transformed. */
export function isFlintBundle(source: string): boolean {
  return source.slice(0, 1024).includes(BUNDLE_MARKER); // after a hashbang, if any
}

/** Where transformed modules are kept between runs (BundleCache's lookupTransformed and storeTransformed). */
export interface TransformedCache {
  lookupTransformed(key: string): string | undefined;
  storeTransformed(key: string, text: string): void;
}

/**
 * The module's text as it runs: transformInline's output with its source map, or undefined when the module
 * stays as it is. With a `cache`, a module transformed before (by the driver's hook or by the bundler: the key
 * is the same) is read from it, and Babel is not loaded at all. Throws as transformInline for a module that does
 * not parse (not kept: the caller leaves it to Node or esbuild, whose error names the line).
 */
export function transformedText(source: string, opts: InlineTransformOptions, cache?: TransformedCache): string | undefined {
  if (!mayHaveInlineFunctions(source)) return undefined; // cheaper than the cache
  const key = cache && createHash('sha256').update(JSON.stringify([INLINE_TRANSFORM_VERSION, opts.path, opts.rootDir, source])).digest('hex');
  const hit = key === undefined ? undefined : cache?.lookupTransformed(key);
  if (hit !== undefined) return hit === '' ? undefined : hit;
  const result = transformInline(source, opts);
  const text = result === undefined ? undefined : withInlineSourceMap(result);
  if (key !== undefined) {
    try {
      cache?.storeTransformed(key, text ?? ''); // '': nothing to transform
    } catch {
      // a full disk: the next run transforms it again
    }
  }
  return text;
}

/** `code` with `map` appended as an inline source map, as Node and esbuild read them. */
export function withInlineSourceMap(result: InlineTransformResult): string {
  return `${result.code}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(result.map).toString('base64')}\n`;
}
