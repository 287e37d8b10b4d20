import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAudit } from '../../src/audit/chain.js';
import { insertOutboxRows } from '../../src/notify/outbox-store.js';
import { insertSession } from '../../src/store/sessions.js';
import { openStore, type Store } from '../../src/store/store.js';
import { runCli } from '../support/cli.js';
import { storeFactory } from '../support/stores.js';
import { createWorld } from '../support/world.js';

const pgStores = storeFactory('postgres');
afterAll(() => pgStores.dropAll());

const TABLES = ['meta', 'requests', 'reviews', 'grants', 'sessions', 'api_tokens', 'identity_users', 'sign_in_sessions', 'audit_events', 'outbox'] as const;

async function dump(store: Store): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of TABLES) {
    const rows = await store.db.selectFrom(t).selectAll().execute();
    out[t] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

describe('airlock store migrate', () => {
  it('copies a SQLite store into an empty PostgreSQL one, chain intact, and refuses a target that is not empty', async () => {
    // A store with some life in it: requests, a review, grants (one revoked), a session, statements with a large text, outbox rows.
    const w = await createWorld();
    const read = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: 600, reason: 'INC-1' });
    const write = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'write', durationSeconds: 600, reason: 'r', ticket: 'INC-2' });
    await w.lifecycle.approve(w.user('bob'), write.request.id);
    await w.lifecycle.revoke(w.user('root'), read.grant!.id, 'done');
    await w.store.transaction(async (tx) => {
      await insertSession(tx, { id: 'ses_1', grantId: read.grant!.id, user: 'alice', resource: 'orders-db', role: 'read', clientAddress: '127.0.0.1', applicationName: 'psql', startedAt: w.clock.now(), endedAt: null, endReason: null, statements: 0, refused: 0, bytesIn: 0, bytesOut: 0 });
      await appendAudit(tx, w.clock.now(), Array.from({ length: 1200 }, (_, i) => ({ actor: 'alice', action: 'statement', target: 'ses_1', details: { text: i === 7 ? 'x'.repeat(300_000) : `select ${i}` } })));
      await insertOutboxRows(tx, [1, 2, 3].map((n) => ({ auditSeq: n, sink: 'webhook:abc', eventType: 'grant.activated', payload: '{}', at: w.clock.now() })));
    });
    const sourceUrl = `sqlite:${w.store.location}`;
    const before = await dump(w.store);
    const sourceChain = await verifyAudit(w.store.db);
    // Expiry runs the events above set off must end before the store closes: the test world's error handler throws.
    w.expiry.stop();
    await w.expiry.idle();
    await w.store.close();

    const target = await pgStores.fresh();
    const u = new URL(target.url);
    u.password = 'migrate-secret-9d';
    const env = { AIRLOCK_TARGET: u.toString() };
    const r = await runCli(['store', 'migrate', '--from', sourceUrl, '--to-env', 'AIRLOCK_TARGET'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/audit_events\s+1206/);
    expect(r.stdout).toContain('audit chain verified on the target: 1206 event(s)');
    expect(r.stdout).not.toContain('migrate-secret-9d');

    const pgStore = await openStore(u.toString(), target.dir);
    try {
      expect(await dump(pgStore)).toEqual(before);
      expect(await verifyAudit(pgStore.db)).toEqual(sourceChain);
      // New rows continue after the copied ones: the chain from its head, the outbox ids after the largest.
      await pgStore.transaction(async (tx) => {
        await appendAudit(tx, new Date(), [{ actor: 'root', action: 'test.after', target: 'x' }]);
        await insertOutboxRows(tx, [{ auditSeq: 1207, sink: 'webhook:abc', eventType: 'grant.ended', payload: '{}', at: new Date() }]);
      });
      expect(await verifyAudit(pgStore.db)).toMatchObject({ ok: true, events: 1207 });
      expect((await pgStore.db.selectFrom('outbox').select('id').orderBy('id').execute()).map((x) => x.id)).toEqual([1, 2, 3, 4]);
    } finally {
      await pgStore.close();
    }

    const again = await runCli(['store', 'migrate', '--from', sourceUrl, '--to-env', 'AIRLOCK_TARGET'], env);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('is not empty');
    expect(again.stderr).not.toContain('migrate-secret-9d');
    await w.close();
  }, 60_000);
});
