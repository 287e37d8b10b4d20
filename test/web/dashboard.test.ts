import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/core/tokens.js';
import { systemClock } from '../../src/core/clock.js';
import { parseConfig } from '../../src/config/load.js';
import { createControlPlanePort } from '../../src/gateway/kernel/control-plane-port.js';
import { createApiClient, type ApiClient } from '../../src/server/api-client.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { tempConfig } from '../support/cli.js';
import { EXAMPLE_CONFIG } from '../support/world.js';
import { CHROMIUM, launchChromium, screenshots, signIn, withScreenshotsOnFailure } from './browser.js';

const XSS = '<img src=x onerror="window.__pwned=1"> slow checkout';

let browser: Browser;
let cp: RunningControlPlane;
let cleanup: () => void;
const tokens: Record<string, string> = {};
const as: Record<string, ApiClient> = {};
const contexts: BrowserContext[] = [];

async function pageAs(user: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  // Any alert/confirm would mean script ran that we did not write.
  page.on('dialog', (d) => {
    throw new Error(`unexpected browser dialog: ${d.message()}`);
  });
  await signIn(page, cp.url, tokens[user]!);
  return page;
}

// One server for the file: each test leaves no grant active and no request pending, so the next starts from an empty Now.
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  browser = await launchChromium();
  const tmp = tempConfig(EXAMPLE_CONFIG);
  cleanup = tmp.cleanup;
  cp = await startControlPlane(parseConfig(EXAMPLE_CONFIG, 'airlock.yaml', tmp.dir), { clock: systemClock, listen: '127.0.0.1:0' });
  for (const name of ['alice', 'bob', 'carol']) {
    tokens[name] = (await issueToken(cp.store, systemClock, cp.directory, name)).token;
    as[name] = createApiClient(cp.url, tokens[name]);
  }
});

afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close();
});

afterAll(async () => {
  await browser?.close();
  await cp?.close();
  cleanup?.();
});

