import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlScope } from '../../../../src/gateway/postgres/backend.js';
import { CatalogFacts, type SqlCheckOptions, checkSql } from '../../../../src/gateway/postgres/sql/check.js';
import { ANALYTICS_QUERIES, PG17_QUERIES, PSQL_DESCRIBE_QUERIES, QUERY_PARAMS } from './analytics-queries.js';
import { READ, loadCatalog } from './helpers.js';

/**
 * Proof against the real server that what the policy lets a read role run is
 * a read: every allowed statement is run inside a transaction PostgreSQL
 * itself holds READ ONLY, where any write, DDL, sequence advance or lock
 * upgrade fails with SQLSTATE 25006. The negative control shows the harness
 * would notice.
 */

const schema = `airlock_sql_${randomBytes(6).toString('hex')}`;
const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: process.env['PGUSER'] ?? 'postgres', database: 'test' });
const scope: SqlScope = { ...READ, tables: [`${schema}.*`] };
let serverVersion = 0;
/** The real database's catalog facts, as a gateway session on it would have them. */
let opts: SqlCheckOptions = { searchPath: ['pg_catalog', schema], catalog: CatalogFacts.NONE };

async function runReadOnly(sql: string, params: readonly unknown[] = []): Promise<void> {
  await client.query('BEGIN READ ONLY');
  try {
    await client.query(`SET LOCAL search_path = ${schema}`);
    await client.query(sql, [...params]);
  } finally {
    await client.query('ROLLBACK');
  }
}

async function allowedThenRun(sql: string): Promise<void> {
  const d = await checkSql(sql, scope, opts);
  if (!d.allowed) expect.fail(`policy refused a read: ${d.reason}\n  sql: ${sql}`);
  await runReadOnly(sql, QUERY_PARAMS[sql]);
}

beforeAll(async () => {
  await client.connect();
  serverVersion = Number((await client.query<{ v: string }>('SHOW server_version_num')).rows[0]?.v ?? 0);
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`SET search_path = ${schema}`);
  await client.query(`
    CREATE TABLE customers (id int PRIMARY KEY, name text, email text, created_at timestamptz DEFAULT now(), meta jsonb);
    CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers (id), status text,
                         total numeric, created_at timestamptz DEFAULT now(), tags text[]);
    CREATE TABLE order_items (order_id int REFERENCES orders (id), sku text, qty int, price numeric);
    INSERT INTO customers VALUES (1, 'Ada Smith', 'ada@example.com', now() - interval '3 days', '{"plan": "pro", "seats": [1, 2]}'),
                                 (2, 'Bob', 'bob@example.org', now(), '{"plan": "free"}');
    INSERT INTO orders (customer_id, status, total, tags) VALUES (1, 'paid', 120.5, '{a,b}'), (1, 'open', 10, '{}'), (2, 'paid', 99, NULL);
    INSERT INTO order_items VALUES (1, 'x', 2, 10), (2, 'y', 1, 10);
    ANALYZE customers; ANALYZE orders; ANALYZE order_items;
  `);
  await client.query('RESET search_path');
  opts = { searchPath: ['pg_catalog', schema], catalog: await loadCatalog(client) };
});

afterAll(async () => {
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

describe('statements the policy allows a read role really are reads on PostgreSQL', () => {
  it.each(ANALYTICS_QUERIES)('%s', async (sql) => {
    await allowedThenRun(sql);
  });

  it('the PostgreSQL 17 SQL/JSON queries too, where the server has them', async () => {
    for (const sql of PG17_QUERIES) {
      if (serverVersion >= 170000) await allowedThenRun(sql);
      else expect((await checkSql(sql, scope, opts)).allowed).toBe(true);
    }
  });

  it("psql's \\d catalog queries", async () => {
    for (const sql of PSQL_DESCRIBE_QUERIES) await allowedThenRun(sql);
  });

  it('session statements and cursors a read role may use', async () => {
    const session = [
      "SET application_name = 'airlock-test'",
      'SET extra_float_digits = 3',
      "SET LOCAL TimeZone = 'UTC'",
      'SHOW transaction_read_only',
      'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ',
      'EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id',
      'DISCARD PLANS',
    ];
    for (const sql of session) await allowedThenRun(sql);
    for (const sql of ['DECLARE c CURSOR FOR SELECT * FROM orders', 'FETCH 2 FROM c', 'MOVE NEXT IN c', 'CLOSE c']) {
      expect((await checkSql(sql, scope, opts)).allowed, sql).toBe(true);
    }
    await client.query('BEGIN READ ONLY');
    try {
      await client.query(`SET LOCAL search_path = ${schema}`);
      await client.query('DECLARE c CURSOR FOR SELECT * FROM orders');
      expect((await client.query('FETCH 2 FROM c')).rowCount).toBe(2);
      await client.query('MOVE NEXT IN c');
      await client.query('CLOSE c');
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it('negative control: writes the policy refuses do fail in the harness transaction', async () => {
    const writes = [
      'WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d',
      'SELECT * INTO stolen FROM orders',
      'SELECT * FROM orders FOR UPDATE',
      "SELECT nextval('orders_id_seq')",
      'UPDATE orders SET total = 0',
    ];
    for (const sql of writes) {
      expect((await checkSql(sql, scope, opts)).allowed, sql).toBe(false);
      const err: unknown = await runReadOnly(sql).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, sql).toMatchObject({ code: '25006' });
    }
  });
});
