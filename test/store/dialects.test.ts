import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAudit } from '../../src/audit/chain.js';
import { writeStatementBatch } from '../../src/audit/statement-batch.js';
import { AirlockError } from '../../src/core/errors.js';
import { configuredStoreUrl } from '../../src/store/configured.js';
import { redactStoreUrl } from '../../src/store/connection.js';
import { serverKey } from '../../src/store/meta.js';
import { closeOrphanedSessions, findSession, insertSession, listSessions } from '../../src/store/sessions.js';
import { openStore, type Store } from '../../src/store/store.js';
import { describeEachStore } from '../support/stores.js';

const AT = new Date('2026-03-01T12:00:00Z');

function session(id: string) {
  return {
    id, grantId: 'g1', user: 'alice', resource: 'orders-db', role: 'read', clientAddress: '127.0.0.1', applicationName: null,
    startedAt: AT, endedAt: null, endReason: null, statements: 0, refused: 0, bytesIn: 0, bytesOut: 0,
  };
}

describeEachStore('the store', (stores) => {
  const open: Store[] = [];
  afterAll(async () => {
    for (const s of open) await s.close();
  });
  async function fresh(node?: string): Promise<Store> {
    const s = await (await stores.fresh()).open({ node });
    open.push(s);
    return s;
  }

  it('migrates an empty store, and again without change', async () => {
    const t = await stores.fresh();
    const a = await t.open();
    await a.close();
    const b = await t.open();
    open.push(b);
    expect(await verifyAudit(b.db)).toEqual({ ok: true, events: 0, head: '0'.repeat(64) });
  });

  it('reads counts, seqs and ids back as numbers', async () => {
    const s = await fresh();
    await s.transaction((tx) => appendAudit(tx, AT, [{ actor: 'a', action: 'x', target: 't' }, { actor: 'a', action: 'y', target: 't' }]));
    const rows = await s.db.selectFrom('audit_events').select('seq').orderBy('seq').execute();
    expect(rows).toEqual([{ seq: 1 }, { seq: 2 }]);
    const max = await s.db.selectFrom('audit_events').select((eb) => [eb.fn.max('seq').as('m'), eb.fn.countAll<number>().as('n')]).executeTakeFirstOrThrow();
    expect(max).toEqual({ m: 2, n: 2 });
    await s.db.insertInto('outbox').values({ audit_seq: 2, sink: 'hook', event_type: 'x', payload: '{}', attempts: 0, next_attempt_at: AT.toISOString(), delivered_at: null, last_error: null }).execute();
    const ob = await s.db.selectFrom('outbox').select(['id', 'audit_seq', 'attempts']).executeTakeFirstOrThrow();
    expect(ob).toEqual({ id: 1, audit_seq: 2, attempts: 0 });
  });

  it('keeps one server key however many ask for it at once', async () => {
    const s = await fresh();
    const keys = await Promise.all(Array.from({ length: 5 }, () => serverKey(s.db, 'grant-salt')));
    expect(new Set(keys.map((k) => k.toString('hex'))).size).toBe(1);
  });

  it('keeps one chain when many transactions on several connections append at once (no fork, no gap)', async () => {
    const t = await stores.fresh();
    // SQLite handles in one thread would wait on each other's write lock synchronously (the writer thread has its own
    // thread for that reason): several handles there only on PostgreSQL, where each is a pool of connections.
    const handles = stores.dialect === 'postgres' ? [await t.open(), await t.open(), await t.open()] : [await t.open()];
    open.push(...handles);
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      const h = handles[i % handles.length]!;
      writes.push(
        i % 2 === 0
          ? h.transaction((tx) => appendAudit(tx, AT, [{ actor: `w${i}`, action: 'x', target: 't' }]))
          : h.transaction((tx) => writeStatementBatch(tx, { at: AT, entries: [{ actor: `w${i}`, action: 'statement', target: 's' }, { actor: `w${i}`, action: 'statement', target: 's' }], counts: [], marker: [`statement_batch:${i}`, 1] })),
      );
    }
    await Promise.all(writes);
    expect(await verifyAudit(handles[0]!.db)).toMatchObject({ ok: true, events: 45 });
  });

  it('records the node of a session and closes at start-up only its own node\'s (and node-less) sessions', async () => {
    const s = await fresh('node-a');
    await s.transaction(async (tx) => {
      await insertSession(tx, session('mine'), 'node-a');
      await insertSession(tx, session('theirs'), 'node-b');
      await insertSession(tx, session('old'));
    });
    expect((await s.db.selectFrom('sessions').select(['id', 'node']).orderBy('id').execute())).toEqual([
      { id: 'mine', node: 'node-a' }, { id: 'old', node: null }, { id: 'theirs', node: 'node-b' },
    ]);
    const closed = await s.transaction((tx) => closeOrphanedSessions(tx, AT, { node: s.node }));
    expect(closed.sort()).toEqual(['mine', 'old']);
    expect((await findSession(s.db, 'theirs'))?.endedAt).toBeNull();
    expect((await listSessions(s.db, { live: true })).map((x) => x.id)).toEqual(['theirs']);
    expect(await s.transaction((tx) => closeOrphanedSessions(tx, AT))).toEqual(['theirs']);
  });

  it('rolls a failed transaction back whole', async () => {
    const s = await fresh();
    await expect(
      s.transaction(async (tx) => {
        await appendAudit(tx, AT, [{ actor: 'a', action: 'x', target: 't' }]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await verifyAudit(s.db)).toMatchObject({ ok: true, events: 0 });
  });
});

describe('store URLs', () => {
  it('never shows the password of a PostgreSQL URL, also when the store cannot be reached', async () => {
    expect(redactStoreUrl('postgres://airlock:s3cr%40t@db:5432/airlock')).toBe('postgres://airlock:***@db:5432/airlock');
    const err = await openStore('postgres://airlock:hunter2@127.0.0.1:1/airlock', '/tmp').then(
      () => null,
      (e: unknown) => e as AirlockError,
    );
    expect(err).toBeInstanceOf(AirlockError);
    expect(err?.code).toBe('store_unreachable');
    expect(err?.message).toContain('postgres://airlock:***@127.0.0.1:1/airlock');
    expect(err?.message).not.toContain('hunter2');
  });

  it('refuses a store it does not know, without echoing a password', async () => {
    const err = await openStore('mysql://root:pw@host/db', '/tmp').then(
      () => null,
      (e: unknown) => e as AirlockError,
    );
    expect(err?.code).toBe('unsupported_store');
    expect(err?.message).not.toContain(':pw@');
  });

  it('takes the URL from store_env, and says which variable is missing', () => {
    const file = { store: 'sqlite:a.db', store_env: 'AIRLOCK_STORE' } as never;
    expect(configuredStoreUrl({ file }, { AIRLOCK_STORE: 'postgres://x@h/d' })).toBe('postgres://x@h/d');
    expect(() => configuredStoreUrl({ file }, {})).toThrow(/AIRLOCK_STORE is not set/);
  });
});
