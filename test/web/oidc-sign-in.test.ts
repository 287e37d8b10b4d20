import { importJWK, SignJWT, decodeJwt } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createApiClient } from '../../src/server/api-client.js';
import { startControlPlane } from '../../src/server/start.js';
import { launchChromium, withScreenshotsOnFailure } from './browser.js';
import { tempConfig } from '../support/cli.js';
import { logInAtProvider, oidcConfig, startOidcWorld, type OidcWorld } from '../support/oidc-world.js';

/**
 * Dashboard sign-in through a real OpenID Provider (oidc-provider on a
 * loopback port), driven in headless Chromium through the provider's own
 * login page; then every bad answer the issue names, each refused with a
 * clear message, audited, and granting nothing.
 */

let world: OidcWorld;
let browser: Browser;

beforeAll(async () => {
  world = await startOidcWorld();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await world?.stop();
});

async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  return { context, page: await context.newPage() };
}

/** Clicks the provider button and logs in at the provider; returns the callback URL the provider sent the browser to. */
async function signInWithProvider(page: Page, user = 'alice', password = 'alice-password'): Promise<string> {
  let callback = '';
  page.on('request', (r) => {
    if (r.url().includes('/auth/oidc/callback')) callback ||= r.url();
  });
  await page.goto(world.cp.url);
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  await logInAtProvider(page, user, password);
  await page.waitForURL((u) => u.href.startsWith(world.cp.url) && !u.pathname.startsWith('/auth/oidc/start'), { timeout: 10_000 });
  await page.waitForLoadState('domcontentloaded');
  return callback;
}

async function sessionCookie(context: BrowserContext): Promise<string | undefined> {
  return (await context.cookies(world.cp.url)).find((c) => c.name === 'airlock_session')?.value;
}

async function failures(code: string) {
  const rows = await world.cp.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'auth.failed').where('target', '=', 'oidc').execute();
  return rows.filter((r) => (JSON.parse(r.details) as { code: string }).code === code);
}

/** Re-signs the provider's ID token with the provider's own key after `change`: a token the provider could have issued, but not for this sign-in. */
function reissue(change: (claims: Record<string, unknown>) => Record<string, unknown>) {
  return async (body: Record<string, unknown>) => {
    const claims = decodeJwt(String(body.id_token));
    const key = await importJWK(world.provider.signingKey as never, 'RS256');
    const idToken = await new SignJWT(change({ ...claims }) as never).setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'JWT' }).sign(key);
    return { ...body, id_token: idToken };
  };
}

