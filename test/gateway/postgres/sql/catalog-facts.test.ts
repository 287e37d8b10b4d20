import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlScope } from '../../../../src/gateway/postgres/backend.js';
import { CatalogFacts, catalogFromText, checkSql, clearSqlDecisionCache } from '../../../../src/gateway/postgres/sql/check.js';
import { StatementCheck } from '../../../../src/gateway/postgres/statement-check.js';
import { ADMIN as PG_ADMIN, admin, uniqueName } from '../pg-fixture.js';
import { ADMIN, READ, WRITE, type CheckOptions, check, expectAllowed, expectRefused, loadCatalog, notAllowed } from './helpers.js';

/**
 * User code that already exists in the database and runs without being
 * called by name: attribute notation, casts to domains and types, operators,
 * views and row-security policies. The facts come from a real PostgreSQL
 * catalog, read with the gateway's own query, in a database of this test's
 * own making.
 */

const database = uniqueName('airlock_catalog');

const SCHEMA = String.raw`
create table orders (id int primary key, status text, customer_id int);
create table customers (id int primary key, name text);
create table payment_tokens (id int, token text);
create table pgbench_accounts (aid int primary key, bid int, abalance int, filler char(84));
create schema secret;
create table secret.keys (k text);
create sequence seq1;

create function public.leak(o public.orders) returns text language sql as 'select token from public.payment_tokens limit 1';
create function public.stamp(t text) returns boolean language plpgsql as $$
  begin perform pg_catalog.set_config('application_name', 'pwned-by-' || t, false); return true; end $$;
create domain public.checked_text as text check (public.stamp(value));
create domain public.sneaky as text check (pg_catalog.set_config('a.b', value, false) is not null);
create domain public.posint as int check (value > 0);
create type public.boxed as (c public.checked_text);
create type public.wrap as (t text);
create function public.wrap_eq(a public.wrap, b int) returns boolean language plpgsql as $$
  begin perform pg_catalog.set_config('application_name', 'pwned-by-operator', false); return true; end $$;
create operator public.= (leftarg = public.wrap, rightarg = int, function = public.wrap_eq);
create table wrapped (id int, w public.wrap);
insert into orders values (1, 'paid', 1), (5, 'open', 2);
insert into customers values (1, 'Ada'), (2, 'Bob');
insert into payment_tokens values (1, 'tok_secret');
insert into pgbench_accounts values (5, 1, 100, '');
insert into wrapped values (1, row('a'));

create view token_view as select * from payment_tokens;
create view nested_view as select token from token_view;
create materialized view token_mv as select * from payment_tokens;
create view secret_view as select * from secret.keys;
create view calls_view as select o.id, o.leak from orders o;
create view catalog_view as select rolname, rolpassword from pg_authid;
create view seq_view as select nextval('seq1') as n;
create view fine_view as select id, upper(status) as s, now() as at, count(*) over () as n from orders where id > 0 order by id;
create view domain_view as select 'x'::checked_text as c;

create table guarded (id int, owner text);
alter table guarded enable row level security;
create policy guarded_by_stamp on guarded using (public.stamp(owner));

create schema extra;
create function extra.lower(t text) returns text language sql as 'select t';
create function extra.tplus(a text, b int) returns text language sql as 'select a';
create operator extra.+ (leftarg = text, rightarg = int, function = extra.tplus);
create type extra.thing as (x int);
create function extra.thing_text(t extra.thing) returns text language sql as 'select ''thing''';
create cast (extra.thing as text) with function extra.thing_text(extra.thing);

create schema dup;
create function dup.plus(a int, b int) returns int language sql as 'select a - b';
create operator dup.+ (leftarg = int, rightarg = int, function = dup.plus);
`;

let catalog: CatalogFacts;

/** As current_schemas(true) reports a login's default path. */
const opts = (...searchPath: string[]): CheckOptions => ({ searchPath: searchPath.length > 0 ? searchPath : ['pg_catalog', 'public'], catalog });
const PATH = (): CheckOptions => opts();

