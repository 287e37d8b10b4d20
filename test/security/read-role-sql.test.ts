import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../gateway/postgres/raw-client.js';
import { errorOfQuery, startAirlock, type Airlock } from './support.js';
import * as w from './wire.js';

/**
 * A hostile insider with a `read` grant whose upstream credential is the
 * superuser, trying to change data or server state, or to read a denied
 * table, with SQL sent as simple queries. Every statement here must be
 * refused by the gateway (SQLSTATE 42501, "airlock:"), and the data and
 * settings must be unchanged afterwards.
 */

let air: Airlock;
let c: pg.Client;

beforeAll(async () => {
  air = await startAirlock();
  c = await air.pg(await air.grant('mallory', 'read'));
});

afterAll(async () => {
  await c?.end().catch(() => undefined);
  await air?.stop();
});

const MUST_REFUSE: ReadonlyArray<readonly [string, string]> = [
  ['multi-statement', 'select 1; delete from orders'],
  ['multi-statement hidden after a comment', 'select 1 /* ; */; update orders set status = $$x$$'],
  ['writable CTE', 'with d as (delete from orders returning *) select count(*) from d'],
  ['writable CTE in a subquery', 'select * from (with d as (update orders set status = null returning 1) select * from d) s'],
  ['SELECT INTO', 'select * into stolen from orders'],
  ['locking clause', 'select * from orders for update'],
  ['FOR KEY SHARE', 'select * from orders for key share'],
  ['COPY FROM STDIN', 'copy orders from stdin'],
  ['COPY TO PROGRAM', "copy orders to program 'id'"],
  ['COPY (query) TO PROGRAM', "copy (select 1) to program 'touch /tmp/airlock-pwned'"],
  ['COPY TO a server file', "copy orders to '/tmp/airlock-orders.csv'"],
  ['DO', 'do $$ begin delete from orders; end $$'],
  ['CALL', 'call some_proc()'],
  ['set_config', "select set_config('default_transaction_read_only', 'off', false)"],
  ['set_config qualified and quoted', `select "pg_catalog"."set_config"('default_transaction_read_only', 'off', false)`],
  ['set_config with unicode escapes', `select U&"set\\005fconfig"('default_transaction_read_only', 'off', false)`],
  ['set_config in a WHERE clause', "select 1 from orders where set_config('a.b', 'c', false) is not null"],
  ['set_config in a lateral function', "select * from orders, lateral set_config('a.b', 'c', false) s"],
  ['SET ROLE', 'set role postgres'],
  ['SET SESSION AUTHORIZATION', 'set session authorization postgres'],
  ['SET default_transaction_read_only', 'set default_transaction_read_only = off'],
  ['SET transaction_read_only', 'set transaction_read_only = off'],
  ['RESET transaction_read_only', 'reset transaction_read_only'],
  ['RESET default_transaction_read_only', 'reset default_transaction_read_only'],
  ['SET SESSION CHARACTERISTICS', 'set session characteristics as transaction read write'],
  ['SET standard_conforming_strings', 'set standard_conforming_strings = off'],
  ['SET client_encoding', "set client_encoding = 'SJIS'"],
  ['SET search_path', 'set search_path = secret, public'],
  ['SET LOCAL search_path', 'set local search_path = secret'],
  ['SET statement_timeout', 'set statement_timeout = 3600000'],
  ['SET session_replication_role', 'set session_replication_role = replica'],
  ['RESET ALL', 'reset all'],
  ['DISCARD ALL', 'discard all'],
  ['BEGIN READ WRITE', 'begin read write'],
  ['START TRANSACTION … READ WRITE', 'start transaction isolation level serializable, read write'],
  ['BEGIN with read only turned off', 'begin transaction read only, read write'],
  ['PREPARE', 'prepare p as delete from orders'],
  ['EXECUTE of a name never prepared through the gateway', 'execute p'],
  ['EXECUTE with a side-effecting argument', "execute p(pg_read_file('/etc/hostname'))"],
  ['PREPARE TRANSACTION', "prepare transaction 'x'"],
  ['LISTEN', 'listen ch'],
  ['NOTIFY', 'notify ch'],
  ['pg_notify', "select pg_notify('ch', 'x')"],
  ['LOCK', 'lock table orders'],
  ['TRUNCATE', 'truncate orders'],
  ['nextval', "select nextval('seq1')"],
  ['setval', "select setval('seq1', 100)"],
  ['advisory lock', 'select pg_advisory_lock(42)'],
  ['txid_current', 'select txid_current()'],
  ['pg_terminate_backend', 'select pg_terminate_backend(1)'],
  ['pg_cancel_backend', 'select pg_cancel_backend(1)'],
  ['pg_reload_conf', 'select pg_reload_conf()'],
  ['pg_read_file', "select pg_read_file('/etc/hostname')"],
  ['pg_read_binary_file', "select pg_read_binary_file('/etc/hostname')"],
  ['pg_ls_dir', "select * from pg_ls_dir('.')"],
  ['lo_import', "select lo_import('/etc/hostname')"],
  ['lo_export', "select lo_export(1, '/tmp/x')"],
  ['lo_create', 'select lo_create(0)'],
  ['lo_from_bytea', "select lo_from_bytea(0, 'x')"],
  ['dblink', "select * from dblink('host=127.0.0.1 dbname=test', 'delete from t') as t(x int)"],
  ['query_to_xml', "select query_to_xml('select * from payment_tokens', true, true, '')"],
  ['table_to_xml', "select table_to_xml('payment_tokens', true, true, '')"],
  ['cursor_to_xml', "select cursor_to_xml('c', 1, true, true, '')"],
  ['xmlexists', "select xmlexists('//a' passing by ref '<a/>')"],
  ['ts_stat', "select * from ts_stat('select to_tsvector(token) from payment_tokens')"],
  ['ts_rewrite with a query', "select ts_rewrite('a'::tsquery, 'select ''a''::tsquery, ''b''::tsquery')"],
  ['a user-schema function', 'select public.whatever(1)'],
  ['an unknown function', 'select whatever(1)'],
  ['a user operator', 'select 1 === 2'],
  ['an operator in another schema', 'select 1 operator(public.+) 2'],
  ['a custom TABLESAMPLE method', 'select * from orders tablesample system_rows(10)'],
  ['EXPLAIN ANALYZE of a DELETE', 'explain analyze delete from orders'],
  ['EXPLAIN of a DELETE', 'explain delete from orders'],
  ['DECLARE of a writable CTE', 'declare c cursor for with d as (delete from orders returning *) select * from d'],
  ['CREATE TABLE', 'create table t (x int)'],
  ['CREATE TEMP TABLE', 'create temp table t (x int)'],
  ['CREATE FUNCTION', "create function f() returns int language sql as 'select 1'"],
  ['ALTER SYSTEM', "alter system set fsync = off"],
  ['VACUUM', 'vacuum orders'],
  ['ANALYZE', 'analyze orders'],
  ['CHECKPOINT', 'checkpoint'],
  ['LOAD', "load 'auto_explain'"],
  ['REFRESH MATERIALIZED VIEW', 'refresh materialized view mv'],
  ['COMMENT', "comment on table orders is 'x'"],
  ['SECURITY LABEL', "security label on table orders is 'x'"],
  ['CREATE EXTENSION', 'create extension dblink'],
  ['GRANT', 'grant all on orders to public'],
  ['ALTER ROLE', 'alter role postgres set default_transaction_read_only = off'],
  ['ALTER DATABASE', 'alter database postgres set default_transaction_read_only = off'],
  ['REINDEX', 'reindex table orders'],
  ['CLUSTER', 'cluster orders'],
  ['denied table', 'select * from payment_tokens'],
  ['denied table qualified', 'select * from public.payment_tokens'],
  ['denied table quoted', 'select * from "public"."payment_tokens"'],
  ['denied table with unicode escapes', 'select * from U&"p\\0061yment_tokens"'],
  ['denied table via TABLE', 'table payment_tokens'],
  ['denied table via a subquery', 'select (select token from payment_tokens limit 1)'],
  ['denied table via EXISTS', 'select 1 where exists (select 1 from payment_tokens where token like $$tok%$$)'],
  ['denied table via a join', 'select * from orders join payment_tokens using (id)'],
  ['denied table via a CTE body', 'with x as (select * from payment_tokens) select * from x'],
  ['denied table via a non-recursive CTE of the same name', 'with payment_tokens as (select * from payment_tokens) select * from payment_tokens'],
  ['denied table via a CTE name shadowed in an inner scope', 'with o as (select 1) select * from (with z as (select * from payment_tokens) select * from z) s'],
  ['denied table via a qualified name shadowing a CTE', 'with payment_tokens as (select 1) select * from public.payment_tokens'],
  ['denied table via UNION', 'select token from payment_tokens union select status from orders'],
  ['denied table via LATERAL', 'select * from orders o, lateral (select token from payment_tokens) t'],
  ['denied table via COPY (query) TO STDOUT', 'copy (select * from payment_tokens) to stdout'],
  ['denied table via COPY TO STDOUT', 'copy payment_tokens to stdout'],
  ['denied table via DECLARE CURSOR', 'declare c cursor for select * from payment_tokens'],
  ['denied table via ONLY', 'select * from only payment_tokens'],
  ['denied table in EXPLAIN', 'explain select * from payment_tokens'],
  ['table outside the allow list', 'select * from secret.keys'],
  ['credential catalog', 'select rolpassword from pg_authid'],
  ['credential catalog qualified', 'select * from pg_catalog.pg_shadow'],
  ['other sessions\' query text', 'select query from pg_stat_activity'],
  ['other sessions\' query text via a function', 'select * from pg_stat_get_activity(null)'],
  ['column statistics', 'select most_common_vals from pg_stats'],
  ['large object contents', 'select data from pg_largeobject'],
];