describe('dashboard sign-in with the identity provider', { timeout: 90_000 }, () => {
  it('signs a user who is not in the YAML in through the provider\'s login page, with groups mapped from the groups claim', async () => {
    const { context, page } = await freshPage();
    await withScreenshotsOnFailure('oidc-dashboard', { page }, async () => {
      await signInWithProvider(page);
      await page.waitForSelector('html[data-stream="live"]', { timeout: 10_000 });
      await expect(page.locator('.me').textContent()).resolves.toContain('alice');
      // The token form stays for machines.
      const cookie = await sessionCookie(context);
      expect(cookie).toMatch(/^airlock_sin_/);
      const jar = (await context.cookies(world.cp.url)).find((c) => c.name === 'airlock_session')!;
      expect([jar.httpOnly, jar.sameSite]).toEqual([true, 'Strict']);
      const alice = createApiClient(world.cp.url, cookie!);
      expect(await alice.whoami()).toMatchObject({ user: 'alice', groups: ['engineering', 'oncall'], via: 'session' });
      const asked = await alice.request({ resource: 'orders-db', role: 'read', duration: '10m', reason: 'INC-7' });
      expect(asked.grant?.state).toBe('active');
      const signedIn = await world.cp.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'identity.signed_in').execute();
      expect(signedIn.map((e) => e.actor)).toContain('alice');
    });
    await context.close();
  });

  it('refreshes a short sign-in with the provider\'s refresh token; a user removed from a group loses eligibility and their pending requests are cancelled, active grants stay', async () => {
    const { context, page } = await freshPage();
    await signInWithProvider(page);
    const alice = createApiClient(world.cp.url, (await sessionCookie(context))!);
    const read = await alice.request({ resource: 'orders-db', role: 'read', duration: '1h', reason: 'INC-8' });
    const write = await alice.request({ resource: 'orders-db', role: 'write', duration: '30m', reason: 'fix' });
    expect(write.request.state).toBe('pending');
    // The IdP admin removes alice from eng; her Airlock session is past its 1h TTL at her next call.
    world.provider.users.get('alice')!.groups = ['eng-oncall'];
    world.clock.advance(61 * 60_000);
    expect(await alice.whoami()).toMatchObject({ user: 'alice', groups: ['oncall'] });
    expect((await alice.getRequest(write.request.id)).state).toBe('cancelled');
    expect((await alice.grants()).find((g) => g.id === read.grant!.id)?.state).toBe('active');
    await expect(alice.request({ resource: 'orders-db', role: 'write', duration: '30m', reason: 'again' })).rejects.toMatchObject({ code: 'no_matching_policy' });
    const trail = await world.cp.store.db.selectFrom('audit_events').select(['action', 'details']).where('subject_user', '=', 'alice').execute();
    expect(trail.map((e) => e.action)).toEqual(expect.arrayContaining(['identity.refreshed', 'request.cancelled', 'identity.requests_cancelled']));
    world.provider.users.get('alice')!.groups = ['eng-oncall', 'eng'];
    await context.close();
  });

  it('ends the sign-in on the server at sign-out, so a copied cookie stops working', async () => {
    const { context, page } = await freshPage();
    await signInWithProvider(page);
    await page.waitForSelector('html[data-stream="live"]', { timeout: 10_000 });
    const copied = (await sessionCookie(context))!;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Personal API token').waitFor();
    await expect(createApiClient(world.cp.url, copied).whoami()).rejects.toMatchObject({ status: 401 });
    await context.close();
  });
});

