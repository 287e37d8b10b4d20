import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, withScreenshotsOnFailure } from '../web/browser.js';
import { BIN, runCli } from '../support/cli.js';
import { logInAtProvider, startOidcWorld, type OidcWorld } from '../support/oidc-world.js';

/**
 * `airlock login` against a real OpenID Provider: the loopback flow (the CLI
 * listens on 127.0.0.1, the browser goes through the provider's login page)
 * and the device authorization grant (the code entered on the provider's
 * own device page), then `airlock logout`. Needs `npm run build`.
 */

let world: OidcWorld;
let browser: Browser;
let home: string;

beforeAll(async () => {
  world = await startOidcWorld();
  browser = await launchChromium();
  home = mkdtempSync(join(tmpdir(), 'airlock-login-'));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await world?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** Starts the CLI and resolves with the first stderr text matching `pattern`, plus a promise of its exit. */
function startCli(args: string[], pattern: RegExp): { child: ChildProcess; match: Promise<RegExpExecArray>; exit: Promise<{ code: number; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, AIRLOCK_SERVER: undefined, AIRLOCK_TOKEN: undefined, XDG_CONFIG_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let found: (m: RegExpExecArray) => void;
  const match = new Promise<RegExpExecArray>((r) => (found = r));
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    const m = pattern.exec(stderr);
    if (m) found(m);
  });
  const exit = new Promise<{ code: number; stdout: string; stderr: string }>((r) => child.once('close', (code) => r({ code: code ?? -1, stdout, stderr })));
  return { child, match, exit };
}

const saved = () => JSON.parse(readFileSync(join(home, 'airlock/login.json'), 'utf8')) as { server: string; token?: string };
const cli = (...args: string[]) => runCli(args, { XDG_CONFIG_HOME: home });

describe('airlock login with the identity provider', { timeout: 90_000 }, () => {
  it('signs in through a loopback redirect: the browser goes through the provider\'s login page, the CLI saves a sign-in token', async () => {
    const run = startCli(['login', '--server', world.cp.url, '--no-browser'], /Open this URL to sign in:\s+(\S+)/);
    const [, url] = await run.match;
    expect(new URL(url!).origin).toBe(world.provider.issuer);
    const page = await (await browser.newContext()).newPage();
    await withScreenshotsOnFailure('cli-loopback', { page }, async () => {
      await page.goto(url!);
      await logInAtProvider(page, 'alice', 'alice-password');
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback/);
      await expect(page.locator('body').textContent()).resolves.toContain('Signed in to Airlock');
    });
    const done = await run.exit;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('as alice (groups: engineering, oncall)');
    expect(saved().token).toMatch(/^airlock_sin_/);
    expect(statSync(join(home, 'airlock/login.json')).mode & 0o777).toBe(0o600);
    const asked = await cli('request', 'orders-db', '--role', 'read', '--for', '10m', '--reason', 'INC-11', '--json');
    expect(asked.code, asked.stderr).toBe(0);
    expect((JSON.parse(asked.stdout) as { grant: { state: string } }).grant.state).toBe('active');
    await page.context().close();
  });

  it('signs out: the server ends the sign-in, so the saved token no longer works anywhere', async () => {
    const token = saved().token!;
    const out = await cli('logout');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('signed out');
    expect(saved().token).toBeUndefined();
    const res = await fetch(`${world.cp.url}/api/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect((await cli('whoami')).code).toBe(1);
  });

  it('signs in with the device authorization grant: the code is entered on the provider\'s device page', async () => {
    const run = startCli(['login', '--server', world.cp.url, '--device'], /open (\S+) on any device and enter the code (\S+)/);
    const [, verification, code] = await run.match;
    const page = await (await browser.newContext()).newPage();
    await withScreenshotsOnFailure('cli-device', { page }, async () => {
      await page.goto(verification!);
      await page.locator('input[name="user_code"]').fill(code!);
      await page.locator('button[type="submit"], input[type="submit"]').first().click();
      // The provider asks to confirm the device, then who you are.
      const confirm = page.locator('button[type="submit"][autofocus], button[type="submit"]:has-text("Continue")');
      if (await confirm.count()) await confirm.first().click();
      await logInAtProvider(page, 'carol', 'carol-password');
    });
    const done = await run.exit;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('as carol (groups: sre-leads)');
    const me = await cli('whoami', '--json');
    expect(JSON.parse(me.stdout)).toMatchObject({ user: 'carol', via: 'session' });
    await page.context().close();
  });

  it('refuses a wrong password at the provider and grants nothing', async () => {
    const sessionsBefore = (await world.cp.store.db.selectFrom('sign_in_sessions').selectAll().execute()).length;
    const run = startCli(['login', '--server', world.cp.url, '--no-browser'], /Open this URL to sign in:\s+(\S+)/);
    const [, url] = await run.match;
    const page = await (await browser.newContext()).newPage();
    await page.goto(url!);
    await logInAtProvider(page, 'alice', 'not-her-password');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Wrong username or password');
    run.child.kill('SIGTERM');
    await run.exit;
    expect((await world.cp.store.db.selectFrom('sign_in_sessions').selectAll().execute()).length).toBe(sessionsBefore);
    await page.context().close();
  });
});
