import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as msg from '../../../src/gateway/postgres/protocol/messages.js';
import { ADMIN, admin } from './pg-fixture.js';
import { startHarness, type Harness } from './harness.js';
import { RawClient } from './raw-client.js';

/** Statements forwarded just before a session ends may still run upstream: their outcome must reach the audit, before the session's end. */
describe('statements in flight when a session ends', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => h?.close());

  const rows = () => admin(async (c) => (await c.query(`select id from ${h.db.schema}.orders where id > 1000 order by id`)).rows.map((r) => r.id as number));

  it('a write sent together with Terminate is recorded, and counted in the session end', async () => {
    const alice = h.grant(['read', 'write']);
    const c = await RawClient.signIn(h.port, alice.user, h.resource, alice.secret);
    c.socket.write(Buffer.concat([msg.query(`insert into ${h.db.schema}.orders values (1042, 'late')`), msg.TERMINATE]));
    c.socket.end();
    await h.backend.until(() => h.backend.ended.length === 1);

    expect(await rows()).toEqual([1042]);
    const recorded = h.backend.statements.filter((s) => s.text.includes('1042'));
    expect(recorded).toEqual([expect.objectContaining({ outcome: 'ok', commandTag: 'INSERT 0 1' })]);
    expect(h.backend.ended[0]).toMatchObject({ reason: 'client', statements: 1 });
  });

  it('a write waiting on a lock when the grant is revoked: whatever it did upstream is recorded before the session ends', async () => {
    const alice = h.grant(['read', 'write']);
    const c = await RawClient.signIn(h.port, alice.user, h.resource, alice.secret);
    const locker = new pg.Client(ADMIN);
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query(`lock table ${h.db.schema}.orders in exclusive mode`);
      c.socket.write(msg.query(`insert into ${h.db.schema}.orders values (1009, 'raced')`));
      for (let i = 0; ; i++) {
        const waiting = await admin(async (a) => (await a.query(`select 1 from pg_stat_activity where query like 'insert into ${h.db.schema}.orders%' and wait_event_type = 'Lock'`)).rowCount);
        if (waiting) break;
        if (i > 500) throw new Error('the insert never started waiting on the lock');
      }
      // The lock goes away as the cut lands: the insert may commit before the cancel reaches it, or be cancelled.
      h.backend.end(alice.grantId, 'revoked', 'airlock: access was revoked');
      await locker.query('commit');
    } finally {
      await locker.end();
    }
    await h.backend.until(() => h.backend.ended.length === 1);

    const ran = (await rows()).includes(1009);
    const recorded = h.backend.statements.filter((s) => s.text.includes('1009'));
    expect(recorded).toHaveLength(1);
    // The record says what happened upstream: ok when the row is there, an error when it is not.
    expect(recorded[0]!.outcome).toBe(ran ? 'ok' : 'error');
    expect(h.backend.ended[0]).toMatchObject({ reason: 'revoked', statements: 1 });
  });
});
