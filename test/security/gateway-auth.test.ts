import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as msg from '../../src/gateway/postgres/protocol/messages.js';
import { ScramClient } from '../../src/gateway/postgres/scram-client.js';
import { RawClient, errorOf } from '../gateway/postgres/raw-client.js';
import { startAirlock, type Airlock, type Conn } from './support.js';

/**
 * Who may open a gateway session: only the grant's user, with the grant's
 * current secret, on the grant's resource, while the grant is active. And
 * once a grant ends, every session it holds ends with it, whatever state the
 * session is in.
 */

let air: Airlock;

beforeAll(async () => {
  air = await startAirlock();
});

afterAll(async () => {
  await air?.stop();
});

async function signInFails(conn: Conn, over: Partial<Conn> = {}): Promise<string> {
  const c = new pg.Client({ ...conn, ...over });
  c.on('error', () => undefined);
  try {
    await c.connect();
  } catch (err) {
    return (err as Error).message;
  }
  await c.end();
  throw new Error('signed in');
}

const AUTH_FAILED = /password authentication failed/;

describe('gateway sign-in', () => {
  it('refuses another user\'s secret, a secret on another resource, an empty and a wrong password, in the same words', async () => {
    const alice = await air.grant('alice', 'read');
    await air.grant('mallory', 'read');
    expect(await signInFails(alice, { user: 'mallory' })).toMatch(AUTH_FAILED);
    expect(await signInFails(alice, { database: 'billing-db' })).toMatch(AUTH_FAILED);
    expect(await signInFails(alice, { password: '' })).toMatch(/password|SASL/);
    const wrong = await signInFails(alice, { password: `${alice.password}x` });
    const nobody = await signInFails(alice, { user: 'nobody-at-all', password: 'x' });
    expect(wrong).toMatch(AUTH_FAILED);
    // Same message shape whether or not the user exists or holds a grant.
    expect(nobody.replaceAll('nobody-at-all', 'alice')).toBe(wrong);
  });

  it('offers the same SCRAM salt and iterations for an existing and a made-up user, so the exchange does not reveal who holds access', async () => {
    const alice = await air.grant('alice', 'read');
    const serverFirst = async (user: string) => {
      const c = await RawClient.connect(alice.port);
      c.socket.write(msg.startupMessage({ user, database: alice.database }));
      const scram = new ScramClient('irrelevant');
      for (;;) {
        const f = await c.next();
        if (f.type !== 0x52) continue;
        const code = f.body.readInt32BE(0);
        if (code === 10) c.socket.write(msg.saslInitialResponse('SCRAM-SHA-256', scram.clientFirst()));
        if (code === 11) {
          c.socket.destroy();
          const attrs = new Map(f.body.subarray(4).toString().split(',').map((p) => [p[0], p.slice(2)] as const));
          return { salt: attrs.get('s')!, iterations: attrs.get('i')! };
        }
      }
    };
    const real = await serverFirst('alice');
    const fake = await serverFirst('zz-not-a-user');
    expect(fake.iterations).toBe(real.iterations);
    expect(fake.salt).not.toBe('');
    // A salt that is stable per made-up name, like a real one, so two probes cannot tell them apart.
    expect((await serverFirst('zz-not-a-user')).salt).toBe(fake.salt);
  });

  it('does not accept a replayed SCRAM client-final message', async () => {
    const alice = await air.grant('alice', 'read');
    // Capture a successful exchange's client-final bytes…
    let captured: Buffer | undefined;
    {
      const c = await RawClient.connect(alice.port);
      c.socket.write(msg.startupMessage({ user: alice.user, database: alice.database }));
      const scram = new ScramClient(alice.password);
      for (;;) {
        const f = await c.next();
        if (f.type === 0x5a) break;
        if (f.type !== 0x52) continue;
        const code = f.body.readInt32BE(0);
        if (code === 10) c.socket.write(msg.saslInitialResponse('SCRAM-SHA-256', scram.clientFirst()));
        if (code === 11) {
          captured = scram.clientFinal(f.body.subarray(4));
          c.socket.write(msg.saslResponse(captured));
        }
      }
      c.socket.destroy();
    }
    // …and replay the whole client side on a new connection, without the secret.
    const c = await RawClient.connect(alice.port);
    c.socket.write(msg.startupMessage({ user: alice.user, database: alice.database }));
    const replayFirst = new ScramClient('unknown');
    const frames = [];
    for (;;) {
      let f;
      try {
        f = await c.next();
      } catch {
        break;
      }
      frames.push(f);
      if (f.type === 0x45 || f.type === 0x5a) break;
      if (f.type !== 0x52) continue;
      const code = f.body.readInt32BE(0);
      if (code === 10) c.socket.write(msg.saslInitialResponse('SCRAM-SHA-256', replayFirst.clientFirst()));
      if (code === 11) c.socket.write(msg.saslResponse(captured!));
    }
    expect(errorOf(frames)?.message ?? '').toMatch(/password authentication failed|SCRAM|nonce/i);
    c.socket.destroy();
  });

  it('never asks for a cleartext password and rejects one sent unasked', async () => {
    const alice = await air.grant('alice', 'read');
    const c = await RawClient.connect(alice.port);
    c.socket.write(msg.startupMessage({ user: alice.user, database: alice.database }));
    const first = await c.next();
    expect(first.body.readInt32BE(0)).toBe(10); // AuthenticationSASL, never 3 (cleartext)
    c.socket.write(msg.passwordMessage(alice.password));
    const frames = await c.untilClosed();
    expect(errorOf(frames)).toBeDefined();
    expect(frames.some((f) => f.type === 0x5a)).toBe(false);
  });

  it('refuses a secret replaced by a newer one, a released grant\'s and a revoked grant\'s', async () => {
    const old = await air.grant('alice', 'readall');
    const fresh = await air.connect('alice', old.grant);
    expect(fresh.password).not.toBe(old.password);
    expect(await signInFails(old)).toMatch(AUTH_FAILED);
    expect((await air.as('alice')('release', fresh.grant)).code).toBe(0);
    expect(await signInFails(fresh)).toMatch(AUTH_FAILED);

    const m = await air.grant('mallory', 'readall');
    expect((await air.as('root')('revoke', m.grant, '--reason', 'test')).code).toBe(0);
    expect(await signInFails(m)).toMatch(AUTH_FAILED);
  });

  it('answers a GSSENC request with N (no downgrade into an unauthenticated channel)', async () => {
    const alice = await air.grant('alice', 'read');
    const socket = net.connect({ host: alice.host, port: alice.port });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const gss = Buffer.alloc(8);
    gss.writeInt32BE(8, 0);
    gss.writeInt32BE(80877104, 4);
    socket.write(gss);
    const answer = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
    expect(answer.toString()).toBe('N');
    socket.destroy();
  });
});

