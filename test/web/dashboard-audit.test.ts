import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { issueToken } from '../../src/core/tokens.js';
import { createControlPlanePort } from '../../src/gateway/kernel/control-plane-port.js';
import { createApiClient, type ApiClient } from '../../src/server/api-client.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { tempConfig } from '../support/cli.js';
import { EXAMPLE_CONFIG } from '../support/world.js';
import { keepScreen, launchChromium, screenshots, signIn, withScreenshotsOnFailure } from './browser.js';

/**
 * History, grant and session pages, the audit table, its export, text that
 * could mislead a reviewer shown escaped in every view, and axe-core's
 * accessibility rules on every view at desktop and phone size, light and dark.
 */

const RLO = '\u202E';
const MISLEADING_REASON = `INC-1 look at ${RLO}gpj.exe order\u0007 9`;
const MISLEADING_SQL = `select 1 /* ${RLO} */ -- \u0000 nul`;
const LONG_SQL = `select ${Array.from({ length: 40 }, (_, i) => `col_${i}`).join(', ')}\nfrom orders\nwhere id = 1`;
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let browser: Browser;
let cp: RunningControlPlane;
let cleanup: () => void;
let sessionId: string;
let grantId: string;
const tokens: Record<string, string> = {};
const as: Record<string, ApiClient> = {};
const contexts: BrowserContext[] = [];

async function pageAs(user: string, opts: { width?: number; height?: number; dark?: boolean; timezoneId?: string } = {}): Promise<Page> {
  // bypassCSP only so the test can inject axe-core's source; the app's own behaviour is the same.
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 }, colorScheme: opts.dark ? 'dark' : 'light', bypassCSP: true, acceptDownloads: true, timezoneId: opts.timezoneId ?? 'UTC' });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(4000);
  await signIn(page, cp.url, tokens[user]!);
  return page;
}

beforeAll(async () => {
  const tmp = tempConfig(`ticket_url: "https://tracker.example.com/browse/{ticket}"\n${EXAMPLE_CONFIG}`);
  cleanup = tmp.cleanup;
  cp = await startControlPlane(parseConfig(`ticket_url: "https://tracker.example.com/browse/{ticket}"\n${EXAMPLE_CONFIG}`, 'airlock.yaml', tmp.dir), { clock: systemClock, listen: '127.0.0.1:0' });
  for (const name of ['alice', 'bob', 'carol', 'root']) {
    tokens[name] = (await issueToken(cp.store, systemClock, cp.directory, name)).token;
    as[name] = createApiClient(cp.url, tokens[name]);
  }
  // A grant with a misleading reason, an extension, a session with statements (one refused, one long, one misleading).
  const { request } = await as.alice!.request({ resource: 'orders-db', role: 'write', duration: '30m', reason: MISLEADING_REASON, ticket: 'INC-1' });
  grantId = (await as.bob!.approve(request.id, 'ok, INC-1 is real')).grant!.id;
  const ext = await as.alice!.extend(grantId, '15m', 'needs a little longer');
  if (ext.request.state === 'pending') await as.carol!.approve(ext.request.id);
  const backend = createControlPlanePort({ ...cp, kind: 'postgres' });
  sessionId = (await backend.sessionStarted({ grantId, clientAddress: '10.1.2.3:51234', applicationName: 'psql' })).sessionId;
  await backend.statement({ sessionId, text: 'select count(*) from orders', outcome: 'ok', commandTag: 'SELECT 1', rows: 1, durationMs: 1.25 });
  await backend.statement({ sessionId, text: 'select * from payment_tokens', outcome: 'refused', reason: 'role "write" on orders-db does not allow table public.payment_tokens', durationMs: 0.1 });
  await backend.statement({ sessionId, text: MISLEADING_SQL, outcome: 'ok', commandTag: 'SELECT 1', rows: 1, durationMs: 0.3 });
  await backend.statement({ sessionId, text: LONG_SQL, outcome: 'ok', commandTag: 'SELECT 1', rows: 1, durationMs: 0.5 });
  await backend.flush();
  // A pending request, so the review card is there to check.
  await as.alice!.request({ resource: 'orders-db', role: 'admin', duration: '20m', reason: 'vacuum the orders table', ticket: 'CHG-12' });
  browser = await launchChromium();
}, 60_000);

afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close();
});

afterAll(async () => {
  await browser?.close();
  await cp?.close();
  cleanup?.();
});

async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ passes: unknown[]; violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    if (r.passes.length < 10) return [`axe ran only ${r.passes.length} rules`];
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
}

