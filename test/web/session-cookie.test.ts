import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { issueToken } from '../../src/core/tokens.js';
import { parseConfig } from '../../src/config/load.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { tempConfig } from '../support/cli.js';
import { EXAMPLE_CONFIG } from '../support/world.js';

let cp: RunningControlPlane;
let cleanup: () => void;
let token: string;

beforeEach(async () => {
  const tmp = tempConfig(EXAMPLE_CONFIG);
  cleanup = tmp.cleanup;
  const clock = new ManualClock('2026-03-01T12:00:00Z');
  cp = await startControlPlane(parseConfig(EXAMPLE_CONFIG, 'airlock.yaml', tmp.dir), { clock, listen: '127.0.0.1:0' });
  token = (await issueToken(cp.store, clock, cp.directory, 'alice')).token;
});

afterEach(async () => {
  await cp.close();
  cleanup();
});

async function login(): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await fetch(`${cp.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  expect(res.status).toBe(200);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const { csrf } = (await res.json()) as { csrf: string };
  return { cookie: setCookie.split(';')[0]!, csrf, setCookie };
}

const ask = JSON.stringify({ resource: 'orders-db', role: 'read', duration: '5m', reason: 'look' });

describe('dashboard sign-in', () => {
  it('keeps the token in an HttpOnly, SameSite=Strict cookie and refuses a wrong token (audited)', async () => {
    const { setCookie } = await login();
    expect(setCookie).toMatch(/^airlock_session=airlock_tok_/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    const bad = await fetch(`${cp.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: `${token.slice(0, -3)}xyz` }) });
    expect(bad.status).toBe(401);
    const failures = await cp.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'auth.failed').execute();
    expect(failures.map((f) => f.target)).toEqual(['dashboard']);
  });

  it('lets the cookie read, but every change needs the CSRF header and a same-origin request', async () => {
    const { cookie, csrf } = await login();
    expect((await fetch(`${cp.url}/api/who`, { headers: { cookie } })).status).toBe(200);
    const session = (await (await fetch(`${cp.url}/auth/session`, { headers: { cookie } })).json()) as { user: string; csrf: string };
    expect(session).toEqual({ user: 'alice', groups: ['oncall', 'engineering'], admin: false, csrf });

    const noHeader = await fetch(`${cp.url}/api/requests`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: ask });
    expect(noHeader.status).toBe(403);
    expect(((await noHeader.json()) as { error: { code: string } }).error.code).toBe('csrf_failed');
    const wrong = await fetch(`${cp.url}/api/requests`, { method: 'POST', headers: { cookie, 'x-airlock-csrf': `${csrf}x` }, body: ask });
    expect(wrong.status).toBe(403);
    const crossSite = await fetch(`${cp.url}/api/requests`, { method: 'POST', headers: { cookie, 'x-airlock-csrf': csrf, origin: 'https://evil.example' }, body: ask });
    expect(((await crossSite.json()) as { error: { code: string } }).error.code).toBe('cross_site_request');
    expect(await cp.store.db.selectFrom('requests').selectAll().execute()).toHaveLength(0);

    const ok = await fetch(`${cp.url}/api/requests`, { method: 'POST', headers: { cookie, 'x-airlock-csrf': csrf, origin: cp.url }, body: ask });
    expect(ok.status).toBe(201);
  });

  it('signs out by clearing the cookie', async () => {
    const { cookie, csrf } = await login();
    const out = await fetch(`${cp.url}/auth/logout`, { method: 'POST', headers: { cookie, 'x-airlock-csrf': csrf } });
    expect(out.headers.get('set-cookie')).toMatch(/airlock_session=;.*Max-Age=0/);
    expect((await fetch(`${cp.url}/auth/logout`, { method: 'POST', headers: { cookie } })).status).toBe(403);
  });
});