describe('a read role (superuser credential) cannot change data or state, or read a denied table, with simple queries', () => {
  it.each(MUST_REFUSE)('refuses %s', async (_what, sql) => {
    const message = await errorOfQuery(c, sql);
    expect(message).toMatch(/^airlock: /);
  });

  it('leaves the data, the session settings and the server unchanged, and the session usable', async () => {
    expect((await c.query('select count(*)::int as n from orders')).rows[0].n).toBe(50);
    expect((await c.query('show transaction_read_only')).rows[0].transaction_read_only).toBe('on');
    expect((await c.query('show standard_conforming_strings')).rows[0].standard_conforming_strings).toBe('on');
    expect((await air.admin("select count(*)::int as n from orders where status = 'paid'")).rows[0].n).toBe(50);
    expect((await air.admin('select count(*)::int as n from pg_prepared_xacts')).rows[0].n).toBe(0);
    expect((await air.admin("select count(*)::int as n from pg_class where relname in ('stolen', 't')")).rows[0].n).toBe(0);
  });

  it('still answers what a read role is for', async () => {
    expect((await c.query('select count(*)::int as n from orders')).rows[0].n).toBe(50);
    expect((await c.query("with payment_tokens as (select 1 as x) select x from payment_tokens")).rows[0].x).toBe(1);
    expect((await c.query('select count(*)::int as n from pg_class')).rows[0].n).toBeGreaterThan(0);
  });

  it('keeps the read-only transaction even inside BEGIN … COMMIT and after a refusal', async () => {
    await c.query('begin');
    expect(await errorOfQuery(c, 'set transaction read write')).toMatch(/^airlock: /);
    expect((await c.query('show transaction_read_only')).rows[0].transaction_read_only).toBe('on');
    await c.query('commit');
  });

  it('records every refused statement in the audit trail with its text', async () => {
    const marker = `select 1; delete from orders where status = 'marker-${Date.now()}'`;
    expect(await errorOfQuery(c, marker)).toMatch(/^airlock: /);
    let found = false;
    for (let i = 0; i < 200 && !found; i++) {
      const events = (await (await air.api('root', '/api/audit?action=statement.refused&limit=1000')).json()) as Array<{ details: { text?: string } }>;
      found = events.some((e) => e.details.text === marker);
    }
    expect(found).toBe(true);
  });
});

