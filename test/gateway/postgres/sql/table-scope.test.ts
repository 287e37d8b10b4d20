import { describe, expect, it } from 'vitest';
import type { SqlScope } from '../../../../src/gateway/postgres/backend.js';
import { ADMIN, DDL, READ, WRITE, expectAllowed, expectRefused, notAllowed } from './helpers.js';

const SUPPORT: SqlScope = { ...READ, role: 'support', tables: ['public.*', 'billing.invoices'], denyTables: ['public.payment_tokens'] };
const DENY_ONLY: SqlScope = { ...READ, role: 'read-most', denyTables: ['*.payment_tokens', 'secret.*'] };
const path = (...searchPath: string[]) => ({ searchPath });
const PUBLIC = path('public');

describe('a role cannot reach a table outside its table patterns', () => {
  it('refuses a denied table wherever the statement names it', async () => {
    const reason = notAllowed('table public.payment_tokens', SUPPORT);
    for (const sql of [
      'SELECT * FROM payment_tokens',
      'SELECT * FROM public.payment_tokens',
      'TABLE payment_tokens',
      'SELECT * FROM orders o JOIN payment_tokens t ON t.order_id = o.id',
      'SELECT * FROM orders WHERE id IN (SELECT order_id FROM payment_tokens)',
      'SELECT (SELECT max(token) FROM payment_tokens)',
      'SELECT * FROM orders WHERE EXISTS (SELECT 1 FROM payment_tokens)',
      'SELECT * FROM (SELECT * FROM payment_tokens) s',
      'WITH t AS (SELECT * FROM payment_tokens) SELECT * FROM t',
      'SELECT id FROM orders UNION ALL SELECT id FROM payment_tokens',
      'SELECT id FROM orders INTERSECT SELECT id FROM payment_tokens',
      'SELECT * FROM orders, LATERAL (SELECT * FROM payment_tokens p WHERE p.id = orders.id) x',
      'COPY payment_tokens TO STDOUT',
      'COPY (SELECT * FROM payment_tokens) TO STDOUT',
      'DECLARE c CURSOR FOR SELECT * FROM payment_tokens',
      'EXPLAIN SELECT * FROM payment_tokens',
      'SELECT * FROM ONLY payment_tokens',
      'SELECT * FROM payment_tokens TABLESAMPLE BERNOULLI (1)',
      'SELECT * FROM test.public.payment_tokens',
    ]) {
      expect(await expectRefused(sql, SUPPORT, PUBLIC), sql).toBe(reason);
    }
  });

  it('refuses tables not matched by the allow list, in any schema', async () => {
    expect(await expectRefused('SELECT * FROM billing.cards', SUPPORT, PUBLIC)).toBe(notAllowed('table billing.cards', SUPPORT));
    await expectAllowed('SELECT * FROM billing.invoices JOIN orders USING (id)', SUPPORT, PUBLIC);
  });

  it('treats a CTE name as a CTE only where PostgreSQL does', async () => {
    // A CTE named like a denied table hides it from later references…
    await expectAllowed('WITH payment_tokens AS (SELECT 1 AS x) SELECT * FROM payment_tokens', SUPPORT, PUBLIC);
    // …but a non-recursive CTE does not see itself: this reads the real table.
    await expectRefused('WITH payment_tokens AS (SELECT * FROM payment_tokens) SELECT * FROM payment_tokens', SUPPORT, PUBLIC);
    // A schema-qualified name is never a CTE.
    await expectRefused('WITH payment_tokens AS (SELECT 1) SELECT * FROM public.payment_tokens', SUPPORT, PUBLIC);
    // A CTE defined inside a subquery is not visible outside it.
    await expectRefused('SELECT * FROM (WITH payment_tokens AS (SELECT 1) SELECT 1) s, payment_tokens', SUPPORT, PUBLIC);
    // An earlier sibling CTE is visible to a later one; a later one is not visible to an earlier one.
    await expectAllowed('WITH a AS (SELECT 1), payment_tokens AS (SELECT * FROM a) SELECT * FROM payment_tokens', SUPPORT, PUBLIC);
    await expectRefused('WITH a AS (SELECT * FROM payment_tokens), payment_tokens AS (SELECT 1) SELECT * FROM a', SUPPORT, PUBLIC);
    // In WITH RECURSIVE every CTE of the clause is visible in every body.
    await expectAllowed(
      'WITH RECURSIVE payment_tokens(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM payment_tokens WHERE n < 3) SELECT * FROM payment_tokens',
      SUPPORT,
      PUBLIC,
    );
  });

  it('checks DML targets and USING/FROM clauses, never mistaking a target for a CTE', async () => {
    const W: SqlScope = { ...SUPPORT, role: 'support-write', allow: ['read', 'write'] };
    const reason = notAllowed('table public.payment_tokens', W);
    for (const sql of [
      'WITH payment_tokens AS (SELECT 1) DELETE FROM payment_tokens',
      'WITH payment_tokens AS (SELECT 1) UPDATE payment_tokens SET a = 1',
      'INSERT INTO payment_tokens VALUES (1)',
      'INSERT INTO orders SELECT * FROM payment_tokens',
      'UPDATE orders SET a = p.a FROM payment_tokens p',
      'DELETE FROM orders USING payment_tokens p WHERE p.id = orders.id',
      'MERGE INTO orders o USING payment_tokens p ON o.id = p.id WHEN MATCHED THEN DELETE',
      'MERGE INTO payment_tokens p USING orders o ON o.id = p.id WHEN MATCHED THEN DELETE',
      'COPY payment_tokens FROM STDIN',
      'TRUNCATE orders, payment_tokens',
      'LOCK TABLE payment_tokens',
      'INSERT INTO orders VALUES ((SELECT 1 FROM payment_tokens))',
    ]) {
      expect(await expectRefused(sql, W, PUBLIC), sql).toBe(reason);
    }
    await expectAllowed('WITH x AS (DELETE FROM orders RETURNING *) INSERT INTO archive SELECT * FROM x', W, PUBLIC);
  });

  it('matches quoted identifiers exactly and reports them quoted', async () => {
    const Q: SqlScope = { ...READ, role: 'q', tables: ['public.Weird Name'] };
    await expectAllowed('SELECT * FROM "Weird Name"', Q, PUBLIC);
    expect(await expectRefused('SELECT * FROM "weird name"', Q, PUBLIC)).toBe(notAllowed('table public."weird name"', Q));
    expect(await expectRefused('SELECT * FROM "Secret"."T"', Q, PUBLIC)).toBe(notAllowed('table "Secret"."T"', Q));
    // Unquoted names fold to lower case before matching, exactly as in PostgreSQL.
    expect(await expectRefused('SELECT * FROM PAYMENT_TOKENS', SUPPORT, PUBLIC)).toBe(notAllowed('table public.payment_tokens', SUPPORT));
  });

  it('with only denyTables, allows everything else', async () => {
    await expectAllowed('SELECT * FROM orders JOIN anything.at_all USING (id)', DENY_ONLY, PUBLIC);
    await expectRefused('SELECT * FROM billing.payment_tokens', DENY_ONLY, PUBLIC);
    await expectRefused('SELECT * FROM secret.keys', DENY_ONLY, PUBLIC);
  });

  it('a pattern without a schema names that table in every schema', async () => {
    const S: SqlScope = { ...READ, role: 's', denyTables: ['payment_tokens'] };
    await expectRefused('SELECT * FROM vault.payment_tokens', S, PUBLIC);
  });
});

