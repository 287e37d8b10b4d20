import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/chain.js';
import { AirlockError } from '../../src/core/errors.js';
import { findGrant } from '../../src/store/grants.js';
import { describeEachStore } from '../support/stores.js';
import { createWorld, type World } from '../support/world.js';

const MIN = 60_000;
let w: World;

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<AirlockError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof AirlockError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describeEachStore('the lifecycle', (stores) => {
  beforeEach(async () => {
    w = await createWorld(undefined, { storeUrl: (await stores.fresh()).url });
  });
  afterEach(async () => {
    await w.close();
  });

  describe('requesting access', () => {
    it('grants at once under an approval-free policy, starting now and ending after the duration', async () => {
      const { request, grant } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: 1800, reason: 'INC-4411' });
      expect(request.state).toBe('approved');
      expect(request.policy).toBe('oncall-reads-prod');
      expect(grant?.state).toBe('active');
      expect(grant?.startsAt.toISOString()).toBe('2026-03-01T12:00:00.000Z');
      expect(grant?.expiresAt.toISOString()).toBe('2026-03-01T12:30:00.000Z');
      expect(grant?.policy).toBe('oncall-reads-prod');
    });

    it('refuses a user no policy selects, and says why', async () => {
      const err = await refusal(w.lifecycle.request(w.user('carol'), { resource: 'orders-db', role: 'read', durationSeconds: 600 }));
      expect(err.code).toBe('no_matching_policy');
      expect(err.message).toContain('no policy lets carol request role "read" on orders-db');
    });

    it('refuses more than the cap and names the maximum instead of cutting silently', async () => {
      const err = await refusal(w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: 2 * 3600 }));
      expect(err.code).toBe('duration_too_long');
      expect(err.message).toContain('the maximum is 1h, set by policy "oncall-reads-prod"');
    });

    it('applies the role cap when it is tighter than the policy and the resource', async () => {
      const err = await refusal(w.lifecycle.request(w.user('bob'), { resource: 'orders-db', role: 'admin', durationSeconds: 3600 }));
      expect(err.message).toContain('is 30m');
    });

    it('enforces the reason and ticket a policy requires', async () => {
      const noReason = await refusal(w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'write', durationSeconds: 600, ticket: 'INC-1' }));
      expect(noReason.message).toContain('requires a reason');
      const badTicket = await refusal(w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'write', durationSeconds: 600, reason: 'fix', ticket: 'JIRA-1' }));
      expect(badTicket.message).toContain('does not match ^(INC|CHG)-[0-9]+$');
    });

    it('refuses an unknown resource or role with what exists', async () => {
      expect((await refusal(w.lifecycle.request(w.user('alice'), { resource: 'nope', role: 'read', durationSeconds: 60 }))).code).toBe('unknown_resource');
      const err = await refusal(w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'root', durationSeconds: 60 }));
      expect(err.message).toContain('its roles are: read, write, admin');
    });

    it('changes nothing when a request is refused', async () => {
      await refusal(w.lifecycle.request(w.user('carol'), { resource: 'orders-db', role: 'read', durationSeconds: 600 }));
      const rows = await w.store.db.selectFrom('requests').selectAll().execute();
      expect(rows).toHaveLength(0);
    });
  });

  describe('reviews', () => {
    const ask = { resource: 'orders-db', role: 'write', durationSeconds: 3600, reason: 'fix order 9', ticket: 'INC-9' };

    it('waits for a reviewer, and the clock starts when the approval lands, not at request time', async () => {
      const { request } = await w.lifecycle.request(w.user('alice'), ask);
      expect(request.state).toBe('pending');
      await w.advance(10 * MIN);
      const { grant } = await w.lifecycle.approve(w.user('bob'), request.id, 'ok');
      expect(grant?.startsAt.toISOString()).toBe('2026-03-01T12:10:00.000Z');
      expect(grant?.expiresAt.toISOString()).toBe('2026-03-01T13:10:00.000Z');
      expect(grant?.approvedBy).toEqual(['bob']);
    });

    it('never lets requesters approve their own request, even as a reviewer or an admin', async () => {
      const { request } = await w.lifecycle.request(w.user('bob'), ask);
      const err = await refusal(w.lifecycle.approve(w.user('bob'), request.id));
      expect(err.code).toBe('self_review');
      const admin = await createWorld(
        (await import('../support/world.js')).EXAMPLE_CONFIG.replace('{ name: root,  groups: [airlock-admins] }', '{ name: root,  groups: [airlock-admins, engineering, sre-leads] }'),
        { storeUrl: (await stores.fresh()).url },
      );
      try {
        const own = await admin.lifecycle.request(admin.user('root'), ask);
        expect((await refusal(admin.lifecycle.approve(admin.user('root'), own.request.id))).code).toBe('self_review');
      } finally {
        await admin.close();
      }
    });

    it('refuses reviewers outside the policy', async () => {
      const { request } = await w.lifecycle.request(w.user('bob'), ask);
      expect((await refusal(w.lifecycle.approve(w.user('alice'), request.id))).code).toBe('not_a_reviewer');
    });

    it('needs N distinct approvals for an N-of-M policy', async () => {
      const { request } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'admin', durationSeconds: 600 });
      const first = await w.lifecycle.approve(w.user('bob'), request.id);
      expect(first.grant).toBeNull();
      expect(first.request.state).toBe('pending');
      expect((await refusal(w.lifecycle.approve(w.user('bob'), request.id))).code).toBe('already_reviewed');
      const second = await w.lifecycle.approve(w.user('carol'), request.id);
      expect(second.grant?.approvedBy).toEqual(['bob', 'carol']);
    });

    it('ends a request on one denial, which needs a comment', async () => {
      const { request } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'admin', durationSeconds: 600 });
      await w.lifecycle.approve(w.user('bob'), request.id);
      expect((await refusal(() => w.lifecycle.deny(w.user('carol'), request.id, ' '))).code).toBe('comment_required');
      const denied = await w.lifecycle.deny(w.user('carol'), request.id, 'use the read role');
      expect(denied.request.state).toBe('denied');
      expect((await refusal(w.lifecycle.approve(w.user('dave'), request.id))).code).toBe('request_not_pending');
    });

    it('expires a pending request after the review timeout', async () => {
      const { request } = await w.lifecycle.request(w.user('alice'), ask);
      await w.advance(29 * MIN);
      expect((await w.store.db.selectFrom('requests').select('state').where('id', '=', request.id).executeTakeFirstOrThrow()).state).toBe('pending');
      await w.advance(1 * MIN);
      expect((await w.store.db.selectFrom('requests').select('state').where('id', '=', request.id).executeTakeFirstOrThrow()).state).toBe('expired');
      expect(w.events.map((e) => e.type)).toContain('request.expired');
    });

    it('lets only the requester cancel a pending request', async () => {
      const { request } = await w.lifecycle.request(w.user('alice'), ask);
      expect((await refusal(w.lifecycle.cancel(w.user('bob'), request.id))).code).toBe('not_your_request');
      expect((await w.lifecycle.cancel(w.user('alice'), request.id)).state).toBe('cancelled');
    });
  });

  describe('grants', () => {
    async function readGrant(minutes = 30) {
      const { grant } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: minutes * 60, reason: 'INC-1' });
      return grant!;
    }

    it('expires exactly at expires_at, without polling', async () => {
      const grant = await readGrant(30);
      await w.advance(30 * MIN - 1);
      expect((await findGrant(w.store.db, grant.id))?.state).toBe('active');
      await w.advance(1);
      const after = await findGrant(w.store.db, grant.id);
      expect(after?.state).toBe('expired');
      expect(after?.endedAt?.toISOString()).toBe(grant.expiresAt.toISOString());
      const ended = w.events.find((e) => e.type === 'grant.ended');
      expect(ended?.type === 'grant.ended' && ended.reason).toBe('expired');
      expect(w.clock.pendingTimers()).toBe(0);
    });

    it('lets the grantee release early, and no one else', async () => {
      const grant = await readGrant();
      expect((await refusal(w.lifecycle.release(w.user('bob'), grant.id))).code).toBe('not_your_grant');
      const released = await w.lifecycle.release(w.user('alice'), grant.id);
      expect(released.state).toBe('released');
      expect((await refusal(w.lifecycle.release(w.user('alice'), grant.id))).code).toBe('grant_not_active');
    });

    it('lets admins revoke with a reason, and tells the gateway why', async () => {
      const grant = await readGrant();
      expect((await refusal(w.lifecycle.revoke(w.user('alice'), grant.id, 'x'))).code).toBe('not_allowed_to_revoke');
      expect((await refusal(() => w.lifecycle.revoke(w.user('root'), grant.id, ''))).code).toBe('reason_required');
      const revoked = await w.lifecycle.revoke(w.user('root'), grant.id, 'incident closed');
      expect(revoked.state).toBe('revoked');
      const ended = w.events.find((e) => e.type === 'grant.ended');
      expect(ended?.type === 'grant.ended' && w.lifecycle.grantEndedMessage(ended.grant, ended.reason, ended.by, ended.why)).toBe(
        'airlock: access to orders-db was revoked by root: incident closed',
      );
    });

    it('lets reviewers of the grant policy revoke it', async () => {
      const { request } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'write', durationSeconds: 600, reason: 'r', ticket: 'INC-2' });
      const { grant } = await w.lifecycle.approve(w.user('bob'), request.id);
      expect((await w.lifecycle.revoke(w.user('carol'), grant!.id, 'done')).state).toBe('revoked');
    });

    it('extends through the same policy and adds to the current expiry', async () => {
      const grant = await readGrant(30);
      await w.advance(20 * MIN);
      const { grant: extended } = await w.lifecycle.extend(w.user('alice'), grant.id, 15 * 60);
      expect(extended?.id).toBe(grant.id);
      expect(extended?.expiresAt.toISOString()).toBe('2026-03-01T12:45:00.000Z');
      await w.advance(24 * MIN);
      expect((await findGrant(w.store.db, grant.id))?.state).toBe('active');
      await w.advance(1 * MIN);
      expect((await findGrant(w.store.db, grant.id))?.state).toBe('expired');
    });

    it('refuses an extension longer than the policy allows', async () => {
      const grant = await readGrant(30);
      expect((await refusal(w.lifecycle.extend(w.user('alice'), grant.id, 2 * 3600))).code).toBe('extension_too_long');
    });

    it('issues a connection secret only to the grantee, stored only as a verifier', async () => {
      const grant = await readGrant();
      expect((await refusal(w.lifecycle.issueSecret(w.user('bob'), grant.id))).code).toBe('not_your_grant');
      const { secret } = await w.lifecycle.issueSecret(w.user('alice'), grant.id);
      const row = await w.store.db.selectFrom('grants').selectAll().where('id', '=', grant.id).executeTakeFirstOrThrow();
      expect(row.secret_verifier).toMatch(/^SCRAM-SHA-256\$4096:/);
      expect(JSON.stringify(row)).not.toContain(secret);
    });
  });

  describe('audit of the lifecycle', () => {
    it('records every change in a chain that verifies', async () => {
      const { request } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'write', durationSeconds: 600, reason: 'r', ticket: 'INC-3' });
      const { grant } = await w.lifecycle.approve(w.user('bob'), request.id);
      await w.lifecycle.revoke(w.user('root'), grant!.id, 'enough');
      const actions = (await w.store.db.selectFrom('audit_events').select(['action', 'actor']).orderBy('seq').execute()).map((r) => `${r.actor}:${r.action}`);
      expect(actions).toEqual(['alice:request.created', 'bob:request.approved', 'bob:grant.activated', 'root:grant.revoked']);
      expect(await verifyAudit(w.store.db)).toMatchObject({ ok: true, events: 4 });
    });
  });

  describe('deadlines under races', () => {
    it('refuses an approval that arrives after the review deadline, even before the expiry run', async () => {
      const { request } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'write', durationSeconds: 600, reason: 'r', ticket: 'INC-5' });
      w.expiry.stop();
      w.clock.advance(31 * MIN);
      const err = await refusal(w.lifecycle.approve(w.user('bob'), request.id));
      expect(err.code).toBe('request_not_pending');
      expect(err.message).toContain('review deadline');
    });
  });
});