// User code that already exists in the production database: the attacker did not create it,
// and cannot call it by name through the gateway (`select leak(o)` is refused as an unknown function).
const EXISTING_USER_CODE = `
create view public.token_view as select * from public.payment_tokens;
create view public.orders_view as select id, status from public.orders;
create function public.leak(o public.orders) returns text language sql as 'select token from public.payment_tokens limit 1';
create function public.stamp(t text) returns boolean language plpgsql as $$
  begin perform pg_catalog.set_config('application_name', 'pwned-by-' || t, false); return true; end $$;
create domain public.checked_text as text check (public.stamp(value));
create type public.wrap as (t text);
create function public.wrap_eq(a public.wrap, b int) returns boolean language plpgsql as $$
  begin perform pg_catalog.set_config('application_name', 'pwned-by-operator', false); return true; end $$;
create operator public.= (leftarg = public.wrap, rightarg = int, function = public.wrap_eq);
`;

/** An Airlock whose database also holds `schema`, and mallory's read session on it, for the describe block that calls it. */
function sessionOver(schema: string) {
  const s = {} as { coded: Airlock; m: pg.Client; appName(): Promise<string> };
  beforeAll(async () => {
    s.coded = await startAirlock({ extraSchema: schema });
    s.m = await s.coded.pg(await s.coded.grant('mallory', 'read'));
  });
  afterAll(async () => {
    await s.m?.end().catch(() => undefined);
    await s.coded?.stop();
  });
  s.appName = async () => (await s.m.query('show application_name')).rows[0].application_name as string;
  return s;
}