describe('unqualified names resolve conservatively through the search_path', () => {
  it('requires the table to be allowed in every schema of the search_path that could hold it', async () => {
    expect(await expectRefused('SELECT * FROM orders', SUPPORT, path('secret', 'public'))).toBe(notAllowed('table secret.orders', SUPPORT));
    expect(await expectRefused('SELECT * FROM orders', SUPPORT, path('public', 'secret'))).toBe(notAllowed('table secret.orders', SUPPORT));
    await expectAllowed('SELECT * FROM orders', { ...SUPPORT, tables: ['*.orders'] }, path('secret', 'public'));
  });

  it('replaces $user with the upstream user, and otherwise only a * schema pattern matches it', async () => {
    await expectRefused('SELECT * FROM orders', SUPPORT, path('$user', 'public'));
    await expectRefused('SELECT * FROM orders', SUPPORT, path('"$user"', 'public'));
    await expectAllowed('SELECT * FROM orders', SUPPORT, { searchPath: ['"$user"', 'public'], user: 'public' });
    await expectAllowed('SELECT * FROM orders', SUPPORT, { searchPath: ['$user', 'public'], user: 'public' });
    expect(await expectRefused('SELECT * FROM orders', SUPPORT, { searchPath: ['$user', 'public'], user: 'airlock_ro' })).toBe(
      notAllowed('table airlock_ro.orders', SUPPORT),
    );
  });

  it('refuses an unqualified name when the search_path is empty', async () => {
    await expectRefused('SELECT * FROM orders', SUPPORT, path());
  });

  it('resolves known catalog names to pg_catalog, which is searched first', async () => {
    await expectAllowed('SELECT * FROM pg_class', SUPPORT, path('secret'));
    // An unknown pg_* name could be a user table in a search_path schema.
    await expectRefused('SELECT * FROM pg_not_a_catalog', SUPPORT, path('secret'));
    // Where the path places pg_catalog, schemas before it are searched first; schemas after it are never reached.
    await expectRefused('SELECT * FROM pg_class', SUPPORT, path('secret', 'pg_catalog'));
    await expectAllowed('SELECT * FROM pg_class', SUPPORT, path('pg_catalog', 'secret'));
  });

  it('works with the path as current_schemas(true) reports it, temporary schema included', async () => {
    const current = path('pg_temp_3', 'pg_catalog', 'public');
    await expectAllowed('SELECT * FROM orders JOIN pg_class ON true JOIN pg_namespace ON true', SUPPORT, current);
    await expectRefused('SELECT * FROM payment_tokens', SUPPORT, current);
    await expectRefused('SELECT * FROM orders', SUPPORT, path('pg_catalog', 'secret', 'public'));
  });

  it('keeps search_path fixed: changing it is refused even to otherwise powerful roles with a table list', async () => {
    const restrictedAdmin: SqlScope = { ...ADMIN, tables: ['public.*'] };
    expect(await expectRefused('SET search_path = secret', restrictedAdmin, PUBLIC)).toBe(notAllowed('changing search_path', restrictedAdmin));
    await expectRefused("SELECT set_config('search_path', 'secret', false)", restrictedAdmin, PUBLIC);
    await expectAllowed('SET search_path = secret', ADMIN, PUBLIC);
  });
});