describe('bad answers are refused, audited, and grant nothing', { timeout: 90_000 }, () => {
  async function refusedSignIn(expectedCode: string) {
    const { context, page } = await freshPage();
    await withScreenshotsOnFailure(`oidc-${expectedCode}`, { page }, async () => {
      await signInWithProvider(page);
      await expect(page.locator('[role=alert]').getAttribute('data-code')).resolves.toBe(expectedCode);
      expect(await sessionCookie(context)).toBeUndefined();
      expect(await failures(expectedCode)).not.toEqual([]);
    });
    await context.close();
    return page;
  }

  it('a tampered ID token (claims changed after signing)', async () => {
    world.tamper = async (body) => {
      const [h, p, s] = String(body.id_token).split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
      const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'root', preferred_username: 'root' })).toString('base64url');
      return { ...body, id_token: `${h}.${forged}.${s}` };
    };
    try {
      await refusedSignIn('oidc_bad_signature');
    } finally {
      world.tamper = null;
    }
  });

  it('an expired ID token', async () => {
    const now = Math.floor(Date.now() / 1000);
    world.tamper = reissue((c) => ({ ...c, iat: now - 7200, exp: now - 3600 }));
    try {
      await refusedSignIn('oidc_token_expired');
    } finally {
      world.tamper = null;
    }
  });

  it('an ID token for another application (wrong audience)', async () => {
    world.tamper = reissue((c) => ({ ...c, aud: 'some-other-app', azp: 'some-other-app' }));
    try {
      await refusedSignIn('oidc_wrong_audience');
    } finally {
      world.tamper = null;
    }
  });

  it('an ID token from another issuer', async () => {
    world.tamper = reissue((c) => ({ ...c, iss: 'https://idp.attacker.example' }));
    try {
      await refusedSignIn('oidc_wrong_issuer');
    } finally {
      world.tamper = null;
    }
  });

  it('a state that does not match the sign-in this browser started (another sign-in\'s answer planted in it)', async () => {
    const { context, page } = await freshPage();
    // This browser starts a sign-in; an attacker starts another and plants its answer here.
    const mine = await page.request.get(`${world.cp.url}/auth/oidc/start`, { maxRedirects: 0 });
    expect(mine.status()).toBe(302);
    const theirs = await fetch(`${world.cp.url}/auth/oidc/start`, { redirect: 'manual' });
    const theirState = new URL(theirs.headers.get('location')!).searchParams.get('state')!;
    await page.goto(`${world.cp.url}/auth/oidc/callback?code=attackers-code&state=${theirState}`);
    await expect(page.locator('[role=alert]').getAttribute('data-code')).resolves.toBe('oidc_state_mismatch');
    expect(await sessionCookie(context)).toBeUndefined();
    expect(await failures('oidc_state_mismatch')).not.toEqual([]);
    await context.close();
  });

  it('a replayed authorization code: the same answer again, and the old code under a new sign-in', async () => {
    const { context, page } = await freshPage();
    const callback = await signInWithProvider(page);
    expect(await sessionCookie(context)).toMatch(/^airlock_sin_/);
    await context.clearCookies();
    // The very same answer again: its sign-in is spent.
    await page.goto(callback);
    await expect(page.locator('[role=alert]').getAttribute('data-code')).resolves.toBe('oidc_state_unknown');
    // The old code under a fresh sign-in of this browser: the provider refuses the code.
    const started = await page.request.get(`${world.cp.url}/auth/oidc/start`, { maxRedirects: 0 });
    const fresh = new URL(started.headers().location!).searchParams.get('state')!;
    expect(fresh).toBeTruthy();
    const replay = new URL(callback);
    replay.searchParams.set('state', fresh);
    await page.goto(replay.href);
    await expect(page.locator('[role=alert]').getAttribute('data-code')).resolves.toBe('oidc_code_refused');
    expect(await sessionCookie(context)).toBeUndefined();
    expect(await failures('oidc_code_refused')).not.toEqual([]);
    await context.close();
  });

  it('an unreachable provider', async () => {
    const closed = await import('node:net').then(
      (net) =>
        new Promise<number>((resolve) => {
          const s = net.createServer().listen(0, '127.0.0.1', () => {
            const port = (s.address() as { port: number }).port;
            s.close(() => resolve(port));
          });
        }),
    );
    const text = oidcConfig(`http://127.0.0.1:${closed}`);
    const tmp = tempConfig(text);
    const cp = await startControlPlane(parseConfig(text, 'airlock.yaml', tmp.dir), { listen: '127.0.0.1:0', identity: { env: { TEST_OIDC_SECRET: 'x' } } });
    try {
      const page = await (await browser.newContext()).newPage();
      const res = await page.goto(`${cp.url}/auth/oidc/start`);
      expect(res?.status()).toBe(503);
      await expect(page.locator('[role=alert]').textContent()).resolves.toContain(`cannot reach the identity provider at http://127.0.0.1:${closed}`);
      const cli = await fetch(`${cp.url}/auth/cli/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ port: 40000, key: 'k'.repeat(43) }) });
      expect([cli.status, ((await cli.json()) as { error: { code: string } }).error.code]).toEqual([503, 'idp_unreachable']);
      const audited = await cp.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'auth.failed').execute();
      expect(audited.length).toBe(2);
      expect(await cp.store.db.selectFrom('sign_in_sessions').selectAll().execute()).toEqual([]);
      // An address that keeps failing is held off, and stops adding to the audit log.
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await fetch(`${cp.url}/auth/oidc/start`, { redirect: 'manual' })).status);
      expect(statuses.slice(-3)).toEqual([429, 429, 429]);
      const answered = statuses.filter((s) => s === 503).length;
      expect((await cp.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'auth.failed').execute()).length).toBe(2 + answered);
      await page.context().close();
    } finally {
      await cp.close();
      tmp.cleanup();
    }
  });
});