describe('history, audit and hidden characters in the dashboard', () => {
  it('shows right-to-left overrides, control characters and NUL escaped in Now, the grant page, the session timeline and the audit', async () => {
    const alice = await pageAs('alice', { timezoneId: 'America/New_York' });
    await withScreenshotsOnFailure('escaping', { alice }, async () => {
      const why = alice.locator(`tr[data-grant-id="${grantId}"] td.why`);
      await why.waitFor();
      // The end in the viewer's zone with its date, UTC on hover; an extended grant shows its first end too.
      const ends = alice.locator(`tr[data-grant-id="${grantId}"] td.ends`);
      const grant = await as.alice!.getGrant(grantId);
      expect(await ends.locator('time.ends-at').first().textContent()).toMatch(/^[A-Z][a-z]{2} \d{1,2}, \d\d:\d\d (EST|EDT)$/);
      expect(await ends.locator('time.ends-at').first().getAttribute('title')).toBe(`${grant.expires_at!.slice(0, 19).replace('T', ' ')} UTC`);
      expect(await ends.locator('.extended').textContent()).toMatch(/^extended, first until /);
      expect(await why.textContent()).toBe('INC-1 look at \\u202Egpj.exe order\\u0007 9');
      expect(await why.locator('span.escaped').allTextContents()).toEqual(['\\u202E', '\\u0007']);

      await alice.goto(`${cp.url}/#session/${sessionId}`);
      const timeline = alice.locator('ol.statements li');
      await timeline.nth(3).waitFor();
      expect(await timeline.nth(2).locator('pre').textContent()).toBe('select 1 /* \\u202E */ -- \\u0000 nul');
      expect(await alice.locator('dl.facts').textContent()).toContain('\\u202Egpj.exe');

      await alice.goto(`${cp.url}/#grant/${grantId}`);
      await alice.locator('#grant-title').waitFor();
      expect(await alice.locator('dl.facts').textContent()).toContain('INC-1 INC-1 look at \\u202Egpj.exe');

      await alice.goto(`${cp.url}/#audit`);
      const row = alice.locator('table.audit tr[data-seq]', { hasText: 'gpj.exe' }).first();
      await row.waitFor();
      expect(await row.locator('td.details').textContent()).toContain('\\u202E');
      // Nowhere in any of these views did the raw characters reach the screen.
      for (const ch of [RLO, '\u0000', '\u0007']) expect(await alice.evaluate((c) => document.body.innerText.includes(c), ch)).toBe(false);
    });
  });

  it('links grants and sessions both ways, and shows a session as a timeline with outcomes, rows, durations and refusals', async () => {
    const alice = await pageAs('alice');
    await withScreenshotsOnFailure('grant-page', { alice }, async () => {
      await alice.goto(`${cp.url}/#history`);
      // Each session names its grant and that grant's reason.
      const sessionRow = alice.locator('table[aria-label="sessions"] tr', { hasText: sessionId });
      expect(await sessionRow.locator('td[data-label="Grant"]').textContent()).toBe(`${grantId} INC-1 INC-1 look at \\u202Egpj.exe order\\u0007 9`);
      await alice.locator(`tr[data-grant-id="${grantId}"] a`).first().click();
      await alice.locator('#grant-title').waitFor();
      const page = (await alice.locator('main').textContent())!;
      expect(page).toContain('bob approved');
      expect(page).toContain('ok, INC-1 is real');
      expect(page).toContain('15m more');
      expect(page).toContain('needs a little longer');
      await alice.getByRole('link', { name: sessionId }).click();
      const items = alice.locator('ol.statements li');
      await items.nth(3).waitFor();
      expect(await items.nth(0).locator('.stmt-meta').textContent()).toMatch(/ok · 1 row · 1\.25 ms/);
      const refused = items.nth(1);
      expect(await refused.getAttribute('class')).toBe('refused-row');
      expect(await refused.locator('.stmt-meta').textContent()).toContain('REFUSED');
      expect(await refused.locator('.stmt-meta').textContent()).toContain('does not allow table public.payment_tokens');
      await alice.getByRole('link', { name: grantId }).click();
      await alice.locator('#grant-title').waitFor();
    });
  });

  it('lays the audit out as a table whose rows open to every field, folds long SQL, covers every action in its filter, and exports JSON and CSV', async () => {
    const root = await pageAs('root');
    await withScreenshotsOnFailure('audit-table', { root }, async () => {
      await root.goto(`${cp.url}/#audit`);
      await root.getByText(/Audit chain verified/).waitFor();
      await root.getByLabel('Action').fill('statement.*');
      await root.getByRole('button', { name: 'Apply' }).click();
      const actions = root.locator('table.audit tr[data-seq] span.action');
      await root.waitForFunction(() => document.querySelectorAll('table.audit tr[data-seq]').length === 4);
      expect(new Set(await actions.allTextContents())).toEqual(new Set(['statement', 'statement.refused']));
      expect(await root.locator('table.audit tr[data-seq] td').nth(2).textContent()).toBe('orders-db');

      const long = root.locator('table.audit tr[data-seq]', { hasText: 'col_0' });
      await long.getByRole('button', { name: /Show the fields of event/ }).click();
      const detail = root.locator('tr.event-detail:not([hidden])');
      await detail.waitFor();
      expect(await detail.textContent()).toContain('duration_ms');
      const fold = detail.locator('details.long');
      expect(await fold.getAttribute('open')).toBeNull();
      await fold.locator('summary').click();
      expect(await fold.locator('pre').textContent()).toBe(LONG_SQL);
      const [auditShot] = await screenshots('audit-desktop', { root });
      keepScreen(auditShot!, 'audit');

      const [csv] = await Promise.all([root.waitForEvent('download'), root.getByRole('button', { name: 'Export CSV' }).click()]);
      expect(csv.suggestedFilename()).toBe('airlock-audit.csv');
      const csvText = readFileSync((await csv.path())!, 'utf8');
      expect(csvText.split('\r\n')[0]).toBe('seq,at,actor,action,target,subject_user,resource,details,hash');
      expect(csvText.trim().split('\r\n')).toHaveLength(5);
      const [json] = await Promise.all([root.waitForEvent('download'), root.getByRole('button', { name: 'Export JSON' }).click()]);
      const events = JSON.parse(readFileSync((await json.path())!, 'utf8')) as Array<{ action: string; details: { text?: string } }>;
      expect(events.map((e) => e.details.text)).toContain(MISLEADING_SQL);
    });
  });

  it('offers a read-scoped caller no decisions in the Requests view, as the API would refuse them', async () => {
    const readToken = (await issueToken(cp.store, systemClock, cp.directory, 'bob', 'airlock', { name: 'grafana', scope: 'read' })).token;
    const res = await fetch(`${cp.url}/api/dashboard/requests`, { headers: { authorization: `Bearer ${readToken}` } });
    const data = (await res.json()) as { to_review: unknown[] };
    expect((await (await fetch(`${cp.url}/api/dashboard/requests`, { headers: { authorization: `Bearer ${tokens.bob}` } })).json()).to_review).toHaveLength(1);
    expect(data.to_review).toEqual([]);
  });

  it('refuses a ticket_url that is not an http(s) link with {ticket}', () => {
    expect(() => parseConfig(`ticket_url: "javascript:alert(1)//{ticket}"\n${EXAMPLE_CONFIG}`, 'airlock.yaml', '/tmp')).toThrow(/ticket_url: expected an http\(s\) URL with \{ticket\}/);
  });

  it('passes axe-core with no serious or critical violation on every view, at desktop and phone size, light and dark', { timeout: 120_000 }, async () => {
    const found: string[] = [];
    const everyView = ['now', 'ask', 'requests', 'history', 'audit', `grant/${grantId}`, `session/${sessionId}`];
    for (const size of [{ width: 1280, height: 800, dark: false, views: everyView }, { width: 375, height: 812, dark: true, views: ['now', 'ask', 'requests', 'audit'] }]) {
      const bob = await pageAs('bob', size);
      for (const view of size.views) {
        await bob.goto(`${cp.url}/#${view}`);
        await bob.locator('main .results > *, main form.ask').first().waitFor();
        for (const v of await seriousViolations(bob)) found.push(`${size.width}px ${view}: ${v}`);
        if (view === 'requests' && size.width === 1280) keepScreen((await screenshots('review-desktop', { bob }))[0]!, 'review');
        if (view === 'requests' && size.width === 375) await screenshots('review-phone-dark', { bob });
      }
    }
    expect(found).toEqual([]);
  });

  it('takes a/d on a focused review card, never from text typed in its comment, and a denial needs the comment', async () => {
    const bob = await pageAs('bob');
    await withScreenshotsOnFailure('review-keys', { bob }, async () => {
      await bob.goto(`${cp.url}/#requests`);
      const card = bob.locator('li.review-card');
      await card.focus();
      await bob.keyboard.press('d');
      await card.getByText('A comment is required to deny').waitFor();
      expect(await bob.evaluate(() => document.activeElement?.tagName)).toBe('TEXTAREA');
      await bob.keyboard.type('a vacuum can wait for the window');
      expect((await as.alice!.requests()).find((r) => r.role === 'admin')!.state).toBe('pending');
      await card.focus();
      await bob.keyboard.press('d');
      await bob.locator('ul[aria-label="decided requests"] li', { hasText: 'vacuum' }).getByText('bob denied: a vacuum can wait for the window').waitFor();
      expect((await as.alice!.requests()).find((r) => r.role === 'admin')!.state).toBe('denied');
    });
  });
});