describe('the dashboard in a real browser', () => {
  it('shows a reviewer the request, lets them approve it by clicking, and shows an observer the grant come and go live', async () => {
    const bob = await pageAs('bob');
    const carol = await pageAs('carol');
    await withScreenshotsOnFailure('approve-and-revoke', { bob, carol }, async () => {
      await bob.goto(`${cp.url}/#requests`);
      await bob.getByText('Nothing waits for your review.').waitFor();
      await carol.getByText('Nobody holds access right now.').waitFor();

      const { request } = await as.alice!.request({ resource: 'orders-db', role: 'write', duration: '1h', reason: XSS, ticket: 'INC-4411' });
      const item = bob.locator(`li[data-request-id="${request.id}"]`);
      await item.waitFor({ timeout: 2000 });
      await item.getByRole('button', { name: /^Approve alice's request/ }).click();

      const row = carol.locator('tr[data-grant-id]');
      await row.waitFor({ timeout: 2000 });
      expect(await row.locator('td').nth(0).textContent()).toBe('alice');
      expect(await row.locator('td').nth(2).textContent()).toBe(XSS);
      expect(await row.locator('td').nth(3).textContent()).toBe('INC-4411');
      expect(await row.locator('td').nth(4).textContent()).toBe('bob');
      expect(await row.locator('.countdown').textContent()).toMatch(/^0:59:\d\d$/);
      // The reason is text, not markup: no element was created from it and nothing ran.
      expect(await carol.locator('img').count()).toBe(0);
      expect(await carol.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      // carol is a reviewer of the policy, so she may revoke but not release someone else's grant.
      expect(await row.getByRole('button', { name: 'Release' }).count()).toBe(0);
      if (process.env.AIRLOCK_SCREENSHOTS) await screenshots('grant-active', { carol });

      await bob.goto(`${cp.url}/#now`);
      await bob.getByRole('button', { name: /^Revoke alice's write on orders-db/ }).click();
      await bob.getByLabel('Reason (the grantee sees it)').fill('done with INC-4411');
      await bob.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();

      await carol.getByText('Nobody holds access right now.').waitFor({ timeout: 2000 });
      expect(await carol.locator('tr[data-grant-id]').count()).toBe(0);
      const revoked = await as.alice!.getGrant((await as.alice!.grants())[0]!.id);
      expect(revoked).toMatchObject({ state: 'revoked', ended_by: 'bob', end_reason: 'done with INC-4411' });
      if (process.env.AIRLOCK_SCREENSHOTS) await screenshots('approve-and-revoke-final', { bob, carol });
    });
  });

  it('shows a change made elsewhere within a second, with no reload', async () => {
    const carol = await pageAs('carol');
    await withScreenshotsOnFailure('live-within-1s', { carol }, async () => {
      await carol.getByText('Nobody holds access right now.').waitFor();
      const marker = await carol.evaluate(() => {
        (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
        return true;
      });
      const started = Date.now();
      const { grant } = await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '30m', reason: 'INC-4411 slow checkout' });
      await carol.locator(`tr[data-grant-id="${grant!.id}"]`).waitFor({ timeout: 1000 });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(marker && (await carol.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument))).toBe(true);

      const released = Date.now();
      await as.alice!.release(grant!.id);
      await carol.locator(`tr[data-grant-id="${grant!.id}"]`).waitFor({ state: 'detached', timeout: 1000 });
      expect(Date.now() - released).toBeLessThan(1000);
    });
  });

  it('offers Release on my own grant and Cancel on my pending request, and the buttons work', async () => {
    const alice = await pageAs('alice');
    await withScreenshotsOnFailure('own-actions', { alice }, async () => {
      const { grant } = await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '30m', reason: 'look at order 9' });
      const row = alice.locator(`tr[data-grant-id="${grant!.id}"]`);
      await row.waitFor({ timeout: 2000 });
      expect(await row.getByRole('button', { name: /^Revoke/ }).count()).toBe(0);
      await row.getByRole('button', { name: /^Release read on orders-db/ }).click();
      await row.waitFor({ state: 'detached', timeout: 2000 });

      const { request } = await as.alice!.request({ resource: 'orders-db', role: 'write', duration: '1h', reason: 'fix order 9', ticket: 'INC-9' });
      await alice.goto(`${cp.url}/#requests`);
      const mine = alice.locator(`li[data-request-id="${request.id}"]`);
      await mine.waitFor();
      expect(await mine.getByRole('button', { name: /^Approve/ }).count()).toBe(0);
      await mine.getByRole('button', { name: 'Cancel request' }).click();
      await mine.getByText(/^cancelled/).waitFor({ timeout: 2000 });
      expect((await as.alice!.getRequest(request.id)).state).toBe('cancelled');
    });
  });

  it('shows history, the audit log with a verified chain, and a denial with its comment', async () => {
    const bob = await pageAs('bob');
    await withScreenshotsOnFailure('history-audit', { bob }, async () => {
      const { request } = await as.alice!.request({ resource: 'orders-db', role: 'write', duration: '1h', reason: 'fix order 9', ticket: 'INC-9' });
      await bob.goto(`${cp.url}/#requests`);
      const card = bob.locator(`ul[aria-label="requests waiting for your review"] li[data-request-id="${request.id}"]`);
      await card.getByRole('button', { name: /^Deny/ }).click();
      // A denial without a comment is stopped in the page, before the API.
      await card.getByText('A comment is required to deny').waitFor();
      await card.getByLabel('Comment').fill('use the read role');
      await card.getByRole('button', { name: /^Deny/ }).click();
      await bob.getByText('Nothing waits for your review.').waitFor({ timeout: 2000 });
      // The decision stays in view, in the decided list, with its comment.
      await bob.locator(`ul[aria-label="decided requests"] li[data-request-id="${request.id}"]`).getByText('bob denied: use the read role').waitFor();
      expect((await as.alice!.getRequest(request.id)).state).toBe('denied');

      const { grant } = await as.bob!.request({ resource: 'orders-db', role: 'write', duration: '1h', reason: 'bob fixes', ticket: 'INC-10' }).then(async (o) => {
        const g = await as.carol!.approve(o.request.id);
        return g;
      });
      await as.bob!.release(grant!.id);
      await bob.goto(`${cp.url}/#history`);
      await bob.locator(`tr[data-grant-id="${grant!.id}"]`).getByText('released').waitFor({ timeout: 2000 });

      await bob.goto(`${cp.url}/#audit`);
      await bob.getByText(/Audit chain verified: \d+ events/).waitFor({ timeout: 2000 });
      await bob.getByLabel('Action').fill('grant.*');
      await bob.getByRole('button', { name: 'Apply' }).click();
      await bob.locator('table.audit span.action', { hasText: 'grant.released' }).waitFor({ timeout: 2000 });
      if (process.env.AIRLOCK_SCREENSHOTS) await screenshots('audit', { bob });
    });
  });

  it('shows live sessions with their statement counts as they run, and a session page with statements in order', async () => {
    const carol = await pageAs('carol');
    const alice = await pageAs('alice');
    await withScreenshotsOnFailure('sessions', { carol, alice }, async () => {
      const { grant } = await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '30m', reason: 'INC-4411 slow checkout' });
      // The gateway's own port into the control plane, driven as the Postgres listener drives it.
      const backend = createControlPlanePort({ ...cp, kind: 'postgres' });
      const { sessionId } = await backend.sessionStarted({ grantId: grant!.id, clientAddress: '10.1.2.3:51234', applicationName: 'psql' });
      const line = carol.locator(`li[data-session-id="${sessionId}"]`);
      await line.waitFor({ timeout: 2000 });
      expect(await line.textContent()).toContain('psql from 10.1.2.3:51234');
      expect(await line.textContent()).toContain('0 statements');

      await backend.statement({ sessionId, text: 'select count(*) from orders', outcome: 'ok', commandTag: 'SELECT 1', rows: 1, durationMs: 1.2 });
      await backend.statement({ sessionId, text: "update orders set state = 'x'", outcome: 'refused', reason: 'write statements are outside role read', durationMs: 0.1 });
      await backend.statement({ sessionId, text: 'select 1', outcome: 'ok', commandTag: 'SELECT 1', rows: 1, durationMs: 0.3 });
      await backend.flush();
      await line.getByText('3 statements').waitFor({ timeout: 2000 });
      expect(await line.textContent()).toContain('1 refused');
      if (process.env.AIRLOCK_SCREENSHOTS) await screenshots('sessions-now', { carol });

      await alice.locator(`li[data-session-id="${sessionId}"] a`).click();
      const statements = alice.locator('ol.statements li');
      await statements.first().waitFor({ timeout: 2000 });
      expect(await alice.locator('ol.statements pre').allTextContents()).toEqual(['select count(*) from orders', "update orders set state = 'x'", 'select 1']);
      expect(await statements.nth(1).textContent()).toContain('write statements are outside role read');
      if (process.env.AIRLOCK_SCREENSHOTS) await screenshots('session-page', { alice });
      await backend.sessionEnded({ sessionId, reason: 'client', statements: 3, refused: 1, bytesIn: 10, bytesOut: 20, at: cp.clock.now() });
      await line.waitFor({ state: 'detached', timeout: 2000 });
      await backend.close();
      await as.alice!.release(grant!.id);
    });
  });

  it('serves the page with a strict Content-Security-Policy and refuses the API without a session', async () => {
    const res = await fetch(`${cp.url}/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect((await fetch(`${cp.url}/api/dashboard/now`)).status).toBe(401);
  });
});
