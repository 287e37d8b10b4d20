import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAirlock, type Airlock } from './support.js';

/**
 * The control plane as a hostile user with a valid token sees it: approving
 * their own request by any path, ending or taking over other users' grants,
 * reading other users' statements, and odd input.
 */

let air: Airlock;

beforeAll(async () => {
  air = await startAirlock();
});

afterAll(async () => {
  await air?.stop();
});

const post = (user: string, path: string, body: unknown = {}) => air.api(user, path, { method: 'POST', body: JSON.stringify(body) });
const codeOf = async (r: Response) => ((await r.json()) as { error?: { code: string } }).error?.code;

describe('reviews', () => {
  it('never lets a requester approve their own request, nor their own extension of an approved grant', async () => {
    // bob is both a requester (oncall) and a reviewer (sre-leads) of the write policy.
    const asked = (await (await post('bob', '/api/requests', { resource: 'orders-db', role: 'write', duration: '10m', reason: 'x' })).json()) as { request: { id: string } };
    expect(await codeOf(await post('bob', `/api/requests/${asked.request.id}/approve`))).toBe('self_review');
    expect(await codeOf(await post('mallory', `/api/requests/${asked.request.id}/approve`))).toBe('not_a_reviewer');

    const mine = (await (await post('mallory', '/api/requests', { resource: 'orders-db', role: 'write', duration: '10m', reason: 'x' })).json()) as { request: { id: string } };
    expect(await codeOf(await post('mallory', `/api/requests/${mine.request.id}/approve`))).toBe('self_review');
    const approved = (await (await post('bob', `/api/requests/${mine.request.id}/approve`)).json()) as { grant: { id: string } };
    const ext = (await (await post('mallory', `/api/grants/${approved.grant.id}/extend`, { duration: '10m' })).json()) as { request: { id: string; state: string } };
    expect(ext.request.state).toBe('pending');
    expect(await codeOf(await post('mallory', `/api/requests/${ext.request.id}/approve`))).toBe('self_review');
  });
});

describe('other users\' grants and sessions', () => {
  it('refuses to release, revoke, extend or issue credentials for another user\'s grant', async () => {
    const alice = await air.grant('alice', 'read');
    expect(await codeOf(await post('mallory', `/api/grants/${alice.grant}/release`))).toBe('not_your_grant');
    expect(await codeOf(await post('mallory', `/api/grants/${alice.grant}/revoke`, { reason: 'x' }))).toBe('not_allowed_to_revoke');
    expect(await codeOf(await post('mallory', `/api/grants/${alice.grant}/extend`, { duration: '1h' }))).toBe('not_your_grant');
    expect(await codeOf(await post('mallory', `/api/grants/${alice.grant}/credentials`))).toBe('not_your_grant');
    // bob reviews the write policy, not alice's read policy (which needs no approval).
    expect(await codeOf(await post('bob', `/api/grants/${alice.grant}/revoke`, { reason: 'x' }))).toBe('not_allowed_to_revoke');
  });

  it('does not show another user\'s statements, by session id or through the audit filters', async () => {
    const alice = await air.grant('alice', 'read');
    const c = await air.pg(alice);
    await c.query("select 'alice-secret-literal' as x");
    await c.end();
    const sessions = (await (await air.api('alice', '/api/sessions?user=alice')).json()) as Array<{ id: string }>;
    expect(sessions.length).toBeGreaterThan(0);
    for (const s of sessions) expect(await codeOf(await air.api('mallory', `/api/sessions/${s.id}`))).toBe('not_allowed');
    for (const q of ['?user=alice', '?action=statement*', "?action=%25'%20or%201=1--", '?action=*&limit=-1', `?target=${sessions[0]!.id}`]) {
      const r = await air.api('mallory', `/api/audit${q}`);
      expect(await r.text()).not.toContain('alice-secret-literal');
    }
  });
});

describe('odd input', () => {
  it('answers malformed JSON, wrong types, traversal-looking ids and unknown tokens with typed errors', async () => {
    const bad = await air.api('mallory', '/api/requests', { method: 'POST', body: '{"resource":' });
    expect(bad.status).toBe(400);
    expect(await codeOf(bad)).toBe('invalid_json');
    expect(await codeOf(await post('mallory', '/api/requests', { resource: ['orders-db'], role: 'read', duration: '1m' }))).toBe('invalid_body');
    expect((await air.api('mallory', '/api/grants/..%2F..%2Fapi%2Fwho')).status).toBe(404);
    const anon = await fetch(`${air.server.url}/api/who`, { headers: { authorization: 'Bearer airlock_tok_000000000000_guess' } });
    expect(anon.status).toBe(401);
    const audit = (await (await air.api('root', '/api/audit?action=auth.failed')).json()) as unknown[];
    expect(audit.length).toBeGreaterThan(0);
    expect((await fetch(`${air.server.url}/api/health`)).status).toBe(200);
  });

  it('does not let a user write or alter audit events through the API', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const r = await air.api('root', '/api/audit', { method, body: JSON.stringify({ action: 'grant.revoked', actor: 'root' }) });
      expect(r.status).toBe(404);
    }
    const verify = (await (await air.api('mallory', '/api/audit/verify')).json()) as { ok: boolean };
    expect(verify.ok).toBe(true);
  });
});
