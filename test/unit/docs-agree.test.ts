// The documentation agrees with the code: every `flint.*` key the code names is in docs/configuration.md, every
// key documented there is read by the code and is one the CLI and the driver know (src/conf/known-keys.ts), and
// every relative link in README.md and docs/ leads to a file that
// exists (and, with a #fragment, to a heading of that file).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KNOWN_KEYS, KNOWN_KEY_PATTERNS, isKnownKey } from '../../src/conf/known-keys.ts';
import { withoutComments } from '../helpers/source-text.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The TypeScript under src/, comments removed (a key named in a comment is not one the code reads). */
const sources = readdirSync(join(ROOT, 'src'), { recursive: true })
  .map(String)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => ({ file: `src/${file}`, code: withoutComments(readFileSync(join(ROOT, 'src', file), 'utf8')) }));

/**
 * Every backquoted `flint.…` key of docs/configuration.md. In a key, `<name>` stands for one segment of any name;
 * a key ending in `.*` names a group of the keys above it (`flint.rpc.*`), not a pattern.
 */
const configuration = read('docs/configuration.md');
const documented = new Set([...configuration.matchAll(/`(flint\.[A-Za-z0-9_.*<>{}-]+)`/g)].map((m) => m[1] as string));
/**
 * A key, as documented: by the rule Flint's own warning uses (src/conf/known-keys.ts: `<name>` patterns, TLS keys
 * per namespace), over KNOWN_KEYS, which the test below keeps equal to the documented keys.
 */
const isDocumented = isKnownKey;

/**
 * The keys the code names: `flint.…` in quotes, but for a Symbol's description (`Symbol.for('flint.launch')`);
 * and the keys it builds: `${KEY}.name` where `const KEY = 'flint.…'` in the same file (dynamic allocation's),
 * `lookup(conf, ns, 'keyFile', 'privateKey')` in the TLS options (flint.ssl.keyFile, its alias, and each
 * namespace's copy), `${key}.file` of each secret key in flint-conf.ts.
 */
function keysInCode(): Map<string, string> {
  const keys = new Map<string, string>();
  const add = (key: string, file: string): void => {
    if (!keys.has(key)) keys.set(key, file);
  };
  for (const { file, code } of sources) {
    const symbols = new Set([...code.matchAll(/Symbol(?:\.for)?\(\s*['"`](flint\.[^'"`]+)['"`]/g)].map((m) => m[1]));
    for (const m of code.matchAll(/['"`](flint\.[a-zA-Z][A-Za-z0-9_.-]*[A-Za-z0-9])['"`]/g)) {
      if (!symbols.has(m[1])) add(m[1] as string, file);
    }
    for (const [, name, prefix] of code.matchAll(/const (\w+) = '(flint\.[A-Za-z0-9_.]+)'/g)) {
      for (const m of code.matchAll(new RegExp(`\`\\$\\{${name}\\}(\\.[A-Za-z0-9_.]+)\``, 'g'))) add(`${prefix}${m[1]}`, file);
    }
    if (file === 'src/io/tls/ssl-options.ts') {
      for (const [, names] of code.matchAll(/lookup\(conf, ns, ((?:'[A-Za-z]+'(?:, )?)+)\)/g)) {
        for (const [, name] of (names as string).matchAll(/'([A-Za-z]+)'/g)) add(`flint.ssl.${name}`, file);
      }
    }
    if (file === 'src/conf/flint-conf.ts' && code.includes('`${key}.file`')) {
      for (const key of ['flint.authenticate.secret', 'flint.authenticate.appSecret']) if (code.includes(`'${key}'`)) add(`${key}.file`, file);
    }
  }
  return keys;
}

const codeKeys = keysInCode();
/** A name the code uses to build keys or to report a group of them (`flint.ssl`): some documented key extends it. */
const isPrefix = (key: string): boolean => [...documented].some((d) => d.startsWith(`${key}.`));

test('every flint.* key the code names is documented in docs/configuration.md', () => {
  assert.ok(codeKeys.size > 100, `${codeKeys.size} keys found in src/`);
  const missing = [...codeKeys].filter(([key]) => !isDocumented(key) && !isPrefix(key)).map(([key, file]) => `${key} (${file})`);
  assert.deepEqual(missing, [], 'keys named in src/ but not in docs/configuration.md');
});

test('every key docs/configuration.md documents is read by the code', () => {
  const unread = [...documented].filter((key) => !/[*<>{}]/.test(key) && !codeKeys.has(key));
  assert.deepEqual(unread, [], 'keys in docs/configuration.md that no code in src/ names');
});

test('the keys Flint warns about not knowing (src/conf/known-keys.ts) are exactly the documented ones', () => {
  const keys = [...documented].filter((key) => !/[*<>{}]/.test(key)).sort();
  assert.deepEqual([...KNOWN_KEYS], keys, 'KNOWN_KEYS against docs/configuration.md');
  assert.deepEqual([...KNOWN_KEY_PATTERNS], [...documented].filter((key) => /[<>{}]/.test(key)).sort(), 'KNOWN_KEY_PATTERNS');
});

/** GitHub's anchor of a heading: lower case, punctuation but hyphens dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Markdown without its fenced code blocks (a link-like text there is code, not a link). */
const prose = (text: string): string => text.replace(/^```[\s\S]*?^```/gm, '');

function anchorsOf(path: string): Set<string> {
  return new Set([...prose(read(path)).matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1] as string)));
}

test('every relative link in README.md and docs/ leads to a file that exists, and a #fragment to one of its headings', () => {
  const pages = ['README.md', ...readdirSync(join(ROOT, 'docs'), { recursive: true }).map((f) => `docs/${String(f)}`).filter((f) => f.endsWith('.md'))];
  assert.ok(pages.length > 10, `${pages.length} pages`);
  const broken: string[] = [];
  let links = 0;
  for (const page of pages) {
    // Inline code is code too: `ds['map'](…)` is a call, not a link.
    for (const m of prose(read(page)).replace(/`[^`\n]+`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) {
      const url = m[1] as string;
      if (/^[a-z][a-z0-9+.-]*:/i.test(url)) continue; // http:, https:, mailto:
      links += 1;
      const [path = '', fragment] = url.split('#', 2);
      const target = path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path)));
      if (relative(ROOT, join(ROOT, target)).startsWith('..') || !existsSync(join(ROOT, target))) broken.push(`${page}: ${url} (no such file)`);
      else if (fragment !== undefined && target.endsWith('.md') && !anchorsOf(target).has(fragment)) broken.push(`${page}: ${url} (no such heading)`);
    }
  }
  assert.ok(links > 50, `${links} relative links checked`);
  assert.deepEqual(broken, []);
});