describe('user code already in the database runs only when the role could call it by name (F1, F2)', () => {
  const s = sessionOver(EXISTING_USER_CODE);
  const { appName } = s;

  it('F1: refuses attribute notation `o.leak`, which calls leak(o) and reads the denied payment_tokens', async () => {
    expect(await errorOfQuery(s.m, 'select leak(o) from orders o')).toMatch(/^airlock: /);
    expect(await errorOfQuery(s.m, 'select o.leak from orders o limit 1')).toMatch(/^airlock: .*function public\.leak\(\) through attribute notation/);
    expect(await errorOfQuery(s.m, 'select (o).leak from orders o limit 1')).toMatch(/^airlock: .*function public\.leak\(\) through attribute notation/);
  });

  it('F1: refuses a built-in the allow-list does not trust, reached by attribute notation (the credential is a superuser)', async () => {
    expect(await errorOfQuery(s.m, "select ('/etc/hostname'::text).pg_read_file")).toMatch(/^airlock: .*function pg_read_file\(\) through attribute notation/);
  });

  it('F1: refuses a cast to a domain whose CHECK calls a user function (here: set_config)', async () => {
    expect(await errorOfQuery(s.m, "select 'x'::checked_text")).toMatch(/^airlock: .*type public\.checked_text \(its constraint calls public\.stamp\(\)\)/);
    expect(await appName()).not.toMatch(/pwned/);
  });

  it('F1: refuses PREPARE with a parameter of such a type, which EXECUTE would convert its argument to', async () => {
    expect(await errorOfQuery(s.m, 'prepare stamped(checked_text) as select $1')).toMatch(/^airlock: .*type public\.checked_text \(its constraint calls public\.stamp\(\)\)/);
    expect(await errorOfQuery(s.m, "execute stamped('x')")).toMatch(/^airlock: /);
    expect(await appName()).not.toMatch(/pwned/);
  });

  it('F1: refuses a built-in-looking operator (=) bound to a user function, over both query protocols', async () => {
    expect(await errorOfQuery(s.m, "select row('a')::wrap = 1")).toMatch(/^airlock: .*operator = here: user code defines it/);
    expect(await appName()).not.toMatch(/pwned/);
    // The extended protocol lets the client declare $1 as public.wrap: a parameter counts as a value of the type.
    const wrapOid = Number((await s.coded.admin("select 'public.wrap'::regtype::oid as oid")).rows[0].oid);
    const c = await s.coded.raw(await s.coded.grant('mallory', 'read'));
    const paramTypes = Buffer.alloc(6);
    paramTypes.writeInt16BE(1, 0);
    paramTypes.writeInt32BE(wrapOid, 2);
    c.socket.write(Buffer.concat([w.raw('P', Buffer.from('\0select $1 = 1\0'), paramTypes), w.sync()]));
    expect(errorOf(await c.untilReady())?.message).toMatch(/^airlock: .*a parameter/);
    c.socket.destroy();
  });

  it('F2: refuses a view whose definition reads the denied public.payment_tokens', async () => {
    expect(await errorOfQuery(s.m, 'select * from payment_tokens')).toMatch(/^airlock: /);
    expect(await errorOfQuery(s.m, 'select token from token_view')).toBe(
      'airlock: role "read" on orders-db does not allow table public.payment_tokens (read by view public.token_view)',
    );
  });

  it('still answers ordinary reads in that database: =, joins, field references, built-in casts, views of allowed tables', async () => {
    expect((await s.m.query('select count(*)::int as n from orders o where o.id = 5')).rows[0].n).toBe(1);
    expect((await s.m.query('select count(*)::int as n from orders a join orders b on b.id = a.id where a.status = $1', ['paid'])).rows[0].n).toBe(50);
    expect((await s.m.query("select o.id, '1'::int as one, now()::date is not null as d from orders o where o.id in (1, 2) order by o.id")).rows).toHaveLength(2);
    expect((await s.m.query('select count(*)::int as n from orders_view where id between 1 and 10')).rows[0].n).toBe(10);
    expect(await appName()).not.toMatch(/pwned/);
  });
});

