import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { admin, backendAlive } from './pg-fixture.js';
import { psql, startHarness, type Harness } from './harness.js';

/** Polls (bounded) until the upstream backend `pid` is running a query matching `like`. */
async function waitForActive(pid: number, like: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await admin(async (c) => (await c.query(`select 1 from pg_stat_activity where pid = $1 and state = 'active' and query like $2`, [pid, like])).rowCount === 1);
    if (ok) return;
  }
  throw new Error('the upstream never started the query');
}

async function waitForGone(pid: number): Promise<void> {
  for (let i = 0; i < 300; i++) if (!(await backendAlive(pid))) return;
  throw new Error(`upstream backend ${pid} is still there`);
}

describe('a grant ending cuts live sessions', () => {
  const clock = new ManualClock(new Date());
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ clock });
  });
  afterAll(async () => h?.close());

  it('a revoked grant cuts a pg session mid-query, and the upstream backend goes away', async () => {
    const alice = h.grant(['read']);
    const c = new pg.Client({ host: '127.0.0.1', port: h.port, user: alice.user, password: alice.secret, database: h.resource });
    const clientErrors: Error[] = [];
    c.on('error', (e) => clientErrors.push(e));
    await c.connect();
    const pid = (await c.query('select pg_backend_pid() as pid')).rows[0].pid as number;
    // pg_sleep(60) outlasts the test's timeout: only the cut can answer it in time (how fast is the bench's job).
    const sleeping = c.query('select pg_sleep(60)').then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    await waitForActive(pid, '%pg_sleep%');
    h.backend.end(alice.grantId, 'revoked', 'airlock: access to orders-db was revoked by bob: incident over');
    const err = await sleeping;
    expect(err?.message).toBe('airlock: access to orders-db was revoked by bob: incident over');
    expect(err?.code).toBe('57P01');
    await waitForGone(pid);
    await h.backend.until(() => h.backend.ended.some((e) => e.reason === 'revoked'));
    expect(h.backend.ended.find((e) => e.reason === 'revoked')).toMatchObject({ detail: 'airlock: access to orders-db was revoked by bob: incident over' });
    await c.end().catch(() => undefined);
  });

  it('a revoked grant cuts a psql session, showing the reason', async () => {
    const alice = h.grant(['read']);
    const running = psql(h, alice, ['-c', 'select pg_sleep(30)']);
    await h.backend.until(() => h.gateway.sessions().some((s) => s.user === alice.user));
    const pid = await admin(async (c) => {
      for (let i = 0; i < 300; i++) {
        const r = await c.query(`select pid from pg_stat_activity where application_name = $1 and state = 'active'`, [`airlock:${alice.user}:psql`]);
        if (r.rowCount) return r.rows[0].pid as number;
      }
      throw new Error('no upstream backend');
    });
    h.backend.end(alice.grantId, 'revoked', 'airlock: access to orders-db was revoked by bob: done');
    const r = await running;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('FATAL:  airlock: access to orders-db was revoked by bob: done');
    await waitForGone(pid);
  });

  it('the grant expiry cuts a psql session mid-COPY at the time the grant ends, with no event needed', async () => {
    const alice = h.grant(['read'], { expiresAt: new Date(clock.now().getTime() + 60_000) });
    const copying = psql(h, alice, ['-o', '/dev/null', '-c', "copy (select g, repeat('x', 100) from generate_series(1, 3000000) g) to stdout"]);
    await h.backend.until(() => h.gateway.sessions().some((s) => s.user === alice.user && s.bytesOut > 1_000_000));
    const pid = await admin(async (c) => (await c.query(`select pid from pg_stat_activity where application_name = $1`, [`airlock:${alice.user}:psql`])).rows[0].pid as number);
    clock.advance(59_000);
    expect(h.gateway.sessions().some((s) => s.user === alice.user)).toBe(true);
    clock.advance(1_000);
    // A FATAL on a COPY still streaming: the cut came mid-COPY (a finished COPY exits without one).
    const r = await copying;
    expect(r.stderr).toMatch(/FATAL: {2}airlock: access to orders-db-\w+ expired at \d\d:\d\d:\d\dZ/);
    await waitForGone(pid);
    await h.backend.until(() => h.backend.ended.some((e) => e.reason === 'expired'));
  });

  it('a cut only touches sessions of that grant', async () => {
    const alice = h.grant(['read']);
    const bob = h.grant(['read']);
    const a = new pg.Client({ host: '127.0.0.1', port: h.port, user: alice.user, password: alice.secret, database: h.resource });
    const b = new pg.Client({ host: '127.0.0.1', port: h.port, user: bob.user, password: bob.secret, database: h.resource });
    a.on('error', () => undefined);
    await a.connect();
    await b.connect();
    const aEnded = new Promise<void>((resolve) => a.on('end', () => resolve()));
    h.backend.end(alice.grantId, 'expired', 'airlock: access to orders-db expired at 14:32:05Z');
    await aEnded;
    expect((await b.query('select 1 as one')).rows[0].one).toBe(1);
    await b.end();
  });

  it('refuses a new connection under an ended grant', async () => {
    const alice = h.grant(['read']);
    h.backend.end(alice.grantId, 'revoked', 'airlock: revoked');
    const r = await psql(h, alice, ['-c', 'select 1']);
    expect(r.stderr).toContain('password authentication failed');
  });

  it('keeps the raw socket API honest: the cut is a FATAL ErrorResponse then close', async () => {
    // Covered through real clients above; this checks nothing else is written after it.
    const alice = h.grant(['read']);
    const c = new pg.Client({ host: '127.0.0.1', port: h.port, user: alice.user, password: alice.secret, database: h.resource });
    c.on('error', () => undefined);
    await c.connect();
    const stream = (c as unknown as { connection: { stream: net.Socket } }).connection.stream;
    const bytes: Buffer[] = [];
    stream.prependListener('data', (d: Buffer) => bytes.push(d));
    const closed = new Promise<void>((resolve) => stream.on('close', () => resolve()));
    h.backend.end(alice.grantId, 'released', 'airlock: access to orders-db was released');
    await closed;
    const all = Buffer.concat(bytes);
    expect(String.fromCharCode(all[0]!)).toBe('E');
    expect(all.readInt32BE(1) + 1).toBe(all.length);
    expect(all.toString()).toContain('57P01');
  });
});
