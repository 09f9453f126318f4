// Runs every `*.test.ts` file of one test folder in this one process, for Stryker (stryker.config.json,
// docs/testing.md). Stryker's tap runner starts a process per test file for every mutant; most of that process's
// time is Node starting and loading the machines, so one process per folder tests a mutant several times faster.
// New test files in the folder are picked up without touching this file.
import { test } from 'node:test';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export async function importTestsOf(folder: string): Promise<void> {
  const dir = join(import.meta.dirname, '..', 'unit', folder);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort()) {
    try {
      await import(pathToFileURL(join(dir, file)).href);
    } catch (err) {
      // A mutant that breaks a module as it loads is detected, not a crash of the run.
      test(`${folder}/${file} loads`, () => {
        throw err;
      });
    }
  }
}
