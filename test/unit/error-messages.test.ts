// Every error a user can cause has a test that checks its message (issue 15). A user is an application developer
// or an operator: what they pass to FlintContext.create and the Dataset and context methods, the CLI's flags and
// arguments, configuration keys and properties files, app files, input and output paths, master URLs.
//
// The rules, kept simple on purpose:
// - Where: every file under USER_FACING below; elsewhere in src/, only the constructions of ConfigError and
//   InvalidAddressError (a key's reader, a master URL's parser, wherever they are).
// - What: every `new <Name>Error(…)` there (thrown, rejected or returned), comments left out.
// - Its fixed text: the pieces of its string and template literals between `${…}`, backslash escapes dropped,
//   trimmed; only pieces of at least 8 characters with a space in them count (a key, a flag or an error code
//   alone is not a message).
// - Tested: some `.ts` file under test/ (but test/fixtures/ and this file) quotes 20 characters in a row of one
//   of its pieces (all of a piece shorter than that), ignoring backslashes, so a regular expression such as
//   /flint\.master needs/ counts as a quote. A message without such a piece (all of it comes from elsewhere) is
//   not checked here.
// - Else: the test fails, naming the file, the line and the text. Add a test that causes the error the way a
//   user would and asserts its message, or, for a check of Flint's own invariants that no user input reaches,
//   an entry in INTERNAL with the reason.
//
// It is a floor, not a proof: a quote of a shared phrase in another test counts too.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/process.ts';
import { withoutComments } from '../helpers/source-text.ts';

/** Folders (ending in /) and files whose every error is one a user can cause, unless INTERNAL says otherwise. */
const USER_FACING = [
  'src/api/',
  'src/cli/',
  'src/conf/',
  'src/io/bundle/',
  'src/io/dataset-files/',
  'src/rpc/address.ts',
  'src/io/logs/log-files.ts',
  'src/io/http/ui-auth.ts',
];
/** The error classes that mean bad user input wherever they are built. */
const USER_ERROR_CLASSES = new Set(['ConfigError', 'InvalidAddressError']);
const WINDOW = 20;
const MIN_PIECE = 8;

/**
 * The errors above that no input of a user's causes: checks of Flint's own invariants (a reply of the wrong type,
 * a reader called for the wrong file), and states of the cluster between two steps of a command (a master that
 * lost its leadership, a worker gone meanwhile). Each is a file, a piece of its message's fixed text (every
 * construction in that file with that piece), and why it is not a user's error.
 */
const INTERNAL: ReadonlyArray<readonly [file: string, text: string, why: string]> = [
  ['src/api/dag-runner.ts', 'its map outputs were lost again', 'executors lost while a stage ran, not an input; StageFailedError is tested with failing tasks'],
  ['src/api/dag-runner.ts', 'zipWithIndex: the partition counts are not known yet', 'the counts job runs first'],
  ['src/cli/demo-command.ts', 'the demo was stopped while its cluster started', 'an interrupt while the demo starts: nothing was wrong'],
  ['src/cli/kill-command.ts', 'unexpected reply', "the master's reply to that ask has one type"],
  ['src/cli/submit-command.ts', 'unexpected reply', "the master's reply to that ask has one type"],
  ['src/cli/decommission-command.ts', 'the master decommissioned none of', 'the ids were checked against the leader a moment before; only a master that became a standby since answers 0'],
  ['src/cli/logs-command.ts', 'which the master no longer lists', 'the worker was removed between the two lookups'],
  ['src/cli/submit-command.ts', 'the master refused the driver', 'only a master that is not ALIVE refuses a driver (src/master/drivers.ts), and the client asks the ALIVE one'],
  ['src/io/bundle/bundle-app.ts', 'produced no output', 'esbuild writes one output for one entry'],
  ['src/io/bundle/bundle-cache.ts', "a transformed module's key is a sha256", 'the key is a digest the transform computes (transform-inline.ts), never input'],
  ['src/io/child-process/credential-line.ts', 'no credential line on stdin', 'the worker writes it to the executors and drivers it starts'],
  ['src/io/dataset-files/line-reader.ts', 'is gzip-compressed: read it with readGzipLines', "the task picks the reader by the split's gzip flag"],
  ['src/io/dataset-files/output-commit.ts', 'Was the job aborted', "the job's _temporary directory removed while its task ran, by the driver's abort"],
];

interface Site {
  readonly file: string;
  readonly line: number;
  readonly className: string;
  readonly pieces: readonly string[];
}