const SUPPORT: SqlScope = { ...READ, role: 'support', tables: ['public.*'], denyTables: ['public.payment_tokens'] };

beforeAll(async () => {
  await admin((c) => c.query(`create database ${database}`));
  const client = new pg.Client({ ...PG_ADMIN, database });
  await client.connect();
  try {
    await client.query(SCHEMA);
    catalog = await loadCatalog(client);
  } finally {
    await client.end();
  }
}, 60_000);

afterAll(async () => {
  await admin(async (c) => {
    await c.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [database]);
    await c.query(`drop database if exists ${database}`);
  });
});

describe('attribute notation (o.f calls f(o))', () => {
  it('refuses a user function reached as a field, however the row is written', async () => {
    for (const sql of [
      'select o.leak from orders o limit 1',
      'select (o).leak from orders o limit 1',
      'select orders.leak from orders',
      'select public.orders.leak from orders',
      'select (select o.leak) from orders o',
      'select id from orders o where o.leak is not null',
    ]) {
      expect(await expectRefused(sql, READ, PATH()), sql).toMatch(/function public\.leak\(\) through attribute notation .*a column named leak is refused too/);
    }
  });

  it('refuses a built-in the allow-list does not trust, reached as a field', async () => {
    expect(await expectRefused("select ('/etc/hostname'::text).pg_read_file", READ, PATH())).toBe(
      notAllowed('function pg_read_file() through attribute notation (".pg_read_file" calls pg_read_file() on the value before it)'),
    );
    expect(await expectRefused("select ('seq1'::text).nextval", READ, PATH())).toMatch(/function nextval\(\) through attribute notation/);
    await expectAllowed("select ('seq1'::text).nextval", WRITE, PATH());
  });

  it('keeps ordinary column references, and built-in read functions as fields', async () => {
    await expectAllowed('select o.id, o.status from orders o where o.id = 5', READ, PATH());
    await expectAllowed('select c.name, (c).id from customers c', READ, PATH());
    await expectAllowed("select ('abc'::text).upper", READ, PATH());
    // Built-ins that take `internal` (TABLESAMPLE's system(), index handlers) cannot be reached this way.
    await expectAllowed("select t.system, t.xid from (select 1 as system, '1'::xid as xid) t", READ, PATH());
  });

  it('only counts functions the search_path reaches', async () => {
    await expectAllowed('select o.leak from public.orders o', READ, opts('pg_catalog', 'secret'));
  });
});

