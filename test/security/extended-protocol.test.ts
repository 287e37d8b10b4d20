import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as msg from '../../src/gateway/postgres/protocol/messages.js';
import { ScramClient } from '../../src/gateway/postgres/scram-client.js';
import { RawClient, errorOf, types } from '../gateway/postgres/raw-client.js';
import { startAirlock, type Airlock, type Conn } from './support.js';
import * as w from './wire.js';

/**
 * The same read-role attacker, now speaking the wire protocol by hand:
 * extended-query tricks, fast-path calls, COPY sub-protocol bytes out of
 * place and startup parameters. After every test, the orders table must be
 * untouched and the session's read-only mode intact.
 */

let air: Airlock;
let conn: Conn;

beforeAll(async () => {
  air = await startAirlock();
  conn = await air.grant('mallory', 'read');
});

afterAll(async () => {
  await air?.stop();
});

async function ordersIntact(): Promise<void> {
  const r = await air.admin("select count(*)::int as n, count(*) filter (where status = 'paid')::int as paid from orders");
  expect(r.rows[0]).toEqual({ n: 50, paid: 50 });
}

const DELETE = 'delete from orders';

describe('extended-protocol tricks under a read role', () => {
  it('refuses a DELETE parsed as the unnamed statement, and the Bind/Execute pipelined after it without a Sync', async () => {
    const c = await air.raw(conn);
    c.socket.write(Buffer.concat([w.parse('', DELETE), w.bind('', ''), w.execute(''), w.sync()]));
    const frames = await c.untilReady();
    expect(errorOf(frames)?.message).toMatch(/^airlock: .*DELETE/);
    expect(types(frames)).toBe('EZ');
    c.socket.destroy();
    await ordersIntact();
  });

  it('does not let a Bind reach an allowed statement after the same name was re-parsed with refused text', async () => {
    const c = await air.raw(conn);
    c.socket.write(Buffer.concat([w.parse('s1', 'select 1'), w.sync()]));
    await c.untilReady();
    c.socket.write(Buffer.concat([w.parse('s1', DELETE), w.sync()]));
    expect(errorOf(await c.untilReady())?.message).toMatch(/^airlock: /);
    c.socket.write(Buffer.concat([w.bind('', 's1'), w.execute(''), w.sync()]));
    expect(errorOf(await c.untilReady())?.message).toMatch(/^airlock: .*"s1"/);
    c.socket.destroy();
    await ordersIntact();
  });

  it('refuses a Bind of an unnamed statement whose last Parse was refused, even though an earlier one was allowed', async () => {
    const c = await air.raw(conn);
    c.socket.write(Buffer.concat([w.parse('', 'select 1'), w.sync()]));
    await c.untilReady();
    c.socket.write(Buffer.concat([w.parse('', DELETE), w.flush(), w.bind('', ''), w.execute(''), w.sync()]));
    const frames = await c.untilReady();
    expect(types(frames)).toBe('EZ');
    c.socket.write(Buffer.concat([w.bind('', ''), w.execute(''), w.sync()]));
    expect(errorOf(await c.untilReady())?.message).toMatch(/^airlock: /);
    c.socket.destroy();
    await ordersIntact();
  });

  it('refuses Execute of a portal that no allowed Bind created, and Bind of a closed statement', async () => {
    const c = await air.raw(conn);
    c.socket.write(Buffer.concat([w.execute('nope'), w.sync()]));
    expect(errorOf(await c.untilReady())?.message).toMatch(/^airlock: /);
    c.socket.write(Buffer.concat([w.parse('s2', 'select 1'), w.close('S', 's2'), w.bind('', 's2'), w.execute(''), w.sync()]));
    expect(errorOf(await c.untilReady())?.message).toMatch(/^airlock: /);
    c.socket.destroy();
  });

  it('answers Describe of a refused statement without running it', async () => {
    const c = await air.raw(conn);
    c.socket.write(Buffer.concat([w.parse('d1', DELETE), w.sync(), w.describe('S', 'd1'), w.sync()]));
    expect(errorOf(await c.untilReady())?.message).toMatch(/^airlock: /);
    expect(errorOf(await c.untilReady())?.sqlstate).toBe('26000');
    c.socket.destroy();
    await ordersIntact();
  });

  it('refuses the fast-path FunctionCall message (set_config by oid) and stays usable', async () => {
    const oid = (await air.admin("select 'pg_catalog.set_config(text,text,boolean)'::regprocedure::oid::int as oid")).rows[0].oid as number;
    const c = await air.raw(conn);
    c.socket.write(w.functionCall(oid, ['default_transaction_read_only', 'off', 'false']));
    expect(errorOf(await c.untilReady())?.message).toMatch(/^airlock: .*function-call/);
    c.socket.write(w.query('show default_transaction_read_only'));
    const frames = await c.untilReady();
    expect(frames.some((f) => f.type === 0x44 && f.body.includes(Buffer.from('on')))).toBe(true);
    c.socket.destroy();
  });

  it('ignores CopyData and CopyDone sent outside any COPY', async () => {
    const c = await air.raw(conn);
    c.socket.write(Buffer.concat([w.copyData('51\tpwned\n'), w.copyDone(), w.query('select count(*) from orders')]));
    const frames = await c.untilReady();
    expect(errorOf(frames)).toBeUndefined();
    c.socket.destroy();
    await ordersIntact();
  });

  it('closes a session that sends a NUL inside a Query, having run nothing', async () => {
    const c = await air.raw(conn);
    c.socket.write(w.raw('Q', Buffer.from('select 1\0; delete from orders\0')));
    const frames = await c.untilClosed();
    expect(errorOf(frames)?.sqlstate).toBe('08P01');
    await ordersIntact();
  });

  it('keeps a refused Parse in a pipeline from desynchronising the replies of later batches', async () => {
    const c = await air.raw(conn);
    c.socket.write(
      Buffer.concat([
        w.parse('', 'select 1 as a'), w.bind('', ''), w.execute(''), w.sync(),
        w.parse('', DELETE), w.bind('', ''), w.execute(''), w.sync(),
        w.parse('', "select 'third' as c"), w.bind('', ''), w.execute(''), w.sync(),
      ]),
    );
    expect(types(await c.untilReady())).toBe('12DCZ');
    expect(types(await c.untilReady())).toBe('EZ');
    const third = await c.untilReady();
    expect(types(third)).toBe('12DCZ');
    expect(third.find((f) => f.type === 0x44)!.body.includes(Buffer.from('third'))).toBe(true);
    c.socket.destroy();
    await ordersIntact();
  });
});

