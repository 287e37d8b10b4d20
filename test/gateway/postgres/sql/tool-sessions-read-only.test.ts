import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlScope } from '../../../../src/gateway/postgres/backend.js';
import { CatalogFacts, checkSql } from '../../../../src/gateway/postgres/sql/check.js';
import { READ } from './helpers.js';

/**
 * Proof against the real server that what tool-sessions.test.ts allows is a
 * read: each statement passes the policy and then runs inside a transaction
 * PostgreSQL itself holds READ ONLY, where a write or a sequence advance
 * fails with SQLSTATE 25006. LOCK is allowed there in any mode, so the
 * lock pg_dump takes is compared with the one a SELECT takes.
 */

const schema = `airlock_tools_${randomBytes(6).toString('hex')}`;
const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: process.env['PGUSER'] ?? 'postgres', database: 'test' });
const scope: SqlScope = { ...READ, tables: [`${schema}.*`] };
const opts = { searchPath: ['pg_catalog', schema], catalog: CatalogFacts.NONE };

beforeAll(async () => {
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.orders (id int PRIMARY KEY)`);
});

afterAll(async () => {
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

const STATEMENTS = [
  "SELECT pg_catalog.set_config('search_path', '', false)",
  "SELECT set_config('search_path', '', true)",
  'RESET search_path',
  "SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings WHERE name = 'restrict_nonsystem_relation_kind'",
  'SET synchronize_seqscans TO off',
  'SET lock_timeout = 0',
  'SET row_security = off',
  `LOCK TABLE ${schema}.orders IN ACCESS SHARE MODE`,
  "SELECT acldefault('r', 10::oid)",
  'SELECT (information_schema._pg_expandarray(i.indkey)).n FROM pg_catalog.pg_index i LIMIT 5',
];

describe('what a read role allows pg_dump and JDBC is a read on PostgreSQL', () => {
  it.each(STATEMENTS)('%s', async (sql) => {
    const d = await checkSql(sql, scope, opts);
    if (!d.allowed) expect.fail(`policy refused: ${d.reason}`);
    await client.query('BEGIN READ ONLY');
    try {
      await client.query(sql);
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it('the harness would notice a write', async () => {
    await client.query('BEGIN READ ONLY');
    try {
      await expect(client.query(`CREATE TEMP TABLE t_${schema} (x int)`)).rejects.toMatchObject({ code: '25006' });
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it('LOCK … IN ACCESS SHARE MODE takes the lock a SELECT takes, and no other (PostgreSQL allows any LOCK in a read-only transaction)', async () => {
    const held = async (sql: string) => {
      await client.query('BEGIN');
      try {
        await client.query(sql);
        const r = await client.query<{ mode: string }>(
          `SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = '${schema}.orders'::regclass ORDER BY mode`,
        );
        return r.rows.map((row) => row.mode);
      } finally {
        await client.query('ROLLBACK');
      }
    };
    expect(await held(`LOCK TABLE ${schema}.orders IN ACCESS SHARE MODE`)).toEqual(await held(`SELECT * FROM ${schema}.orders`));
    expect(await held(`LOCK TABLE ${schema}.orders IN ACCESS SHARE MODE`)).toEqual(['AccessShareLock']);
  });
});
