import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { admin } from './pg-fixture.js';
import { startHarness, type Harness } from './harness.js';

describe('audit backpressure', () => {
  const clock = new ManualClock(new Date());
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ clock });
  });
  afterAll(async () => h?.close());

  it('holds a statement back, unforwarded, while the audit log is behind, and runs it once it has caught up', async () => {
    const alice = h.grant(['read']);
    const c = new pg.Client({ host: '127.0.0.1', port: h.port, user: alice.user, password: alice.secret, database: h.resource });
    await c.connect();
    try {
      const pid = (await c.query('select pg_backend_pid() as pid')).rows[0].pid as number;
      const recorded = h.backend.statements.length;

      let release!: () => void;
      h.backend.auditGate = new Promise<void>((r) => (release = r));
      const checks = h.backend.auditChecks;
      let answered = false;
      const held = c.query("select 'after the gate' as v").then((r) => {
        answered = true;
        return r.rows[0].v as string;
      });
      // The gateway has the query in hand and was told to wait.
      await h.backend.until(() => h.backend.auditChecks > checks);

      const upstream = await admin(async (a) => (await a.query('select state, query from pg_stat_activity where pid = $1', [pid])).rows[0]);
      expect(upstream).toMatchObject({ state: 'idle', query: 'select pg_backend_pid() as pid' });
      expect(h.backend.statements).toHaveLength(recorded);
      expect(answered).toBe(false);

      h.backend.auditGate = undefined;
      release();
      expect(await held).toBe('after the gate');
      expect(h.backend.statements.at(-1)).toMatchObject({ text: "select 'after the gate' as v", outcome: 'ok' });
    } finally {
      await c.end();
    }
  });

  it('closes a session held longer than 30 s with an error that says why, and the rest of the gateway goes on', async () => {
    const bob = h.grant(['read']);
    const c = new pg.Client({ host: '127.0.0.1', port: h.port, user: bob.user, password: bob.secret, database: h.resource });
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    await c.connect();
    let release!: () => void;
    h.backend.auditGate = new Promise<void>((r) => (release = r));
    try {
      const checks = h.backend.auditChecks;
      const held = c.query('select 1').then(
        () => null,
        (e: Error & { code?: string }) => e,
      );
      await h.backend.until(() => h.backend.auditChecks > checks);
      clock.advance(29_000);
      expect(h.gateway.sessions().some((s) => s.user === bob.user)).toBe(true);
      clock.advance(1_000);
      const err = await held;
      expect(err?.message).toMatch(/^airlock: the audit log has been unavailable for 30 s, so the session was closed/);
      expect(err?.code).toBe('57P01');
      await h.backend.until(() => h.backend.ended.some((e) => e.reason === 'error'));
    } finally {
      h.backend.auditGate = undefined;
      release();
      await c.end().catch(() => undefined);
    }
    // Another session, once the audit has caught up, is served as usual.
    const carol = h.grant(['read']);
    const d = new pg.Client({ host: '127.0.0.1', port: h.port, user: carol.user, password: carol.secret, database: h.resource });
    await d.connect();
    expect((await d.query('select 2 as n')).rows[0].n).toBe(2);
    await d.end();
  });
});