describe('startup parameters chosen by the client', () => {
  async function signInWith(params: Record<string, string>): Promise<RawClient> {
    const c = await RawClient.connect(conn.port);
    c.socket.write(msg.startupMessage({ user: conn.user, database: conn.database, ...params }));
    const scram = new ScramClient(conn.password);
    for (;;) {
      const f = await c.next();
      if (f.type === 0x45) throw new Error(msg.parseErrorFields(f.body).message);
      if (f.type === 0x5a) return c;
      if (f.type !== 0x52) continue;
      const code = f.body.readInt32BE(0);
      if (code === 10) c.socket.write(msg.saslInitialResponse('SCRAM-SHA-256', scram.clientFirst()));
      if (code === 11) c.socket.write(msg.saslResponse(scram.clientFinal(f.body.subarray(4))));
    }
  }

  const show = async (c: RawClient, what: string): Promise<string> => {
    c.socket.write(w.query(`show ${what}`));
    const row = (await c.untilReady()).find((f) => f.type === 0x44)!;
    return row.body.toString('utf8', 6, 6 + row.body.readInt32BE(2));
  };

  it('does not pass `options=-c …` through to the upstream', async () => {
    const c = await signInWith({ options: '-c default_transaction_read_only=off -c search_path=secret -c standard_conforming_strings=off' });
    expect(await show(c, 'default_transaction_read_only')).toBe('on');
    expect(await show(c, 'standard_conforming_strings')).toBe('on');
    expect(await show(c, 'search_path')).not.toContain('secret');
    c.socket.destroy();
  });

  it('does not open a replication connection for replication=database', async () => {
    const c = await signInWith({ replication: 'database' });
    c.socket.write(w.query('IDENTIFY_SYSTEM'));
    expect(errorOf(await c.untilReady())?.message).toMatch(/^airlock: /);
    c.socket.destroy();
  });

  it('keeps a client-chosen application_name from impersonating another user upstream', async () => {
    const c = await signInWith({ application_name: 'x\nairlock:root' });
    const seen = await air.admin("select application_name from pg_stat_activity where application_name like 'airlock:mallory%'");
    expect(seen.rows.length).toBeGreaterThan(0);
    for (const r of seen.rows as Array<{ application_name: string }>) expect(r.application_name.startsWith('airlock:mallory')).toBe(true);
    c.socket.destroy();
  });
});

describe('cancel requests', () => {
  it('ignores CancelRequests with guessed keys: the victim\'s query runs to the end', async () => {
    const victim = await air.pg(await air.grant('alice', 'read'));
    const running = victim.query('select pg_sleep(3) as slept').then(
      () => 'finished',
      (e: Error) => e.message,
    );
    const active = async () => (await air.admin("select 1 from pg_stat_activity where query like '%pg_sleep(3)%' and state = 'active' and pid <> pg_backend_pid()")).rowCount === 1;
    let seen = false;
    for (let i = 0; i < 200 && !seen; i++) seen = await active();
    expect(seen).toBe(true);
    for (let i = 0; i < 50; i++) {
      await new Promise<void>((resolve) => {
        const s = net.connect({ host: conn.host, port: conn.port }, () => s.end(msg.cancelRequest(i + 1, 12345 + i)));
        s.on('close', () => resolve());
        s.on('error', () => resolve());
      });
    }
    expect(await running).toBe('finished');
    await victim.end();
  });
});

describe('a pg driver sending parameters', () => {
  it('refuses set_config even when every argument is a bind parameter', async () => {
    const c = new pg.Client({ ...conn });
    await c.connect();
    await expect(c.query('select set_config($1, $2, false)', ['default_transaction_read_only', 'off'])).rejects.toThrow(/^airlock: /);
    expect((await c.query('show default_transaction_read_only')).rows[0].default_transaction_read_only).toBe('on');
    await c.end();
  });
});
