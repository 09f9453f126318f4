// Temporary directories for tests. Each is made under the OS temp dir and removed when the test process exits,
// whether its tests passed or not: node --test runs every test file in a process of its own, so a file's
// directories go with it. A test that removes its directory itself may still do so (the removal at exit then
// finds nothing). Like process.ts's children, nothing a test makes outlives the test file.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
let hooked = false;

/** A new empty directory `<os temp dir>/<prefix>XXXXXX`, removed with everything in it when this process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', removeAll);
  }
  return dir;
}

function removeAll(): void {
  for (const dir of made.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // A directory a still-running child holds open, or one made read-only by its test: left for the OS.
    }
  }
}
