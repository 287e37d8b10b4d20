import { describe, expect, it } from 'vitest';
import type { SqlScope } from '../../../../src/gateway/postgres/backend.js';
import { onPath } from '../../../../src/gateway/postgres/sql/catalog-facts.js';
import { READ, expectAllowed, expectRefused } from './helpers.js';

/**
 * What pg_dump, JDBC and the other tools send that a read role allows, each
 * proven read-only or narrowing, and the neighbours of each that stay refused.
 */

const SCOPED: SqlScope = { ...READ, tables: ['public.*'], denyTables: ['public.payment_tokens'] };
const START = { searchPath: ['pg_catalog', 'public'] };
/** The path the gateway reads after `set_config('search_path', '', …)`. */
const CLEARED = { searchPath: ['pg_catalog'] };

describe("pg_dump's session set-up", () => {
  it.each([
    "SELECT pg_catalog.set_config('search_path', '', false);",
    "select set_config('search_path', '', true)",
    'RESET search_path',
    'SET search_path TO DEFAULT',
    "SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings WHERE name = 'restrict_nonsystem_relation_kind'",
    "SET restrict_nonsystem_relation_kind = 'view, foreign-table'",
    'SET synchronize_seqscans TO off',
    'SET lock_timeout = 0',
    'SET row_security = off',
    'LOCK TABLE public.orders IN ACCESS SHARE MODE',
    "SELECT n.oid, n.nspname, acldefault('n', n.nspowner) AS acldefault FROM pg_namespace n",
  ])('allows %s', async (sql) => {
    await expectAllowed(sql, SCOPED, START);
  });

  it.each([
    ["SELECT set_config('search_path', 'public', false)", 'function set_config()'],
    ["SELECT set_config('search_path', 'secret, public', false)", 'function set_config()'],
    ["SELECT set_config('search_path', $1, false)", 'function set_config()'],
    ["SELECT set_config('search_path', ' ', false)", 'function set_config()'],
    ["SELECT set_config('search_path', '' || 'public', false)", 'function set_config()'],
    ["SELECT set_config('search_path', '', $1)", 'function set_config()'],
    ["SELECT set_config('statement_timeout', '0', false)", 'function set_config()'],
    ["SELECT set_config('default_transaction_read_only', '', false)", 'function set_config()'],
    ["SELECT myschema.set_config('search_path', '', false)", 'function myschema.set_config()'],
    ["SELECT set_config(name, '', false) FROM pg_settings WHERE name = 'restrict_nonsystem_relation_kind'", 'function set_config()'],
    ["SELECT set_config(name, 'view', false) FROM pg_settings WHERE name = 'search_path'", 'function set_config()'],
    ["SELECT set_config(name, 'view', false) FROM pg_settings WHERE name = 'restrict_nonsystem_relation_kind' OR true", 'function set_config()'],
    ["SELECT set_config(name, 'view', false) FROM public.pg_settings WHERE name = 'restrict_nonsystem_relation_kind'", 'function set_config()'],
    ["SET restrict_nonsystem_relation_kind = ''", 'SET restrict_nonsystem_relation_kind'],
    ['RESET restrict_nonsystem_relation_kind', 'RESET restrict_nonsystem_relation_kind'],
    ['SET search_path = public', 'changing search_path'],
    ['SET statement_timeout = 0', 'SET statement_timeout'],
    ['SET idle_in_transaction_session_timeout = 0', 'SET idle_in_transaction_session_timeout'],
    ['LOCK TABLE public.orders', 'LOCK'],
    ['LOCK TABLE public.orders IN ROW SHARE MODE', 'LOCK'],
    ['LOCK TABLE public.payment_tokens IN ACCESS SHARE MODE', 'table public.payment_tokens'],
  ])('refuses %s', async (sql, what) => {
    expect(await expectRefused(sql, SCOPED, START)).toContain(`does not allow ${what}`);
  });

  it('clears search_path only when pg_catalog is searched first, so catalog names mean the catalog in every path the session can return to', async () => {
    const sql = "SELECT pg_catalog.set_config('search_path', '', false)";
    await expectAllowed(sql, SCOPED, { searchPath: ['public'] });
    await expectAllowed(sql, SCOPED, CLEARED);
    await expectRefused(sql, SCOPED, { searchPath: ['public', 'pg_catalog'] });
  });
});

describe('a cleared search_path stands for any path a ROLLBACK may bring back', () => {
  it('unqualified relations other than catalogs are refused, qualified ones and catalogs are not', async () => {
    const unscoped: SqlScope = { ...READ, role: 'readall' };
    for (const scope of [SCOPED, unscoped]) {
      expect(await expectRefused('SELECT * FROM orders', scope, CLEARED)).toContain('does not allow table orders');
      await expectAllowed('SELECT * FROM public.orders', scope, CLEARED);
      await expectAllowed('SELECT relname FROM pg_class', scope, CLEARED);
    }
  });

  it('user code in any schema counts as reachable by an unqualified name', () => {
    expect(onPath('ops', ['pg_catalog'], undefined)).toBe(true);
    expect(onPath('ops', ['pg_catalog', 'public'], undefined)).toBe(false);
  });
});

describe("JDBC's DatabaseMetaData helpers", () => {
  it('allows information_schema._pg_expandarray() written qualified, as the driver writes it', async () => {
    await expectAllowed(
      `SELECT a.attname, (information_schema._pg_expandarray(i.indkey)).n AS key_seq FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid WHERE i.indisprimary`,
      SCOPED,
      START,
    );
    await expectAllowed('SELECT information_schema._pg_index_position(1, 1::int2)', SCOPED, START);
  });

  it('refuses the same name unqualified or in another schema, where user code could stand behind it', async () => {
    await expectRefused("SELECT _pg_expandarray('{1}'::int[])", SCOPED, START);
    await expectRefused("SELECT public._pg_expandarray('{1}'::int[])", SCOPED, START);
  });
});