/** F6's schema: a composite type whose default btree operator class is user code that writes a setting. */
const CLASS_USER_CODE = `
create type public.wrap as (t text);
create function public.wrap_cmp(a public.wrap, b public.wrap) returns int language plpgsql as $$
  begin perform pg_catalog.set_config('application_name', 'pwned-by-sort', false); return 0; end $$;
create function public.wrap_lt(a public.wrap, b public.wrap) returns boolean language sql as 'select public.wrap_cmp(a, b) < 0';
create function public.wrap_le(a public.wrap, b public.wrap) returns boolean language sql as 'select public.wrap_cmp(a, b) <= 0';
create function public.wrap_eq(a public.wrap, b public.wrap) returns boolean language sql as 'select public.wrap_cmp(a, b) = 0';
create function public.wrap_ge(a public.wrap, b public.wrap) returns boolean language sql as 'select public.wrap_cmp(a, b) >= 0';
create function public.wrap_gt(a public.wrap, b public.wrap) returns boolean language sql as 'select public.wrap_cmp(a, b) > 0';
create operator public.< (leftarg = public.wrap, rightarg = public.wrap, function = public.wrap_lt);
create operator public.<= (leftarg = public.wrap, rightarg = public.wrap, function = public.wrap_le);
create operator public.= (leftarg = public.wrap, rightarg = public.wrap, function = public.wrap_eq);
create operator public.>= (leftarg = public.wrap, rightarg = public.wrap, function = public.wrap_ge);
create operator public.> (leftarg = public.wrap, rightarg = public.wrap, function = public.wrap_gt);
create operator class public.wrap_ops default for type public.wrap using btree as
  operator 1 public.<, operator 2 public.<=, operator 3 public.=, operator 4 public.>=, operator 5 public.>,
  function 1 public.wrap_cmp(public.wrap, public.wrap);
create table public.wrapped (id int, w public.wrap);
insert into public.wrapped values (1, row('a')), (2, row('b')), (2, row('c'));
create domain public.wrap_d as public.wrap;
create table public.dwrapped (id int, d public.wrap_d);
insert into public.dwrapped values (1, row('a')), (1, row('b'));
`;

