import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as msg from '../../../src/gateway/postgres/protocol/messages.js';
import { admin } from './pg-fixture.js';
import { startHarness, type Harness } from './harness.js';
import { RawClient, errorOf } from './raw-client.js';

/** Polls the upstream (bounded) until `fn` holds. */
async function upstreamUntil(fn: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const backendsOf = (user: string) =>
  admin(async (c) => (await c.query(`select pid, state, query from pg_stat_activity where application_name like $1`, [`airlock:${user}%`])).rows as Array<{ pid: number; state: string; query: string }>);

describe('a hostile session cannot hurt production or the gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ signingIn: { total: 50, perAddress: 4 } });
  });
  afterAll(async () => h?.close());

  it('a cut leaves nothing of the session running upstream, not even a query pipelined behind the cancelled one', async () => {
    const alice = h.grant(['read']);
    const c = await RawClient.signIn(h.port, alice.user, h.resource, alice.secret);
    c.socket.on('error', () => undefined);
    // Two Query messages in one write: the upstream has the second one waiting when the first is cancelled.
    c.socket.write(Buffer.concat([msg.query('select pg_sleep(2)'), msg.query('select pg_sleep(90)')]));
    await upstreamUntil(async () => (await backendsOf(alice.user)).some((b) => b.state === 'active' && b.query.includes('pg_sleep(2)')), 'the first query running');
    h.backend.end(alice.grantId, 'revoked', 'airlock: access was revoked by root: test');
    await upstreamUntil(async () => (await backendsOf(alice.user)).filter((b) => !b.query.includes('pg_terminate_backend')).length === 0, 'the upstream backend gone', 5_000);
    c.socket.destroy();
  });

  it('pins statement_timeout and idle_in_transaction_session_timeout upstream: safe defaults for read roles, the role\'s own when set', async () => {
    const show = async (who: { user: string; secret: string }) => {
      const c = new pg.Client({ host: '127.0.0.1', port: h.port, user: who.user, password: who.secret, database: h.resource });
      await c.connect();
      try {
        const st = (await c.query('show statement_timeout')).rows[0].statement_timeout as string;
        const idle = (await c.query('show idle_in_transaction_session_timeout')).rows[0].idle_in_transaction_session_timeout as string;
        // What pg_dump sends on connect: answered by the gateway, the limits stay.
        await c.query('SET statement_timeout = 0');
        await c.query("set idle_in_transaction_session_timeout to '0';");
        expect((await c.query('show statement_timeout')).rows[0].statement_timeout).toBe(st);
        expect((await c.query('show idle_in_transaction_session_timeout')).rows[0].idle_in_transaction_session_timeout).toBe(idle);
        return [st, idle];
      } finally {
        await c.end();
      }
    };
    expect(await show(h.grant(['read']))).toEqual(['5min', '1min']);
    expect(await show(h.grant(['read'], { limits: { statementTimeoutSeconds: 30, idleInTransactionTimeoutSeconds: 10 } }))).toEqual(['30s', '10s']);
    // Roles that can write choose their own (the server's default here); that a session cannot SET them away is the SQL policy's (test/security).
    expect(await show(h.grant(['read', 'write']))).toEqual(['0', '0']);
  });

  it('caps connections that never sign in, per address, and keeps signed-in sessions working at the cap', async () => {
    const alice = h.grant(['read']);
    const live = new pg.Client({ host: '127.0.0.1', port: h.port, user: alice.user, password: alice.secret, database: h.resource });
    await live.connect();
    const idle: net.Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const s = net.connect({ host: '127.0.0.1', port: h.port });
      s.on('error', () => undefined);
      await new Promise((r) => s.once('connect', r));
      idle.push(s);
    }
    const refused = await RawClient.connect(h.port);
    const frames = await refused.untilClosed();
    expect(errorOf(frames)).toMatchObject({ sqlstate: '53300', message: expect.stringContaining('too many connections are waiting to sign in from this address') });
    expect((await live.query('select 1 as one')).rows[0].one).toBe(1);
    for (const s of idle) s.destroy();
    // Once they are gone, signing in works again.
    await upstreamUntil(async () => {
      const c = new pg.Client({ host: '127.0.0.1', port: h.port, user: alice.user, password: alice.secret, database: h.resource });
      return c.connect().then(
        () => c.end().then(() => true),
        () => false,
      );
    }, 'a sign-in after the idle sockets left');
    await live.end();
  });
});
