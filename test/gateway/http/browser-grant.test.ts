import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseConfig } from '../../../src/config/load.js';
import { startAirlock } from '../../../src/server/airlock.js';
import { launchChromium, screenshots, withScreenshotsOnFailure } from '../../web/browser.js';

/**
 * A browser with a grant, through the real control plane and kernel: the
 * resource's own origin (rabbit-admin.localhost), the gateway's sign-in page
 * sets the grant cookie, RabbitMQ's management UI works behind it, and a
 * revoke ends it.
 */

const RABBIT = 'http://127.0.0.1:15672';
const ADMIN = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const QUEUE = `airlock-browser-${randomUUID().slice(0, 8)}`;

const yaml = `
users:
  - { name: alice, groups: [oncall] }
  - { name: root,  groups: [airlock-admins] }
admins: { groups: [airlock-admins] }
resources:
  - name: rabbit-admin
    kind: http
    upstream: { url: "${RABBIT}" }
    roles:
      read:
        credential: { user: guest, password_env: BROWSER_RABBIT_PASSWORD }
        http: { allow: ["GET /**"] }
policies:
  - { name: oncall, who: { groups: [oncall] }, resources: { names: [rabbit-admin] }, roles: [read], max_duration: 1h, approval: none }
gateway:
  http: { listen: 127.0.0.1:0 }
`;

let air: Awaited<ReturnType<typeof startAirlock>>;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  await fetch(`${RABBIT}/api/queues/%2F/${QUEUE}`, { method: 'PUT', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: '{"durable":false}' });
  dir = mkdtempSync(join(tmpdir(), 'airlock-http-browser-'));
  air = await startAirlock(parseConfig(yaml, 'airlock.yaml', dir), { listen: '127.0.0.1:0', gatewayListen: { http: '127.0.0.1:0' }, env: { BROWSER_RABBIT_PASSWORD: 'guest' } });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await air?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await fetch(`${RABBIT}/api/queues/%2F/${QUEUE}`, { method: 'DELETE', headers: { authorization: ADMIN } });
});

describe('a browser on an http resource through airlock', () => {
  it('signs in with the grant on the resource’s own origin, uses the RabbitMQ UI, and loses it on revoke', { timeout: 90_000 }, async () => {
    const alice = air.directory.users.get('alice')!;
    const grant = (await air.lifecycle.request(alice, { resource: 'rabbit-admin', role: 'read', durationSeconds: 1800, reason: 'INC-9' })).grant!;
    const { secret } = await air.lifecycle.issueSecret(alice, grant.id);
    const origin = `http://rabbit-admin.localhost:${air.running.get('http')!.address().port}`;
    const context = await browser.newContext();
    const page = await context.newPage();
    await withScreenshotsOnFailure('http-browser-grant', { page }, async () => {
      await page.goto(`${origin}/`);
      expect(new URL(page.url()).pathname).toBe('/.airlock/sign-in');
      await page.getByLabel('Airlock user').fill('alice');
      await page.getByLabel('Grant secret').fill(`${secret}x`);
      await page.getByRole('button', { name: 'Open rabbit-admin' }).click();
      await page.getByText('no active grant for alice on rabbit-admin, or the secret is wrong').waitFor();
      await page.getByLabel('Airlock user').fill('alice');
      await page.getByLabel('Grant secret').fill(secret);
      await page.getByRole('button', { name: 'Open rabbit-admin' }).click();
      // RabbitMQ's own login form: whatever is typed, the gateway presents the role's credential.
      await page.locator('input[name="username"]').fill('alice');
      await page.locator('input[name="password"]').fill('anything');
      await page.locator('input[type="submit"]').click();
      await page.getByText('Overview').first().waitFor({ timeout: 20_000 });
      await page.goto(`${origin}/#/queues`);
      await page.getByText(QUEUE).first().waitFor({ timeout: 20_000 });
      const cookies = await context.cookies(origin);
      expect(cookies.find((c) => c.name === 'airlock_grant')).toMatchObject({ httpOnly: true, domain: 'rabbit-admin.localhost' });
      expect(await page.evaluate(() => document.cookie)).not.toContain('airlock_grant');
      await screenshots('http-browser-grant', { queues: page });

      // Another resource's page (same site, other origin) cannot spend this grant cookie on a write or a fetch.
      const grantCookie = `airlock_grant=${cookies.find((c) => c.name === 'airlock_grant')!.value}`;
      const forged = await new Promise<number>((resolve, reject) => {
        const req = http.get(
          { host: '127.0.0.1', port: new URL(origin).port, path: '/api/overview', headers: { host: new URL(origin).host, cookie: grantCookie, 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' } },
          (res) => resolve(res.resume().statusCode!),
        );
        req.on('error', reject);
      });
      expect(forged).toBe(403);
      const sameOrigin = await page.evaluate(async () => (await fetch('/api/overview')).status);
      expect(sameOrigin).toBe(200);

      await air.lifecycle.revoke(air.directory.users.get('root')!, grant.id, 'done');
      const after = await page.evaluate(async () => (await fetch('/api/overview')).status);
      expect([401, 403]).toContain(after);
    });
    await context.close();
  });
});
