import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, screenshots, withScreenshotsOnFailure } from '../../web/browser.js';
import { httpResource, httpRole, startHarness, type Harness } from './harness.js';

/**
 * Headless Chromium using RabbitMQ's own management UI through the gateway:
 * the UI's absolute links (/js/…, /api/…) keep working because the resource
 * has a port of its own; the read role shows the queues and refuses a purge
 * the UI sends.
 */

const RABBIT = 'http://127.0.0.1:15672';
const ADMIN = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const QUEUE = `airlock-ui-${randomUUID().slice(0, 8)}`;

let gw: Harness;
let browser: Browser;

beforeAll(async () => {
  await fetch(`${RABBIT}/api/queues/%2F/${QUEUE}`, { method: 'PUT', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: '{"durable":false}' });
  gw = await startHarness(
    httpResource('rabbit-admin', RABBIT, [
      httpRole('read', {
        allow: [{ methods: ['GET'], path: '/**' }],
        credential: { kind: 'basic', user: 'guest', passwordEnv: 'RABBIT_PASSWORD' },
      }),
    ]),
    { RABBIT_PASSWORD: 'guest' },
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await fetch(`${RABBIT}/api/queues/%2F/${QUEUE}`, { method: 'DELETE', headers: { authorization: ADMIN } });
});

describe('the RabbitMQ management UI in a browser through the gateway', () => {
  it('signs in with the role’s credential, lists queues, and shows a refused purge', async () => {
    const context = await browser.newContext();
    await context.addCookies([{ name: 'airlock_grant', value: 'read', url: gw.url }]);
    const page = await context.newPage();
    await withScreenshotsOnFailure('http-rabbitmq-ui', { page }, async () => {
      await page.goto(`${gw.url}/`);
      // The UI's own login form: whatever is typed, the gateway presents the role's credential instead.
      await page.locator('input[name="username"]').fill('anyone');
      await page.locator('input[name="password"]').fill('not-the-password');
      await page.locator('input[type="submit"]').click();
      await page.getByText('Overview').first().waitFor({ timeout: 15_000 });
      await page.goto(`${gw.url}/#/queues`);
      await page.getByText(QUEUE).first().waitFor({ timeout: 15_000 });
      const refused = await page.evaluate(async (q) => {
        const res = await fetch(`/api/queues/%2F/${q}/contents`, { method: 'DELETE' });
        return { status: res.status, body: (await res.json()) as { error: { message: string } } };
      }, QUEUE);
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toBe(`airlock: role "read" on rabbit-admin does not allow DELETE /api/queues/%2F/${QUEUE}/contents`);
      const [shot] = await screenshots('http-rabbitmq-ui', { queues: page });
      expect(shot).toMatch(/http-rabbitmq-ui-queues\.png$/);
    });
    const forwarded = gw.log.outcomes.filter((o) => !o.outcome.refused).map((o) => o.outcome.path);
    expect(forwarded).toEqual(expect.arrayContaining(['/', '/api/whoami', '/api/queues']));
    await context.close();
  });
});