describe('comparisons PostgreSQL picks through a type\'s operator class, with no operator written (F6)', () => {
  const s = sessionOver(CLASS_USER_CODE);
  const { appName } = s;

  it('refuses ORDER BY / DISTINCT on a type whose default btree operator class is user code', async () => {
    expect(await errorOfQuery(s.m, 'select id from wrapped order by w')).toMatch(/^airlock: /);
    expect(await errorOfQuery(s.m, 'select distinct w from wrapped')).toMatch(/^airlock: /);
    expect(await appName()).not.toMatch(/pwned/);
  });

  it('refuses every clause that compares through the class, naming it, the type and the code, and runs none of it', async () => {
    for (const [sql, clause] of [
      ['select id from wrapped order by w', 'ORDER BY'],
      ['select w, count(*) from wrapped group by w', 'GROUP BY'],
      ['select distinct on (w) id from wrapped', 'DISTINCT ON'],
      ['select w from wrapped union select w from wrapped', 'UNION'],
      ['select id, rank() over (partition by w order by id) from wrapped', 'PARTITION BY'],
      ['select min(array[w]) from wrapped', 'min()'],
      ['select id from wrapped order by (id, w)', 'ORDER BY'],
      ['select id from wrapped order by wrapped', 'ORDER BY'],
      ['select id from dwrapped order by d', 'ORDER BY'],
    ] as const) {
      const error = await errorOfQuery(s.m, sql);
      expect(error, sql).toMatch(new RegExp(`^airlock: role "read" on orders-db does not allow ${clause.replace(/[()]/g, '\\$&')} here: it compares values of type public\\.wrap`));
      expect(error, sql).toContain('public.wrap_cmp');
      expect(await appName(), sql).not.toMatch(/pwned/);
    }
  });

  it('refuses parameters the client declares as public.wrap in Parse (extended protocol)', async () => {
    const wrapOid = Number((await s.coded.admin("select 'public.wrap'::regtype::oid as oid")).rows[0].oid);
    const c = await s.coded.raw(await s.coded.grant('mallory', 'read'));
    try {
      const types = Buffer.alloc(10);
      types.writeInt16BE(2, 0);
      types.writeInt32BE(wrapOid, 2);
      types.writeInt32BE(wrapOid, 6);
      const text = (s: string) => {
        const b = Buffer.alloc(4);
        b.writeInt32BE(Buffer.byteLength(s), 0);
        return Buffer.concat([b, Buffer.from(s)]);
      };
      const formats = Buffer.from([0, 0, 0, 2]); // no parameter formats (text); two parameters
      const bind = w.raw('B', Buffer.from('\0\0'), formats, text('(a)'), text('(b)'), Buffer.from([0, 0]));
      c.socket.write(Buffer.concat([w.raw('P', Buffer.from('\0select $1 union select $2\0'), types), bind, w.execute(''), w.sync()]));
      expect(errorOf(await c.untilReady())?.message).toMatch(/^airlock: .*UNION here: it compares values of type public\.wrap \(a parameter, whose type the client may declare\)/);
      c.socket.write(w.query('show application_name'));
      const row = (await c.untilReady()).find((f) => f.type === 0x44);
      expect(row?.body.subarray(6).toString()).not.toMatch(/pwned/);
    } finally {
      c.socket.destroy();
    }
  });

  it('still answers what compares no value of that type', async () => {
    expect((await s.m.query('select * from wrapped')).rows).toHaveLength(3);
    expect((await s.m.query('select id from wrapped order by id')).rows.map((r) => r.id)).toEqual([1, 2, 2]);
    expect((await s.m.query('select w from wrapped union all select w from wrapped')).rows).toHaveLength(6);
    expect((await s.m.query('select id, w::text as t from wrapped order by w::text')).rows.map((r) => r.t)).toEqual(['(a)', '(b)', '(c)']);
    expect(await appName()).not.toMatch(/pwned/);
  });
});
