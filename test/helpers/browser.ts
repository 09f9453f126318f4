// A real browser for the UI tests: Debian's chromium, driven by playwright-core (scripts/test-deps.sh installs it).
// Screenshots go to test-output/ui/ (not in git), one per page and viewport, for people to look at.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './process.ts';

export const CHROMIUM = process.env['FLINT_CHROMIUM'] ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-output', 'ui');

/** A desktop and a phone (an iPhone 13/14-sized viewport). */
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

export async function launchBrowser(): Promise<Browser> {
  // As root (CI), chromium needs --no-sandbox; /dev/shm may be small in containers.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'], timeout: 60_000 });
}

/** Saves a full-page screenshot as test-output/ui/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
