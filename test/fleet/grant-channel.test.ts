import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { Grant } from '../../src/core/model.js';
import { startGrantChannel } from '../../src/fleet/grant-channel.js';
import { endedMessage, GRANT_CHANNEL, noticesFor, parseNotice, type GrantNotice } from '../../src/fleet/grant-notice.js';

/** The grant channel against the local PostgreSQL: NOTIFY only on commit, and LISTEN again after the connection drops. */
const ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const database = `airlock_fleet_channel_${randomBytes(4).toString('hex')}`;
const url = `postgres://postgres@127.0.0.1:5432/${database}`;

async function admin<T>(fn: (c: pg.Client) => Promise<T>, db = ADMIN.database): Promise<T> {
  const c = new pg.Client({ ...ADMIN, database: db });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const grant: Grant = {
  id: 'grt_1', requestId: 'req_1', user: 'alice', resource: 'orders-db', role: 'read', policy: 'p', reason: null, ticket: null, approvedBy: [],
  startsAt: new Date('2026-03-01T12:00:00Z'), expiresAt: new Date('2026-03-01T13:00:00Z'), state: 'revoked',
  endedAt: new Date('2026-03-01T12:10:00Z'), endedBy: 'root', endReason: 'done',
};

/** Resolves with the next `n` notices, or rejects after `ms`. */
function collector() {
  const got: GrantNotice[] = [];
  let wake: (() => void) | null = null;
  return {
    push(n: GrantNotice) {
      got.push(n);
      wake?.();
    },
    async take(n: number, ms = 5000): Promise<GrantNotice[]> {
      const deadline = Date.now() + ms;
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${got.length} of ${n} notices arrived`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100).unref();
        });
      }
      return got.splice(0, n);
    },
    get size() {
      return got.length;
    },
  };
}

beforeAll(async () => {
  await admin((c) => c.query(`create database ${database}`));
});

afterAll(async () => {
  await admin((c) => c.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1`, [database]));
  await admin((c) => c.query(`drop database if exists ${database}`));
});

describe('grant notices', () => {
  it('round-trip through their text, and refuse anything else', () => {
    const [n] = noticesFor([{ type: 'grant.ended', grant, reason: 'revoked', by: 'root', why: 'done' }], 'node-a');
    expect(parseNotice(JSON.stringify(n))).toEqual(n);
    expect(endedMessage(n as Extract<GrantNotice, { kind: 'ended' }>)).toBe('airlock: access to orders-db was revoked by root: done');
    expect(parseNotice('{"kind":"ended","grant":1}')).toBeNull();
    expect(parseNotice('not json')).toBeNull();
    expect(noticesFor([{ type: 'grant.activated', grant }, { type: 'request.created', request: {} as never, reviewers: [] }], 'a')).toEqual([{ kind: 'deadline', node: 'a' }]);
  });
});

describe('the grant channel', () => {
  it('hears notices sent by committed transactions only, and listens again after its connection is killed', async () => {
    const heard = collector();
    let listened = 0;
    const channel = startGrantChannel({ url, clock: systemClock, retryMs: 50, onNotice: (n) => heard.push(n), onListening: () => listened++, onError: () => undefined });
    try {
      const sender = new pg.Client({ ...ADMIN, database });
      await sender.connect();
      const send = (n: GrantNotice) => sender.query('select pg_notify($1, $2)', [GRANT_CHANNEL, JSON.stringify(n)]);
      for (let i = 0; i < 100 && !channel.listening(); i++) await new Promise((r) => setTimeout(r, 20));
      expect(channel.listening()).toBe(true);

      await sender.query('begin');
      await send({ kind: 'extended', grant: 'grt_rolled_back', expiresAt: new Date().toISOString(), node: 'x' });
      await sender.query('rollback');
      await sender.query('begin');
      await send({ kind: 'extended', grant: 'grt_committed', expiresAt: new Date().toISOString(), node: 'x' });
      await sender.query('commit');
      const [first] = await heard.take(1);
      expect(first).toMatchObject({ kind: 'extended', grant: 'grt_committed' });
      expect(heard.size).toBe(0);

      // The listener's backend dies (a failover, an admin's pg_terminate_backend): the channel comes back and says so.
      const before = listened;
      await sender.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and query ilike 'LISTEN%'`, [database]);
      for (let i = 0; i < 200 && listened === before; i++) await new Promise((r) => setTimeout(r, 20));
      expect(listened).toBe(before + 1);
      await send({ kind: 'deadline', node: 'y' });
      expect(await heard.take(1)).toEqual([{ kind: 'deadline', node: 'y' }]);
      await sender.end();
    } finally {
      await channel.stop();
    }
  });
});
