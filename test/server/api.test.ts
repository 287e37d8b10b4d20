import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { issueToken } from '../../src/core/tokens.js';
import { parseConfig } from '../../src/config/load.js';
import { createApiClient, ApiError, type ApiClient } from '../../src/server/api-client.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { EXAMPLE_CONFIG } from '../support/world.js';
import { tempConfig } from '../support/cli.js';

let cp: RunningControlPlane;
let cleanup: () => void;
let clock: ManualClock;
const as: Record<string, ApiClient> = {};
const tokens: Record<string, string> = {};

beforeEach(async () => {
  const tmp = tempConfig(EXAMPLE_CONFIG);
  cleanup = tmp.cleanup;
  clock = new ManualClock('2026-03-01T12:00:00Z');
  cp = await startControlPlane(parseConfig(EXAMPLE_CONFIG, 'airlock.yaml', tmp.dir), { clock, listen: '127.0.0.1:0' });
  for (const name of ['alice', 'bob', 'carol', 'root']) {
    tokens[name] = (await issueToken(cp.store, clock, cp.directory, name)).token;
    as[name] = createApiClient(cp.url, tokens[name]);
  }
});

afterEach(async () => {
  await cp.close();
  cleanup();
});

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected the API to refuse');
}

async function raw(path: string, init: RequestInit = {}) {
  const res = await fetch(`${cp.url}${path}`, init);
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

describe('HTTP API', () => {
  it('refuses a missing or wrong token with 401 and audits the failed attempt', async () => {
    expect((await raw('/api/who')).status).toBe(401);
    const wrong = await raw('/api/who', { headers: { authorization: `Bearer ${tokens.alice!.slice(0, -4)}AAAA` } });
    expect(wrong).toEqual({ status: 401, body: { error: { code: 'unauthenticated', message: expect.stringContaining('airlock login') } } });
    const failures = await as.root!.audit({ action: 'auth.failed' });
    expect(failures).toHaveLength(1);
    expect(JSON.stringify(failures)).not.toContain(tokens.alice!.slice(20, 40));
  });

  it('stores tokens only as hashes', async () => {
    const rows = await cp.store.db.selectFrom('api_tokens').selectAll().execute();
    for (const t of Object.values(tokens)) expect(JSON.stringify(rows)).not.toContain(t.slice(-43));
  });

  it('runs a request through review to an active grant that everyone can see', async () => {
    const asked = await as.alice!.request({ resource: 'orders-db', role: 'write', duration: '1h', reason: 'fix order 9', ticket: 'INC-9' });
    expect(asked.request).toMatchObject({ state: 'pending', approvals_needed: 1, policy: 'writes-need-a-lead' });
    expect(asked.grant).toBeNull();
    const pendingForBob = await as.bob!.requests(true);
    expect(pendingForBob.map((r) => [r.id, r.can_review])).toEqual([[asked.request.id, true]]);
    clock.advance(5 * 60_000);
    const approved = await as.bob!.approve(asked.request.id, 'go');
    expect(approved.grant).toMatchObject({ state: 'active', approved_by: ['bob'], starts_at: '2026-03-01T12:05:00.000Z', expires_at: '2026-03-01T13:05:00.000Z' });
    const who = await as.carol!.who();
    expect(who.map((g) => [g.user, g.resource, g.role, g.reason, g.ticket])).toEqual([['alice', 'orders-db', 'write', 'fix order 9', 'INC-9']]);
  });

  it('answers bad input with a typed error and changes nothing', async () => {
    expect((await apiError(as.alice!.request({ resource: 'orders-db', role: 'read', duration: 'soon' }))).code).toBe('invalid_duration');
    expect((await apiError(as.alice!.request({ resource: 'nope', role: 'read', duration: '5m' }))).status).toBe(404);
    expect((await apiError(as.alice!.getGrant('grt_000000000000'))).code).toBe('unknown_grant');
    const badJson = await raw('/api/requests', { method: 'POST', headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' }, body: '{"resource":' });
    expect(badJson).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    const missing = await raw('/api/requests', { method: 'POST', headers: { authorization: `Bearer ${tokens.alice}` }, body: '{"resource":"orders-db"}' });
    expect(missing).toMatchObject({ status: 400, body: { error: { code: 'invalid_body', message: expect.stringContaining('role') } } });
    expect(await cp.store.db.selectFrom('requests').selectAll().execute()).toHaveLength(0);
  });

  it('refuses acting on someone else\'s grant', async () => {
    const { grant } = await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '10m' });
    expect((await apiError(as.bob!.release(grant!.id))).status).toBe(403);
    expect((await apiError(as.bob!.credentials(grant!.id))).code).toBe('not_your_grant');
    expect((await apiError(as.alice!.grants({ all: true }))).code).toBe('admins_only');
  });

  it('expires grants on time while the server runs', async () => {
    const { grant } = await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '10m' });
    clock.advance(10 * 60_000);
    await cp.expiry.idle();
    expect((await as.alice!.getGrant(grant!.id)).state).toBe('expired');
    expect(await as.alice!.who()).toEqual([]);
  });

  it('lets non-admins see only their own audit trail', async () => {
    await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '10m' });
    expect((await as.carol!.audit()).filter((e) => e.subject_user === 'alice')).toEqual([]);
    expect((await as.root!.audit({ user: 'alice' })).map((e) => e.action)).toEqual(['grant.activated', 'request.created', 'token.issued']);
    expect(await as.carol!.auditVerify()).toMatchObject({ ok: true });
  });

  it('treats a negative or malformed limit as the default instead of "no limit"', async () => {
    for (let i = 0; i < 110; i++) await issueToken(cp.store, clock, cp.directory, 'carol');
    expect(await as.root!.audit({ limit: -1 })).toHaveLength(100);
    expect(await as.root!.audit({ limit: 3 })).toHaveLength(3);
    expect(await raw('/api/audit?limit=abc', { headers: { authorization: `Bearer ${tokens.root}` } })).toMatchObject({ status: 200 });
  });
});