describe('casts to types whose input runs code', () => {
  it('refuses a domain whose CHECK calls a user function, and what is built from it', async () => {
    expect(await expectRefused("select 'x'::checked_text", READ, PATH())).toBe(notAllowed('type public.checked_text (its constraint calls public.stamp())'));
    for (const sql of [
      "select cast('x' as public.checked_text)",
      "select '{x}'::checked_text[]",
      "select '(x)'::boxed",
      `select * from json_to_record('{"a": "x"}') as r(a checked_text)`,
      // EXECUTE converts its arguments to the declared types.
      'prepare p(checked_text) as select $1',
    ]) {
      expect(await expectRefused(sql, READ, PATH()), sql).toMatch(/type public\.(checked_text|boxed) \(/);
    }
  });

  it('refuses a domain whose CHECK calls a built-in the allow-list does not trust', async () => {
    expect(await expectRefused("select 'x'::sneaky", READ, PATH())).toBe(notAllowed('type public.sneaky (its constraint calls set_config())'));
  });

  it('keeps built-in casts and harmless domains', async () => {
    for (const sql of ["select '1'::int", 'select now()::date', 'select 5::posint', "select '2024-01-01'::timestamptz::date", 'select id::text from orders']) {
      await expectAllowed(sql, READ, PATH());
    }
  });

  it('refuses a built-in cast a user-written cast may replace, when a value of its source type is there', async () => {
    expect(await expectRefused('select t::text from (select row(1)::extra.thing as t) s', READ, opts('pg_catalog', 'extra', 'public'))).toMatch(
      /a cast to pg_catalog\.text here: user code converts extra\.thing to it/,
    );
    await expectAllowed("select '1'::text, status::text from orders", READ, opts('pg_catalog', 'extra', 'public'));
  });
});

describe('operators bound to user code', () => {
  it('refuses a built-in-looking operator when an operand may be of the user type it is defined for', async () => {
    for (const [sql, source] of [
      ["select row('a')::wrap = 1", 'a row value'],
      ['select w = 1 from wrapped', 'column w'],
      ['select 1 from wrapped x where x.w = 1', 'column w'],
      ['select $1 = 1', 'a parameter'],
      ['select 1 from wrapped x where x = 1', 'the whole-row value x'],
    ] as const) {
      const reason = await expectRefused(sql, READ, PATH());
      expect(reason, sql).toContain('operator = here: user code defines it for a user-defined type (public.=(public.wrap, integer))');
      expect(reason, sql).toContain(source);
    }
    // PostgreSQL applies = itself here, or the operands are not walked apart: any value of the type in the statement counts.
    for (const sql of ['select case w when 1 then 1 end from wrapped', 'select id from wrapped order by w using =', 'select id from wrapped where w = any (select 1)']) {
      expect(await expectRefused(sql, READ, PATH()), sql).toMatch(/operator = here: user code defines it .*, and this statement has column w/);
    }
  });

  it("keeps the built-in = on built-in values: pgbench's statements, joins, IN, BETWEEN, parameters", async () => {
    for (const sql of [
      'SELECT abalance FROM pgbench_accounts WHERE aid = 5',
      'select * from orders o join customers c on c.id = o.customer_id where o.status = $$paid$$',
      'select * from orders where id = $1',
      'select * from orders where id in (1, 2) and id between 1 and 5 and status <> $$x$$',
      'select * from orders a join orders b using (id)',
      'select * from orders where id in (select customer_id from orders)',
      "select id from wrapped where id = 1 and (w).t = 'a'",
    ]) {
      await expectAllowed(sql, READ, PATH());
    }
    await expectAllowed('UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 5', WRITE, PATH());
  });

  it('refuses every use of an operator name user code defines for built-in types, naming the way to the built-in', async () => {
    const extra = opts('pg_catalog', 'extra', 'public');
    expect(await expectRefused('select 1 + 1', READ, extra)).toBe(
      notAllowed('operator + here: extra.+(text, integer) is user code (write OPERATOR(pg_catalog.+) for the built-in)'),
    );
    await expectAllowed('select 1 operator(pg_catalog.+) 1', READ, extra);
    await expectAllowed('select 1 + 1', READ, PATH());
  });

  it('ignores a user operator that pg_catalog hides, unless the search_path puts it first', async () => {
    await expectAllowed('select 1 + 1', READ, opts('pg_catalog', 'dup'));
    await expectRefused('select 1 + 1', READ, opts('dup', 'pg_catalog'));
  });
});

describe('built-in function names shadowed by user code', () => {
  it('refuses the unqualified name when the search_path reaches a user function of that name', async () => {
    const extra = opts('pg_catalog', 'extra', 'public');
    expect(await expectRefused("select lower('X')", READ, extra)).toBe(
      notAllowed('function lower() here: extra.lower() is user code of the same name (write pg_catalog.lower() for the built-in)'),
    );
    await expectAllowed("select pg_catalog.lower('X')", READ, extra);
    await expectAllowed("select lower('X')", READ, PATH());
  });
});

describe('views, materialized views and row-security policies', () => {
  it('holds a view to the tables it reads: deny_tables, the tables list, the sensitive catalogs', async () => {
    expect(await expectRefused('select token from token_view', SUPPORT, PATH())).toBe(
      notAllowed('table public.payment_tokens (read by view public.token_view)', SUPPORT),
    );
    expect(await expectRefused('select * from public.nested_view', SUPPORT, PATH())).toBe(
      notAllowed('table public.payment_tokens (read by view public.token_view)', SUPPORT),
    );
    expect(await expectRefused('select * from token_mv', SUPPORT, PATH())).toBe(
      notAllowed('table public.payment_tokens (read by materialized view public.token_mv)', SUPPORT),
    );
    expect(await expectRefused('select * from secret_view', SUPPORT, PATH())).toBe(notAllowed('table secret.keys (read by view public.secret_view)', SUPPORT));
    expect(await expectRefused('select * from catalog_view', READ, PATH())).toBe(notAllowed('table pg_catalog.pg_authid (read by view public.catalog_view)'));
    await expectAllowed('select * from fine_view', SUPPORT, PATH());
    await expectAllowed('select token from token_view', READ, PATH());
  });

  it('refuses what a view or a policy runs as if it were written out', async () => {
    expect(await expectRefused('select * from calls_view', READ, PATH())).toBe(notAllowed('function public.leak() (run by view public.calls_view)'));
    expect(await expectRefused('select * from seq_view', READ, PATH())).toBe(notAllowed('function nextval() (run by view public.seq_view)'));
    await expectAllowed('select * from seq_view', WRITE, PATH());
    expect(await expectRefused('select * from domain_view', READ, PATH())).toMatch(/type public\.checked_text \(its constraint calls public\.stamp\(\); used by view public\.domain_view\)/);
    expect(await expectRefused('select count(*) from guarded', READ, PATH())).toBe(notAllowed('function public.stamp() (run by table public.guarded)'));
    await expectAllowed('select * from calls_view', ADMIN, PATH());
  });

  it('leaves DDL on a view to the DDL rules', async () => {
    await expectAllowed('drop view calls_view', { ...READ, allow: ['read', 'write', 'ddl'] }, PATH());
  });
});

describe('the refusals are real', () => {
  /** Runs `sql` as the superuser in a read-only transaction; returns its first value and the application_name it left. */
  async function run(sql: string): Promise<{ value: unknown; appName: string }> {
    const client = new pg.Client({ ...PG_ADMIN, database });
    await client.connect();
    try {
      await client.query('begin read only');
      const r = await client.query({ text: sql, rowMode: 'array' });
      const appName = (await client.query<{ a: string }>("select current_setting('application_name') as a")).rows[0]!.a;
      await client.query('rollback');
      return { value: r.rows[0]?.[0], appName };
    } finally {
      await client.end();
    }
  }

  it('PostgreSQL runs the user code for what is refused, and none for what is allowed', async () => {
    expect((await run("select row('a')::wrap = 1")).appName).toBe('pwned-by-operator');
    expect((await run("select 'x'::checked_text")).appName).toBe('pwned-by-x');
    expect((await run('select o.leak from orders o limit 1')).value).toBe('tok_secret');
    expect((await run('select token from token_view')).value).toBe('tok_secret');
    for (const sql of [
      'SELECT abalance FROM pgbench_accounts WHERE aid = 5',
      "select id from wrapped where id = 1 and (w).t = 'a'",
      'select count(*) from orders o join customers c on c.id = o.customer_id where o.id in (1, 5) and o.id between 1 and 5',
      'select o.id, o.status from orders o where o.id = 5',
    ]) {
      await expectAllowed(sql, READ, PATH());
      expect((await run(sql)).appName, sql).not.toMatch(/pwned/);
    }
  });
});

describe('a user-written cast PostgreSQL applies without being asked', () => {
  const implicitDb = uniqueName('airlock_catalog_cast');
  let implicit: CatalogFacts;

  beforeAll(async () => {
    await admin((c) => c.query(`create database ${implicitDb}`));
    const client = new pg.Client({ ...PG_ADMIN, database: implicitDb });
    await client.connect();
    try {
      await client.query(String.raw`
        create type public.thing as (x int);
        create function public.thing_text(t public.thing) returns text language plpgsql as $$
          begin perform pg_catalog.set_config('application_name', 'pwned-by-cast', false); return 'thing'; end $$;
        create cast (public.thing as text) with function public.thing_text(public.thing) as implicit;
        create table things (id int, item public.thing);
        insert into things values (1, row(1)), (2, row(2));
        create schema imp;
        create type imp.widget as (t text);
        create cast (text as imp.widget) with inout as implicit;
        create function imp.widget_eq(a imp.widget, b int) returns boolean language plpgsql as $$
          begin perform pg_catalog.set_config('application_name', 'pwned-by-widget', false); return true; end $$;
        create operator imp.= (leftarg = imp.widget, rightarg = int, function = imp.widget_eq);
      `);
      implicit = await loadCatalog(client);
      // The control: PostgreSQL does run it for a built-in function of text.
      await client.query('begin read only');
      await client.query('select length(item) from things');
      expect((await client.query<{ a: string }>("select current_setting('application_name') as a")).rows[0]!.a).toBe('pwned-by-cast');
      await client.query('rollback');
    } finally {
      await client.end();
    }
  }, 60_000);

  afterAll(async () => {
    await admin(async (c) => {
      await c.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [implicitDb]);
      await c.query(`drop database if exists ${implicitDb}`);
    });
  });

  it('refuses a statement with a value of the cast source type, and allows one without', async () => {
    const o = (): CheckOptions => ({ searchPath: ['pg_catalog', 'public'], catalog: implicit });
    expect(await expectRefused('select length(item) from things', READ, o())).toBe(
      notAllowed(
        'the implicit cast from public.thing to pg_catalog.text here: PostgreSQL applies it without being asked, and this statement has column item, which may be of that type',
      ),
    );
    await expectRefused('select length(t) from (select row(1)::thing as t) s', READ, o());
    await expectAllowed('select id, length(id::text) from things where id = 1', READ, o());
  });

  it('treats an operator on a user type that a built-in type converts to implicitly as reachable from built-in values', async () => {
    const imp: CheckOptions = { searchPath: ['pg_catalog', 'imp', 'public'], catalog: implicit };
    expect(await expectRefused("select 'x'::text = 1", READ, imp)).toBe(
      notAllowed('operator = here: imp.=(imp.widget, integer) is user code (write OPERATOR(pg_catalog.=) for the built-in)'),
    );
  });
});

