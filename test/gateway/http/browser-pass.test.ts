import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import type { Grant } from '../../../src/core/model.js';
import { startAirlock } from '../../../src/server/airlock.js';

/**
 * The browser's grant cookie, through the real control plane and kernel in
 * front of RabbitMQ's management API: it carries an opaque pass, never the
 * grant secret; the pass opens the resource only while its grant is active
 * and until sign-out; and nobody can lock a user out of the gateway by
 * failing sign-ins from the user's address.
 */

const RABBIT = 'http://127.0.0.1:15672';

const yaml = `
users:
  - { name: alice, groups: [oncall] }
  - { name: bob, groups: [oncall] }
  - { name: root,  groups: [airlock-admins] }
admins: { groups: [airlock-admins] }
resources:
  - name: rabbit-admin
    kind: http
    upstream: { url: "${RABBIT}" }
    roles:
      read:
        credential: { user: guest, password_env: PASS_RABBIT_PASSWORD }
        http: { allow: ["GET /api/**"] }
policies:
  - { name: oncall, who: { groups: [oncall] }, resources: { names: [rabbit-admin] }, roles: [read], max_duration: 1h, approval: none }
gateway:
  http: { listen: 127.0.0.1:0 }
`;

let air: Awaited<ReturnType<typeof startAirlock>>;
let dir: string;
let port: number;
const host = () => `rabbit-admin.localhost:${port}`;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection (a new session each time), as a browser or curl would send it. */
function send(method: string, path: string, headers: http.OutgoingHttpHeaders, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers: { host: host(), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function grantFor(user: string): Promise<{ grant: Grant; secret: string }> {
  const u = air.directory.users.get(user)!;
  const grant = (await air.lifecycle.request(u, { resource: 'rabbit-admin', role: 'read', durationSeconds: 1800, reason: 'INC-7' })).grant!;
  const { secret } = await air.lifecycle.issueSecret(u, grant.id);
  return { grant, secret };
}

async function signIn(user: string, secret: string): Promise<Answer> {
  const form = new URLSearchParams({ user, secret }).toString();
  return send('POST', '/.airlock/sign-in', { origin: `http://${host()}`, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) }, form);
}

function cookieOf(a: Answer): string {
  const set = a.headers['set-cookie']?.find((c) => c.startsWith('airlock_grant='));
  if (!set) throw new Error(`no grant cookie in ${a.status} ${a.body}`);
  return set.split(';')[0]!;
}

const overview = (cookie: string) => send('GET', '/api/overview', { cookie, accept: 'application/json' });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-http-pass-'));
  air = await startAirlock(parseConfig(yaml, 'airlock.yaml', dir), { listen: '127.0.0.1:0', gatewayListen: { http: '127.0.0.1:0' }, env: { PASS_RABBIT_PASSWORD: 'guest' } });
  port = air.running.get('http')!.address().port;
}, 30_000);

afterAll(async () => {
  await air?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the browser grant cookie', () => {
  it('carries an opaque pass, not the grant secret, and opens the resource with it', async () => {
    const { secret } = await grantFor('alice');
    const signed = await signIn('alice', secret);
    expect(signed.status).toBe(303);
    const cookie = cookieOf(signed);
    const value = cookie.slice('airlock_grant='.length);
    expect(value).not.toContain(secret);
    for (const encoding of ['base64', 'base64url'] as const) {
      expect(value).not.toContain(Buffer.from(`alice:${secret}`).toString(encoding));
      expect(value).not.toContain(Buffer.from(secret).toString(encoding).replace(/=+$/, ''));
    }
    expect(value).toMatch(/^alp_[A-Za-z0-9_-]{43}$/);
    expect(signed.headers['set-cookie']![0]).toMatch(/HttpOnly; SameSite=Lax$/);
    expect((await overview(cookie)).status).toBe(200);
    // A pass that was never issued, and the old cookie form (user:secret itself), open nothing.
    expect((await overview(`airlock_grant=${value.slice(0, -2)}xx`)).status).toBe(401);
    expect((await overview(`airlock_grant=${Buffer.from(`alice:${secret}`).toString('base64url')}`)).status).toBe(401);
  });

  it('stops working at sign-out', async () => {
    const { secret } = await grantFor('bob');
    const cookie = cookieOf(await signIn('bob', secret));
    expect((await overview(cookie)).status).toBe(200);
    const out = await send('GET', '/.airlock/sign-out', { cookie });
    expect(out.status).toBe(200);
    expect(out.headers['set-cookie']![0]).toMatch(/^airlock_grant=;.*Max-Age=0/);
    // A copy of the cookie kept elsewhere is dead too: the pass is gone on the gateway, not only in this browser.
    const after = await overview(cookie);
    expect(after.status).toBe(401);
    expect(JSON.parse(after.body).error.message).toContain('sign in again at /.airlock/sign-in');
    const page = await send('GET', '/', { cookie, accept: 'text/html' });
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/.airlock/sign-in');
  });

  it("a revoked grant's cookie stops working, on new connections and on the one already open", async () => {
    const { grant, secret } = await grantFor('alice');
    const cookie = cookieOf(await signIn('alice', secret));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const onOpen = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/api/overview', agent, headers: { host: host(), cookie } }, (res) => resolve(res.resume().statusCode!));
        req.on('error', reject);
      });
    try {
      expect(await onOpen()).toBe(200);
      await air.lifecycle.revoke(air.directory.users.get('root')!, grant.id, 'done');
      expect(await overview(cookie)).toMatchObject({ status: 401 });
      // The open connection was cut with the grant: it answers the reason (403) in its last second, or is gone.
      expect([401, 403]).toContain(await onOpen().catch(() => 401));
    } finally {
      agent.destroy();
    }
  });
});

describe('failed sign-ins', () => {
  it('never lock out the right secret: failures from the same address only slow down further failures', async () => {
    const { secret } = await grantFor('bob');
    const basic = (s: string) => ({ authorization: `Basic ${Buffer.from(`bob:${s}`).toString('base64')}`, accept: 'application/json' });
    // Someone on the same address (a shared NAT, a jump host) sends wrong secrets for bob.
    for (let i = 0; i < 8; i++) expect((await send('GET', '/api/overview', basic(`wrong-${i}`))).status).toBe(401);
    const wrong = await send('GET', '/api/overview', basic('wrong-again'));
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).error.message).toMatch(/too many failed sign-ins/);
    // bob, with the right secret, from the same address, by Basic auth and on the sign-in page.
    expect((await send('GET', '/api/overview', basic(secret))).status).toBe(200);
    expect((await signIn('bob', secret)).status).toBe(303);
  });
});