describe('system catalogs', () => {
  it('may be read with a table list, except those holding secrets or sampled data', async () => {
    await expectAllowed('SELECT * FROM pg_catalog.pg_tables', SUPPORT, PUBLIC);
    await expectAllowed('SELECT * FROM information_schema.tables', SUPPORT, PUBLIC);
    for (const t of ['pg_authid', 'pg_shadow', 'pg_statistic', 'pg_stats', 'pg_user_mappings', 'pg_largeobject', 'pg_stat_activity', 'pg_subscription', 'pg_hba_file_rules']) {
      expect(await expectRefused(`SELECT * FROM pg_catalog.${t}`, SUPPORT, PUBLIC)).toBe(notAllowed(`table pg_catalog.${t}`, SUPPORT));
      expect(await expectRefused(`SELECT * FROM ${t}`, SUPPORT, PUBLIC)).toBe(notAllowed(`table pg_catalog.${t}`, SUPPORT));
    }
    await expectRefused('SELECT * FROM information_schema.user_mapping_options', SUPPORT, PUBLIC);
  });

  it('sensitive catalogs need a pattern that names them, even without a table list', async () => {
    await expectRefused('SELECT rolpassword FROM pg_authid', READ, PUBLIC);
    await expectAllowed('SELECT * FROM pg_stat_activity', { ...READ, tables: ['pg_catalog.pg_stat_activity'] }, PUBLIC);
  });

  it('denyTables applies to catalogs too', async () => {
    await expectRefused('SELECT * FROM pg_catalog.pg_settings', { ...READ, denyTables: ['pg_catalog.pg_settings'] }, PUBLIC);
  });

  it('regclass casts of a name read no data and are allowed', async () => {
    await expectAllowed("SELECT 'payment_tokens'::regclass, pg_relation_size('payment_tokens')", SUPPORT, PUBLIC);
  });
});

describe('definition statements under a table list', () => {
  const STAGING: SqlScope = { ...DDL, role: 'staging-ddl', tables: ['staging.*'] };

  it('allows definitions that only name allowed tables', async () => {
    await expectAllowed('CREATE TABLE staging.t (id int REFERENCES staging.u (id))', STAGING, PUBLIC);
    await expectAllowed('ALTER TABLE staging.t ADD COLUMN x int', STAGING, PUBLIC);
    await expectAllowed('DROP TABLE staging.t, staging.u', STAGING, PUBLIC);
    await expectAllowed('CREATE INDEX ON staging.t (id)', STAGING, PUBLIC);
    await expectAllowed('CREATE TABLE staging.copy AS SELECT * FROM staging.t', STAGING, PUBLIC);
  });

  it('refuses definitions that name or read other tables', async () => {
    await expectRefused('DROP TABLE public.orders', STAGING, PUBLIC);
    await expectRefused('CREATE TABLE staging.t (id int REFERENCES public.orders (id))', STAGING, PUBLIC);
    await expectRefused('CREATE TABLE staging.t (LIKE public.payment_tokens)', STAGING, PUBLIC);
    await expectRefused('CREATE VIEW staging.v AS SELECT * FROM public.payment_tokens', STAGING, PUBLIC);
    await expectRefused('CREATE TABLE staging.x AS SELECT * FROM public.payment_tokens', STAGING, PUBLIC);
    await expectRefused('ALTER TABLE staging.t RENAME TO orders', { ...STAGING, tables: ['staging.t'] }, PUBLIC);
    await expectRefused('ALTER TABLE staging.t SET SCHEMA public', STAGING, PUBLIC);
  });

  it('refuses definitions whose reach cannot be named', async () => {
    const reason = await expectRefused('DROP TABLE staging.t CASCADE', STAGING, PUBLIC);
    expect(reason).toBe(notAllowed("DROP TABLE here: the tables it reaches cannot be checked against the role's table list", STAGING));
    await expectRefused('DROP SCHEMA staging', STAGING, PUBLIC);
    await expectRefused('TRUNCATE staging.t CASCADE', { ...WRITE, tables: ['staging.*'] }, PUBLIC);
    await expectRefused('DO $$ BEGIN END $$', { ...ADMIN, tables: ['staging.*'] }, PUBLIC);
    await expectRefused('SELECT my_function()', { ...ADMIN, tables: ['staging.*'] }, PUBLIC);
    await expectRefused('VACUUM', { ...ADMIN, tables: ['staging.*'] }, PUBLIC);
    await expectAllowed('VACUUM staging.t', { ...ADMIN, tables: ['staging.*'] }, PUBLIC);
  });
});
