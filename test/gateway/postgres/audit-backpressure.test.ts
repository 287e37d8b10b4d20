import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin } from './pg-fixture.js';
import { startHarness, type Harness } from './harness.js';

describe('audit backpressure', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
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
});
