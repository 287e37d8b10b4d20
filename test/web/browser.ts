import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from '../support/cli.js';

/** Debian's Chromium, never a downloaded one (.ci/run installs it). */
export const CHROMIUM = process.env.AIRLOCK_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

export const RESULTS_DIR = join(ROOT, 'test-results');

/** Saves a full-page screenshot of each page to test-results/<name>-<label>.png. */
export async function screenshots(name: string, pages: Record<string, Page>): Promise<string[]> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const paths: string[] = [];
  for (const [label, page] of Object.entries(pages)) {
    const path = join(RESULTS_DIR, `${name}-${label}.png`);
    await page.screenshot({ path, fullPage: true }).catch(() => undefined);
    paths.push(path);
  }
  return paths;
}

/** Runs a browser scenario; on failure, screenshots every page before rethrowing. */
export async function withScreenshotsOnFailure(name: string, pages: Record<string, Page>, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const saved = await screenshots(`${name}-failure`, pages);
    throw new Error(`${(err as Error).message}\nscreenshots: ${saved.join(', ')}`, { cause: err });
  }
}

/** Signs a page in through the real form and waits until its event stream is live. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Personal API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('html[data-stream="live"]', { timeout: 5000 });
}

/** Copies a screenshot to docs/screens/NAME.png when asked (AIRLOCK_UPDATE_SCREENS=1): the README's images, made by the tests. */
export function keepScreen(from: string, name: string): void {
  if (!process.env.AIRLOCK_UPDATE_SCREENS) return;
  mkdirSync(join(ROOT, 'docs', 'screens'), { recursive: true });
  copyFileSync(from, join(ROOT, 'docs', 'screens', `${name}.png`));
}
