import { afterEach, describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/chain.js';
import { ManualClock } from '../../src/core/clock.js';
import { issueToken } from '../../src/core/tokens.js';
import { parseConfig } from '../../src/config/load.js';
import { createApiClient, ApiError, type ApiClient } from '../../src/server/api-client.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { insertSession } from '../../src/store/sessions.js';
import { EXAMPLE_CONFIG } from '../support/world.js';
import { tempConfig } from '../support/cli.js';

/**
 * Who may see what, on the API: everyone sees who holds access; statement
 * texts belong to the session's user (and its reviewers, admins, auditors)
 * unless `visibility.statements: all`; auditors see everything and change
 * nothing.
 */

const WITH_AUDITOR = EXAMPLE_CONFIG.replace(
  'admins: { groups: [airlock-admins] }',
  `  - { name: erin,  groups: [oncall] }
  - { name: audrey, groups: [compliance, oncall, sre-leads] }
admins: { groups: [airlock-admins] }
auditors: { groups: [compliance] }`,
);

let cp: RunningControlPlane;
let cleanup: () => void;
let clock: ManualClock;
const as: Record<string, ApiClient> = {};

async function start(extra = '') {
  const text = WITH_AUDITOR + extra;
  const tmp = tempConfig(text);
  cleanup = tmp.cleanup;
  clock = new ManualClock('2026-03-01T12:00:00Z');
  cp = await startControlPlane(parseConfig(text, 'airlock.yaml', tmp.dir), { clock, listen: '127.0.0.1:0' });
  for (const name of ['alice', 'bob', 'erin', 'audrey', 'root']) {
    as[name] = createApiClient(cp.url, (await issueToken(cp.store, clock, cp.directory, name)).token);
  }
}

afterEach(async () => {
  await cp?.close();
  cleanup?.();
});

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected the API to refuse');
}

/** alice reads through the gateway under a fresh grant: a session and one statement, recorded as the gateway records them. */
async function aliceSession(): Promise<{ grant: string; session: string }> {
  const asked = await as.alice!.request({ resource: 'orders-db', role: 'read', duration: '30m', reason: 'INC-1' });
  const grant = asked.grant!.id;
  const session = `ses_${Math.random().toString(16).slice(2, 14).padEnd(12, '0')}`;
  await cp.store.transaction(async (tx) => {
    const now = clock.now();
    await insertSession(tx, {
      id: session, grantId: grant, user: 'alice', resource: 'orders-db', role: 'read', clientAddress: '127.0.0.1',
      applicationName: 'psql', startedAt: now, endedAt: null, endReason: null, statements: 0, refused: 0, bytesIn: 0, bytesOut: 0,
    });
    await appendAudit(tx, now, [
      { actor: 'alice', action: 'session.started', target: session, subjectUser: 'alice', resource: 'orders-db', details: { grant } },
      { actor: 'alice', action: 'statement', target: session, subjectUser: 'alice', resource: 'orders-db', details: { grant, text: "select card from customers where email = 'vip@example.com'" } },
    ]);
  });
  return { grant, session };
}

const SECRET = 'vip@example.com';

describe('statement texts: own by default', () => {
  it('shows every user who holds access, but statement texts only to the session\'s user, its reviewers, admins and auditors', async () => {
    await start();
    const { grant, session } = await aliceSession();
    // Who holds access: everyone.
    expect((await as.erin!.who()).map((g) => g.id)).toEqual([grant]);
    expect((await as.erin!.sessions()).map((s) => s.id)).toEqual([session]);
    // Statement texts: not erin (another on-call engineer), by session id or through the audit filters.
    const err = await refusal(as.erin!.session(session));
    expect([err.status, err.code]).toEqual([403, 'not_allowed']);
    for (const q of [{ target: session }, { action: 'statement*' }, { user: 'alice' }]) expect(JSON.stringify(await as.erin!.audit(q))).not.toContain(SECRET);
    // The session's user, an admin and an auditor read them.
    for (const who of ['alice', 'root', 'audrey']) expect(JSON.stringify(await as[who]!.session(session))).toContain(SECRET);
    expect(JSON.stringify(await as.audrey!.audit({ target: session }))).toContain(SECRET);
  });

  it('lets everyone read statement texts when visibility.statements is all', async () => {
    await start('\nvisibility: { statements: all }\n');
    const { session } = await aliceSession();
    expect(JSON.stringify(await as.erin!.session(session))).toContain(SECRET);
    expect(JSON.stringify(await as.erin!.audit({ action: 'statement*' }))).toContain(SECRET);
    // Other users' requests and token events stay theirs.
    expect((await as.erin!.audit({ user: 'alice' })).map((e) => e.action).filter((a) => !a.startsWith('s'))).toEqual([]);
  });
});

describe('auditors', () => {
  it('see everything: every grant, request, token and the whole audit export', async () => {
    await start();
    const { grant } = await aliceSession();
    const write = await as.alice!.request({ resource: 'orders-db', role: 'write', duration: '10m', reason: 'x', ticket: 'INC-9' });
    expect((await as.audrey!.grants({ all: true })).map((g) => g.id)).toContain(grant);
    expect((await as.audrey!.getRequest(write.request.id)).user).toBe('alice');
    expect((await as.audrey!.tokens({ all: true })).map((t) => t.user)).toContain('alice');
    expect(await as.audrey!.auditExport()).toContain('request.created');
    expect((await refusal(as.erin!.auditExport())).code).toBe('admins_only');
    expect((await refusal(as.erin!.grants({ all: true }))).code).toBe('admins_only');
    expect(await as.audrey!.whoami()).toMatchObject({ auditor: true, scope: 'read' });
  });

  it('change nothing, even where a policy would let their groups act', async () => {
    await start();
    const { grant } = await aliceSession();
    const write = await as.alice!.request({ resource: 'orders-db', role: 'write', duration: '10m', reason: 'x', ticket: 'INC-9' });
    // audrey is also in sre-leads (reviewers of writes) and oncall (may request reads): as an auditor she may do neither.
    for (const attempt of [
      as.audrey!.approve(write.request.id),
      as.audrey!.deny(write.request.id, 'no'),
      as.audrey!.revoke(grant, 'x'),
      as.audrey!.request({ resource: 'orders-db', role: 'read', duration: '10m', reason: 'x' }),
      as.audrey!.issueToken({ name: 'x', scope: 'admin' }),
    ]) {
      expect((await refusal(attempt)).code).toBe('scope_insufficient');
    }
    expect((await as.alice!.getRequest(write.request.id)).state).toBe('pending');
    expect((await as.alice!.grants()).find((g) => g.id === grant)?.state).toBe('active');
  });
});