describe('decision caches', () => {
  it('never share a decision between databases whose catalogs differ', async () => {
    const sql = 'select o.leak from orders o';
    for (let i = 0; i < 2; i++) {
      expect((await check(sql, READ, { searchPath: ['pg_catalog', 'public'], catalog: CatalogFacts.NONE })).allowed).toBe(true);
      expect((await check(sql, READ, PATH())).allowed).toBe(false);
    }
    // A literal-shape hit (same text but the number) must not cross either.
    expect((await check('select o.leak from orders o where o.id = 1', READ, { searchPath: ['pg_catalog', 'public'], catalog: CatalogFacts.NONE })).allowed).toBe(true);
    expect((await check('select o.leak from orders o where o.id = 2', READ, PATH())).allowed).toBe(false);
  });

  it('interns equal catalogs, so sessions on one database share the facts', async () => {
    const text = JSON.stringify([[['public', 'f', true]], [], [], [], [], [], [], []]);
    expect(catalogFromText(text)).toBe(catalogFromText(text));
    expect(catalogFromText(text).fingerprint).not.toBe(catalogFromText(JSON.stringify([[], [], [], [], [], [], [], []])).fingerprint);
    expect(() => catalogFromText('{"not": "it"}')).toThrow(/unexpected shape/);
    // A gateway and a catalog answer from different versions of the query must not be mistaken for each other.
    expect(() => catalogFromText(JSON.stringify([[], [], [], [], [], [], []]))).toThrow(/unexpected shape/);
  });

  it("a session's memo decides with the session's own facts", async () => {
    clearSqlDecisionCache();
    const session = new StatementCheck(checkSql, READ, { searchPath: ['pg_catalog', 'public'], catalog });
    expect((await session.decide("select 'x'::checked_text")).allowed).toBe(false);
    expect(session.now("select 'x'::checked_text")?.allowed).toBe(false);
    const other = new StatementCheck(checkSql, READ, { searchPath: ['pg_catalog', 'public'], catalog: CatalogFacts.NONE });
    expect((await other.decide("select 'x'::checked_text")).allowed).toBe(true);
  });
});