/** Drops backslash escapes (`\'`, `\.`, `\(`), the way a quote in a string or a regular expression spells a character. */
const unescape = (text: string): string => text.replace(/\\(.)/g, '$1');

/**
 * Scans from just after an opening bracket to its closing one, collecting the fixed text of every string and
 * template literal met on the way (a template's `${…}` is scanned the same way). Returns the index after the close.
 */
function scan(code: string, from: number, pieces: string[]): number {
  let depth = 1;
  let i = from;
  while (i < code.length) {
    const ch = code[i] as string;
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < code.length && code[j] !== ch) j += code[j] === '\\' ? 2 : 1;
      pieces.push(code.slice(i + 1, j));
      i = j + 1;
    } else if (ch === '`') {
      let j = i + 1;
      let start = j;
      while (j < code.length && code[j] !== '`') {
        if (code[j] === '\\') j += 2;
        else if (code[j] === '$' && code[j + 1] === '{') {
          pieces.push(code.slice(start, j));
          j = scan(code, j + 2, pieces);
          start = j;
        } else j += 1;
      }
      pieces.push(code.slice(start, j));
      i = j + 1;
    } else {
      if (ch === '(' || ch === '{' || ch === '[') depth += 1;
      else if (ch === ')' || ch === '}' || ch === ']') depth -= 1;
      i += 1;
      if (depth === 0) return i;
    }
  }
  return i;
}

function isUserFacing(file: string): boolean {
  return USER_FACING.some((entry) => (entry.endsWith('/') ? file.startsWith(entry) : file === entry));
}

function sitesOf(file: string): Site[] {
  const code = withoutComments(readFileSync(join(REPO_ROOT, file), 'utf8'));
  const sites: Site[] = [];
  for (const m of code.matchAll(/\bnew (\w*Error)\(/g)) {
    const className = m[1] as string;
    if (!isUserFacing(file) && !USER_ERROR_CLASSES.has(className)) continue;
    const raw: string[] = [];
    scan(code, (m.index as number) + m[0].length, raw);
    const pieces = raw.map((piece) => unescape(piece).trim()).filter((piece) => piece.length >= MIN_PIECE && piece.includes(' '));
    sites.push({ file, line: code.slice(0, m.index).split('\n').length, className, pieces });
  }
  return sites;
}

/** Every `.ts` file under test/ but the fixtures and this file, backslashes dropped, as one text. */
function testCorpus(): string {
  const self = 'unit/error-messages.test.ts';
  return readdirSync(join(REPO_ROOT, 'test'), { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts') && !file.startsWith('fixtures/') && file !== self)
    .map((file) => unescape(readFileSync(join(REPO_ROOT, 'test', file), 'utf8')))
    .join('\n');
}

/** The runs of WINDOW characters of `piece` that start a word (all of it when shorter). */
function windowsOf(piece: string): string[] {
  if (piece.length <= WINDOW) return [piece];
  const windows: string[] = [];
  for (let i = 0; i + WINDOW <= piece.length; i++) {
    if (i === 0 || piece[i - 1] === ' ') windows.push(piece.slice(i, i + WINDOW));
  }
  windows.push(piece.slice(-WINDOW));
  return windows;
}

const sources = readdirSync(join(REPO_ROOT, 'src'), { recursive: true })
  .map(String)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => `src/${file}`)
  .sort();
const sites = sources.flatMap(sitesOf).filter((site) => site.pieces.length > 0);
const internal = (site: Site): boolean => INTERNAL.some(([file, text]) => site.file === file && site.pieces.some((piece) => piece.includes(text)));

test('every error a user can cause has a test that quotes its message', () => {
  assert.ok(sites.length > 100, `${sites.length} error constructions with a fixed message found`);
  const corpus = testCorpus();
  const untested = sites
    .filter((site) => !internal(site))
    .filter((site) => !site.pieces.some((piece) => windowsOf(piece).some((window) => corpus.includes(window))))
    .map((site) => `${site.file}:${site.line} ${site.className}: ${site.pieces.join(' … ')}`);
  assert.deepEqual(untested, [], 'user errors whose message no test under test/ quotes');
});

test('every INTERNAL entry names an error construction that is there', () => {
  const stale = INTERNAL.filter(([file, text]) => !sites.some((site) => site.file === file && site.pieces.some((piece) => piece.includes(text))));
  assert.deepEqual(stale, [], 'INTERNAL entries that match no error construction');
});
