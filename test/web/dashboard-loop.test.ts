import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { issueToken } from '../../src/core/tokens.js';
import { createApiClient, type ApiClient } from '../../src/server/api-client.js';
import { startAirlock } from '../../src/server/airlock.js';
import { keepScreen, launchChromium, screenshots, signIn, withScreenshotsOnFailure } from './browser.js';

/**
 * The whole loop from a phone-sized dashboard, against a real server with
 * its Postgres and HTTP gateways: ask with the policy's checks in view, be
 * approved by someone else (by keyboard), see the connect details, open an
 * HTTP resource through the gateway's sign-in, and be cut with a notice.
 */

const PHONE = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 800 };

let browser: Browser;
let air: Awaited<ReturnType<typeof startAirlock>>;
let upstream: http.Server;
let dir: string;
const tokens: Record<string, string> = {};
const as: Record<string, ApiClient> = {};
const contexts: BrowserContext[] = [];

async function pageAs(user: string, viewport = DESKTOP): Promise<Page> {
  const context = await browser.newContext({ viewport, colorScheme: 'light' });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(4000);
  await signIn(page, air.url, tokens[user]!);
  return page;
}

beforeAll(async () => {
  upstream = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>web admin</title><p>hello from upstream ${req.url}</p>`));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const yaml = `
ticket_url: "https://tracker.example.com/browse/{ticket}"
users:
  - { name: alice, groups: [oncall, engineering] }
  - { name: bob,   groups: [sre-leads] }
  - { name: carol, groups: [sre-leads] }
  - { name: root,  groups: [airlock-admins] }
admins: { groups: [airlock-admins] }
resources:
  - name: orders-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: orders }
    roles:
      read: { credential: { user: orders_ro }, allow: [read], tables: ["public.*"], deny_tables: ["public.payment_tokens"] }
      write: { credential: { user: orders_rw }, allow: [read, write] }
  - name: web-admin
    kind: http
    upstream: { url: "http://127.0.0.1:${(upstream.address() as AddressInfo).port}" }
    roles:
      read: { credential: { user: u, password_env: WEB_PASSWORD }, http: { allow: ["GET /**"], deny: ["* /admin/**"] } }
policies:
  - { name: oncall-reads, who: { groups: [oncall] }, resources: { names: [orders-db, web-admin] }, roles: [read], max_duration: 1h, approval: none }
  - name: writes-need-a-lead
    who: { groups: [engineering] }
    resources: { names: [orders-db] }
    roles: [write]
    max_duration: 2h
    approval: { count: 1, from: { groups: [sre-leads] } }
    require: { reason: true, ticket: "^(INC|CHG)-[0-9]+$" }
gateway:
  postgres: { listen: 127.0.0.1:0 }
  http: { listen: 127.0.0.1:0 }
`;
  dir = mkdtempSync(join(tmpdir(), 'airlock-dashboard-loop-'));
  air = await startAirlock(parseConfig(yaml, 'airlock.yaml', dir), { listen: '127.0.0.1:0', gatewayListen: { http: '127.0.0.1:0' }, postgresListen: '127.0.0.1:0', env: { WEB_PASSWORD: 'x' } });
  for (const name of ['alice', 'bob', 'carol', 'root']) {
    tokens[name] = (await issueToken(air.store, systemClock, air.directory, name)).token;
    as[name] = createApiClient(air.url, tokens[name]);
  }
  browser = await launchChromium();
}, 60_000);

afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close();
});

afterAll(async () => {
  await browser?.close();
  await air?.close();
  upstream?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard loop on a phone', () => {
  it('asks with the checks shown, is approved by another user with a key, connects, and is told who cut it', { timeout: 30_000 }, async () => {
    const alice = await pageAs('alice', PHONE);
    const bob = await pageAs('bob', PHONE);
    await withScreenshotsOnFailure('loop-phone', { alice, bob }, async () => {
      await alice.getByRole('navigation').getByRole('link', { name: 'Ask', exact: true }).click();
      await alice.getByLabel('Resource').selectOption('orders-db');
      await alice.getByLabel('Role').selectOption('write');
      await alice.getByLabel('Duration').fill('3h');
      const checks = alice.getByRole('list', { name: 'Policy checks' });
      await checks.getByText('Duration 3h within the maximum of 2h').waitFor();
      expect(await checks.locator('.check.bad').count()).toBe(3);
      await checks.getByText('Needs approval: 1 of @sre-leads').waitFor();
      await alice.getByRole('button', { name: 'Ask for access' }).click();
      await alice.getByText('The policy would refuse this request').waitFor();
      expect(await alice.evaluate(() => document.activeElement?.id)).toBe('ask-duration');
      await alice.getByLabel('Duration').fill('1h');
      await alice.getByLabel('Reason').fill('fix order 7');
      await alice.getByLabel('Ticket').fill('INC-77');
      expect(await checks.locator('.check.bad').count()).toBe(0);
      expect(await alice.locator('form.ask .form-error').textContent()).toBe('');
      const [phoneAsk] = await screenshots('ask-phone', { alice });
      await alice.getByRole('button', { name: 'Ask for access' }).click();
      const progress = alice.locator('section.progress');
      await progress.getByText('Waiting for review: 0 of 1 approval').waitFor({ timeout: 3000 });
      const [desktopAsk] = await screenshots('ask-desktop', { alice: await askOnDesktop() });
      keepScreen(desktopAsk!, 'request-form');
      void phoneAsk;

      await bob.getByRole('navigation').getByRole('link', { name: /Requests/ }).click();
      const card = bob.locator('li.review-card');
      await card.waitFor({ timeout: 3000 });
      const text = await card.textContent();
      expect(text).toContain('Statementsread, write');
      expect(text).toContain('writes-need-a-lead: 1 approval from @sre-leads; at most 2h');
      expect(text).toContain('Others who may approvecarol, root, @sre-leads');
      expect(text).toContain("alice's recent grants on orders-dbnone");
      await screenshots('review-phone', { bob });
      await card.focus();
      await bob.keyboard.press('a');
      await bob.locator('ul[aria-label="decided requests"] li').getByText('bob approved').waitFor({ timeout: 3000 });

      await progress.getByText('Approved by bob: access granted').waitFor({ timeout: 3000 });
      await alice.getByRole('link', { name: 'Connect (on Now)' }).click();
      const row = alice.locator('tr[data-grant-id]');
      await row.waitFor();
      expect(await row.locator('a.ticket').getAttribute('href')).toBe('https://tracker.example.com/browse/INC-77');
      const ends = row.locator('time.ends-at');
      expect(await ends.getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      await row.getByRole('button', { name: 'Connect to orders-db' }).click();
      const panel = alice.getByRole('group', { name: 'Connect to orders-db' });
      await panel.getByText('airlock connect orders-db').waitFor();
      await panel.getByRole('button', { name: 'Show a DSN' }).click();
      const port = air.gateways.postgres!.port;
      await panel.locator('code', { hasText: 'postgresql://' }).waitFor({ timeout: 3000 });
      expect(await panel.locator('code', { hasText: 'postgresql://' }).textContent()).toMatch(new RegExp(`^postgresql://alice:als[^@]+@127\\.0\\.0\\.1:${port}/orders-db$`));
      const [phoneNow] = await screenshots('now-phone', { alice });
      keepScreen(phoneNow!, 'phone-now');
      // Cards, not a table, at 375 px: nothing wider than the screen.
      expect(await alice.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);

      const grant = (await as.alice!.grants()).find((g) => g.state === 'active')!;
      await as.root!.revoke(grant.id, 'incident over');
      await alice.getByText("alice's write on orders-db was revoked by root: incident over.").waitFor({ timeout: 3000 });
      expect(await row.count()).toBe(0);
    });
  });

  it('offers an Open link to an HTTP resource’s own origin on the gateway, whose sign-in takes the secret shown', { timeout: 20_000 }, async () => {
    const { grant } = await as.alice!.request({ resource: 'web-admin', role: 'read', duration: '30m', reason: 'look at queues' });
    const alice = await pageAs('alice');
    await withScreenshotsOnFailure('open-http', { alice }, async () => {
      const row = alice.locator(`tr[data-grant-id="${grant!.id}"]`);
      await row.getByRole('button', { name: 'Connect to web-admin' }).click();
      const panel = alice.getByRole('group', { name: 'Connect to web-admin' });
      const open = panel.getByRole('link', { name: 'Open web-admin' });
      const port = air.running.get('http')!.address().port;
      expect(await open.getAttribute('href')).toBe(`http://web-admin.localhost:${port}/.airlock/sign-in`);
      await panel.getByRole('button', { name: 'Show the grant secret' }).click();
      const secret = (await panel.locator('code', { hasText: /^als/ }).textContent())!;
      const [desktopNow] = await screenshots('now-desktop', { alice });
      keepScreen(desktopNow!, 'now');

      const [tab] = await Promise.all([alice.context().waitForEvent('page'), open.click()]);
      await tab!.getByLabel('Airlock user').fill('alice');
      await tab!.getByLabel('Grant secret').fill(secret);
      await tab!.getByRole('button', { name: 'Open web-admin' }).click();
      await tab!.getByText('hello from upstream /').waitFor({ timeout: 3000 });
      expect(new URL(tab!.url()).host).toBe(`web-admin.localhost:${port}`);
      await as.alice!.release(grant!.id);
    });
  });
});

/** The request form at desktop size, for the README. */
async function askOnDesktop(): Promise<Page> {
  const page = await pageAs('alice');
  await page.goto(`${air.url}/#ask`);
  await page.getByLabel('Role').selectOption('write');
  await page.getByLabel('Reason').fill('fix order 7');
  await page.locator('section.progress').waitFor();
  return page;
}