describe('live cut', () => {
  const gone = (c: pg.Client) => new Promise<string>((resolve) => {
    c.once('error', (e: Error) => resolve(e.message));
    c.once('end', () => resolve('end'));
  });

  it('ends an idle-in-transaction session holding an open cursor the moment its grant is revoked', async () => {
    const conn = await air.grant('mallory', 'readall');
    const c = await air.pg(conn);
    await c.query('begin');
    await c.query('declare cur cursor for select * from orders');
    await c.query('fetch 1 from cur');
    const ended = gone(c);
    expect((await air.as('root')('revoke', conn.grant, '--reason', 'cut test')).code).toBe(0);
    expect(await ended).toBeTruthy();
    const left = await air.admin("select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name like 'airlock:mallory%' and pid <> pg_backend_pid()");
    let n = left.rows[0].n as number;
    for (let i = 0; i < 200 && n > 0; i++) {
      n = (await air.admin("select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name like 'airlock:mallory%'")).rows[0].n as number;
    }
    expect(n).toBe(0);
  });

  it('ends a session in the middle of a COPY TO STDOUT stream when its grant is released', async () => {
    const conn = await air.grant('alice', 'readall');
    const c = await air.raw(conn);
    c.socket.write(msg.query('copy (select g, repeat(\'x\', 100) from generate_series(1, 5000000) g) to stdout'));
    // Wait for the stream to start.
    for (;;) {
      const f = await c.next();
      if (f.type === 0x64) break;
    }
    expect((await air.as('alice')('release', conn.grant)).code).toBe(0);
    const rest = await c.untilClosed();
    const err = errorOf(rest);
    expect(err?.message).toMatch(/airlock: .*(released|ended)/);
  });

  it('gives a reconnect under a still-active grant only the time left, never a fresh timer', async () => {
    const conn = await air.grant('mallory', 'readall', '30m');
    const grants = (await (await air.api('mallory', `/api/grants/${conn.grant}`)).json()) as { expires_at: string };
    const again = await air.connect('mallory', conn.grant);
    const after = (await (await air.api('mallory', `/api/grants/${again.grant}`)).json()) as { expires_at: string };
    expect(again.grant).toBe(conn.grant);
    expect(after.expires_at).toBe(grants.expires_at);
    const c = await air.pg(again);
    expect((await c.query('select 1 as x')).rows[0].x).toBe(1);
    await c.end();
  });
});
