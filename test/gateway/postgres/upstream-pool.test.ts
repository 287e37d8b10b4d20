import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { run, startHarness, type Harness } from './harness.js';
import { admin } from './pg-fixture.js';

/**
 * Warm upstream connections: a session that ends cleanly gives its upstream
 * connection back, reset; the next session of the same role credential
 * starts on it without signing in upstream. Nothing of the first session
 * may reach the second, and the role's pinned settings must be back.
 */

async function until(fn: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('warm upstream connections carry nothing from one session to the next', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  }, 60_000);
  afterAll(async () => h?.close());

  const connect = async (who: { user: string; secret: string }) => {
    const c = new pg.Client({ host: '127.0.0.1', port: h.port, user: who.user, password: who.secret, database: h.resource, application_name: 'pooltest' });
    await c.connect();
    return c;
  };
  const one = async (c: pg.Client, sql: string) => Object.values((await c.query(sql)).rows[0] as Record<string, unknown>)[0];
  const pool = () => h.gateway.upstreamPool;

  it('resets temp tables, prepared statements, SETs, advisory locks, LISTEN and the user, and restores the role\'s settings', async () => {
    const limits = { statementTimeoutSeconds: 30, idleInTransactionTimeoutSeconds: 10 };
    const a = await connect(h.grant(['read', 'write'], { limits }));
    const pid = await one(a, 'select pg_backend_pid()');
    const key = 4242_0000 + Math.floor(Math.random() * 10_000);
    await a.query('create temp table leftover (x int)');
    await a.query('insert into leftover values (1)');
    await a.query('prepare leftover_stmt as select 1');
    await a.query("set statement_timeout = '0'");
    await a.query("set idle_in_transaction_session_timeout = '0'");
    await a.query("set work_mem = '77MB'");
    await a.query("set timezone = 'Asia/Kathmandu'");
    await a.query("set application_name = 'from-a'");
    await a.query(`select pg_advisory_lock(${key})`);
    await a.query('listen leftover_channel');
    await a.query('declare held cursor with hold for select 1');
    const before = pool().size();
    await a.end();
    await until(() => pool().size() > before, 'the connection back in the pool');

    const bWho = h.grant(['read', 'write'], { limits });
    const reusedBefore = pool().reused;
    const b = await connect(bWho);
    expect(pool().reused).toBe(reusedBefore + 1);
    expect(await one(b, 'select pg_backend_pid()')).toBe(pid);
    expect(await one(b, "select to_regclass('pg_temp.leftover')::text")).toBeNull();
    expect(await one(b, 'select count(*)::int from pg_prepared_statements')).toBe(0);
    expect(await one(b, 'select count(*)::int from pg_cursors')).toBe(0);
    expect(await one(b, 'show statement_timeout')).toBe('30s');
    expect(await one(b, 'show idle_in_transaction_session_timeout')).toBe('10s');
    expect(await one(b, 'show work_mem')).not.toBe('77MB');
    expect(await one(b, 'show timezone')).not.toBe('Asia/Kathmandu');
    expect(await one(b, 'show application_name')).toBe(`airlock:${bWho.user}:pooltest`);
    expect(await one(b, "select count(*)::int from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()")).toBe(0);
    expect(await one(b, 'select count(*)::int from pg_listening_channels()')).toBe(0);
    // And the lock really is free for anyone.
    expect(await admin(async (c) => (await c.query(`select pg_try_advisory_lock(${key}) as ok`)).rows[0].ok)).toBe(true);
    await b.end();
  });

  it('brings back a read role\'s read-only default after the session turned it off', async () => {
    const a = await connect(h.grant(['read']));
    const pid = await one(a, 'select pg_backend_pid()');
    await a.query('set default_transaction_read_only = off');
    await a.query('set session characteristics as transaction read write');
    const before = pool().size();
    await a.end();
    await until(() => pool().size() > before, 'the connection back in the pool');
    const b = await connect(h.grant(['read']));
    expect(await one(b, 'select pg_backend_pid()')).toBe(pid);
    expect(await one(b, 'show default_transaction_read_only')).toBe('on');
    expect(await one(b, 'show statement_timeout')).toBe('5min');
    await b.end();
  });

  it('never reuses a connection whose session ended inside a transaction or was cut', async () => {
    const limits = { statementTimeoutSeconds: 31 };
    // Ended inside a transaction: closed, not kept.
    const a = await connect(h.grant(['read', 'write'], { limits }));
    const inTx = await one(a, 'select pg_backend_pid()');
    await a.query('begin');
    await a.query('select 1');
    await a.end();
    // Cut by a revoke: terminated, not kept.
    const cutWho = h.grant(['read', 'write'], { limits });
    const cut = await connect(cutWho);
    cut.on('error', () => undefined);
    const cutPid = await one(cut, 'select pg_backend_pid()');
    h.backend.end(cutWho.grantId, 'revoked', 'airlock: access was revoked by root: test');
    await until(async () => !(await admin(async (c) => (await c.query('select 1 from pg_stat_activity where pid = $1 or pid = $2', [inTx, cutPid])).rowCount)), 'both backends gone');
    // Neither is handed to the next session.
    const b = await connect(h.grant(['read', 'write'], { limits }));
    const other = await one(b, 'select pg_backend_pid()');
    expect([inTx, cutPid]).not.toContain(other);
    await b.end();
  });

  it('serves pgbench in prepared mode on warm connections, round after round', async () => {
    const who = h.grant(['read']);
    const dir = mkdtempSync(join(tmpdir(), 'airlock-pool-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const script = join(dir, 'one.sql');
    writeFileSync(script, 'select 1;\n');
    for (let round = 0; round < 3; round++) {
      const r = await run('pgbench', ['-n', '-M', 'prepared', '-c', '4', '-t', '20', '-f', script, '-h', '127.0.0.1', '-p', String(h.port), '-U', who.user, h.resource], {
        PGPASSWORD: who.secret,
        PGSSLMODE: 'disable',
      });
      expect(r.stderr + r.stdout, `round ${round}`).toContain('number of transactions actually processed: 80/80');
      await until(() => pool().size() >= 1, 'connections back in the pool');
    }
    expect(pool().reused).toBeGreaterThanOrEqual(4);
  });
});
