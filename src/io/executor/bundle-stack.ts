// A task's error stack in the application's own files: frames in the bundle an executor runs
// (`…/code/<hash>.mjs:LINE:COL`) rewritten through the bundle's inline source map (esbuild's, src/io/bundle/
// bundle-app.ts) to the source file as bundled, relative to where the driver bundled it (`src/app.ts:12:11`).
// Node's own source-map support (`--enable-source-maps`) does the same, but parses every map as its module loads:
// about 20 ms more for each task thread's first task. Here the map is read and parsed only when a task of the
// thread fails, once.

import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { pathToFileURL } from 'node:url';

const INLINE_MAP = '//# sourceMappingURL=data:application/json;base64,';
/** A stack frame's location: `file:///…:line:column`, as V8 writes it for an ES module. */
const FRAME = /(file:\/\/[^\s()]+?):(\d+):(\d+)/g;

/** Each bundle's source map once read (null: the bundle has none that parses). */
const maps = new Map<string, SourceMap | null>();

function sourceMapOf(bundlePath: string): SourceMap | null {
  let map = maps.get(bundlePath);
  if (map === undefined) {
    map = null;
    try {
      const text = readFileSync(bundlePath, 'utf8');
      const at = text.lastIndexOf(INLINE_MAP);
      if (at >= 0) {
        const payload = JSON.parse(Buffer.from(text.slice(at + INLINE_MAP.length).trim(), 'base64').toString('utf8')) as SourceMapPayload;
        map = new SourceMap(payload);
      }
    } catch {
      map = null; // no map, or not one that parses: the stack stays the bundle's
    }
    maps.set(bundlePath, map);
  }
  return map;
}

/** `stack` with every frame in the bundle at `bundlePath` named by its place in the application's source. */
export function stackInSources(stack: string, bundlePath: string): string {
  const url = pathToFileURL(bundlePath).href;
  if (!stack.includes(url)) return stack;
  const map = sourceMapOf(bundlePath);
  if (map === null) return stack;
  return stack.replace(FRAME, (frame: string, file: string, line: string, column: string) => {
    if (file !== url) return frame;
    const entry = map.findEntry(Number(line) - 1, Number(column) - 1);
    if (!('originalSource' in entry) || entry.originalSource === undefined) return frame;
    return `${entry.originalSource}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}
