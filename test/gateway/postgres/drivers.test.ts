import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAlive } from './pg-fixture.js';
import { startHarness, type Harness } from './harness.js';

describe('pg and postgres drivers through the Postgres gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  const pgClient = async (who: { user: string; secret: string }) => {
    const c = new pg.Client({ host: '127.0.0.1', port: h.port, user: who.user, password: who.secret, database: h.resource, application_name: 'orders-report' });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };

  it('runs parameterised (extended-protocol) queries with pg, named and unnamed', async () => {
    const c = await pgClient(h.grant(['read']));
    try {
      const unnamed = await c.query(`select item from ${h.db.schema}.orders where id = $1`, [7]);
      expect(unnamed.rows).toEqual([{ item: 'item 7' }]);
      for (const id of [1, 2, 3]) {
        const named = await c.query({ name: 'by-id', text: `select item from ${h.db.schema}.orders where id = $1`, values: [id] });
        expect(named.rows[0].item).toBe(`item ${id}`);
      }
    } finally {
      await c.end();
    }
    await h.backend.until(() => h.backend.statements.filter((s) => s.text.includes('where id = $1')).length === 4);
    expect(h.backend.started.at(-1)?.applicationName).toBe('orders-report');
  });

  it('refuses an extended-protocol statement and keeps the pg session usable', async () => {
    const c = await pgClient(h.grant(['read']));
    try {
      await expect(c.query(`delete from ${h.db.schema}.orders where id = $1`, [1])).rejects.toMatchObject({ code: '42501' });
      await expect(c.query({ name: 'sneaky', text: `update ${h.db.schema}.orders set item = $1`, values: ['x'] })).rejects.toMatchObject({ code: '42501' });
      const after = await c.query('select $1::int + 1 as n', [41]);
      expect(after.rows[0].n).toBe(42);
      const count = await c.query(`select count(*)::int as n from ${h.db.schema}.orders where item = 'x'`);
      expect(count.rows[0].n).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('refuses Bind/Execute of a statement name that never passed the check', async () => {
    const c = await pgClient(h.grant(['read']));
    try {
      await c.query({ name: 'ok-stmt', text: 'select 1 as one' });
      await expect(c.query({ name: 'sneaky', text: `delete from ${h.db.schema}.orders` })).rejects.toMatchObject({ code: '42501' });
      // A driver would re-send Parse; a hostile client binds the refused name directly:
      const conn = (c as unknown as { connection: { bind(o: object): void; execute(o: object): void; sync(): void } }).connection;
      const errors: string[] = [];
      const onError = (e: { code?: string }) => errors.push(e.code ?? '');
      (c as unknown as { connection: NodeJS.EventEmitter }).connection.on('errorMessage', onError);
      const ready = new Promise<void>((resolve) => (c as unknown as { connection: NodeJS.EventEmitter }).connection.once('readyForQuery', () => resolve()));
      conn.bind({ statement: 'sneaky', portal: '', values: [] });
      conn.execute({ portal: '', rows: 0 });
      conn.sync();
      await ready;
      expect(errors).toEqual(['42501']);
      (c as unknown as { connection: NodeJS.EventEmitter }).connection.off('errorMessage', onError);
    } finally {
      await c.end().catch(() => undefined);
    }
    await h.backend.until(() => h.backend.statements.some((s) => s.reason?.includes('prepared statement "sneaky" was not allowed')));
  });

  it('runs queries, pipelined queries and COPY with the postgres driver', async () => {
    const writer = h.grant(['read', 'write']);
    const sql = postgres({ host: '127.0.0.1', port: h.port, user: writer.user, pass: writer.secret, database: h.resource, max: 1, onnotice: () => undefined });
    try {
      const rows = await sql`select id, item from ${sql(h.db.schema)}.orders where id < ${4} order by id`;
      expect(rows.map((r) => r.item)).toEqual(['item 1', 'item 2', 'item 3']);
      const results = await Promise.all([1, 2, 3, 4, 5].map((n) => sql`select ${n}::int * 2 as twice`));
      expect(results.map((r) => r[0]!.twice)).toEqual([2, 4, 6, 8, 10]);
      await expect(sql`select 'forbidden'`).rejects.toMatchObject({ code: '42501' });
      const again = await sql`select 'fine' as word`;
      expect(again[0]!.word).toBe('fine');
      const chunks: Buffer[] = [];
      const readable = await sql`copy (select id from ${sql(h.db.schema)}.orders order by id limit 3) to stdout`.readable();
      for await (const chunk of readable) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('1\n2\n3\n');
    } finally {
      await sql.end();
    }
  });

  it('cancels a running query through the gateway', async () => {
    const alice = h.grant(['read']);
    const sql = postgres({ host: '127.0.0.1', port: h.port, user: alice.user, pass: alice.secret, database: h.resource, max: 1 });
    try {
      const pid = (await sql`select pg_backend_pid() as pid`)[0]!.pid;
      const sleeping = sql`select pg_sleep(30)`;
      const outcome = sleeping.then(
        () => 'finished',
        (e: { code?: string }) => e.code,
      );
      await waitForActiveQuery(pid);
      sleeping.cancel();
      expect(await outcome).toBe('57014');
      const after = await sql`select 1 as one`;
      expect(after[0]!.one).toBe(1);
      expect(await backendAlive(pid)).toBe(true);
    } finally {
      await sql.end();
    }
  });
});

/** Polls (bounded) until the upstream backend is running pg_sleep. */
async function waitForActiveQuery(pid: number): Promise<void> {
  const { admin } = await import('./pg-fixture.js');
  for (let i = 0; i < 200; i++) {
    const active = await admin(async (c) => (await c.query(`select 1 from pg_stat_activity where pid = $1 and query like '%pg_sleep%' and state = 'active'`, [pid])).rowCount === 1);
    if (active) return;
  }
  throw new Error('the query never started');
}
