import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CatalogFacts, catalogFromText } from '../../../../src/gateway/postgres/sql/check.js';
import { ADMIN as PG_ADMIN, admin, uniqueName } from '../pg-fixture.js';
import { type CheckOptions, READ, expectAllowed, expectRefused, loadCatalog, notAllowed } from './helpers.js';

/**
 * Comparisons PostgreSQL makes through a type's default btree or hash
 * operator class, with no operator written (comparisons.ts): a read role
 * must not make it run user code by sorting, grouping or deduplicating.
 * The facts come from a real catalog, read with the gateway's own query.
 */

const database = uniqueName('airlock_classes');
const plainDatabase = uniqueName('airlock_classes_none');

const SCHEMA = String.raw`
create type public.wrap as (t text);
create function public.wrap_cmp(a public.wrap, b public.wrap) returns int language plpgsql immutable as $$
  begin perform pg_catalog.set_config('application_name', 'pwned-by-sort', false); return pg_catalog.bttextcmp((a).t, (b).t); end $$;
create function public.wrap_lt(a public.wrap, b public.wrap) returns boolean language sql immutable as 'select public.wrap_cmp(a, b) < 0';
create function public.wrap_le(a public.wrap, b public.wrap) returns boolean language sql immutable as 'select public.wrap_cmp(a, b) <= 0';
create function public.wrap_eq(a public.wrap, b public.wrap) returns boolean language sql immutable as 'select public.wrap_cmp(a, b) = 0';
create function public.wrap_ge(a public.wrap, b public.wrap) returns boolean language sql immutable as 'select public.wrap_cmp(a, b) >= 0';
create function public.wrap_gt(a public.wrap, b public.wrap) returns boolean language sql immutable as 'select public.wrap_cmp(a, b) > 0';
-- Operators no built-in shares a name with: nothing but the class reaches them (the typed-operator rules do not apply).
create operator public.@< (leftarg = public.wrap, rightarg = public.wrap, function = public.wrap_lt);
create operator public.@<= (leftarg = public.wrap, rightarg = public.wrap, function = public.wrap_le);
create operator public.@= (leftarg = public.wrap, rightarg = public.wrap, function = public.wrap_eq);
create operator public.@>= (leftarg = public.wrap, rightarg = public.wrap, function = public.wrap_ge);
create operator public.@>> (leftarg = public.wrap, rightarg = public.wrap, function = public.wrap_gt);
create operator class public.wrap_ops default for type public.wrap using btree as
  operator 1 public.@<, operator 2 public.@<=, operator 3 public.@=, operator 4 public.@>=, operator 5 public.@>>,
  function 1 public.wrap_cmp(public.wrap, public.wrap);
create table wrapped (id int, w public.wrap);
insert into wrapped values (1, row('a')), (1, row('b')), (2, row('c'));
create domain public.wrap_d as public.wrap;
create table dwrapped (id int, d public.wrap_d);
insert into dwrapped values (1, row('a')), (1, row('b'));
create view wrapped_view as select id, w as shown from wrapped;

-- only a hash class, with a user hash function
create type public.hashy as (t text);
create function public.hashy_hash(h public.hashy) returns int language sql immutable as 'select 0';
create function public.hashy_eq(a public.hashy, b public.hashy) returns boolean language sql immutable as 'select (a).t = (b).t';
create operator public.@== (leftarg = public.hashy, rightarg = public.hashy, function = public.hashy_eq, hashes);
create operator class public.hashy_ops default for type public.hashy using hash as operator 1 public.@==, function 1 public.hashy_hash(public.hashy);
create table hashed (id int, h public.hashy);

-- a range whose subtype is compared by a class that is not the default one
create function public.text_cmp_pwn(a text, b text) returns int language plpgsql immutable as $$
  begin perform pg_catalog.set_config('application_name', 'pwned-by-range', false); return pg_catalog.bttextcmp(a, b); end $$;
create operator class public.text_pwn_ops for type text using btree as
  operator 1 pg_catalog.<, operator 2 pg_catalog.<=, operator 3 pg_catalog.=, operator 4 pg_catalog.>=, operator 5 pg_catalog.>,
  function 1 public.text_cmp_pwn(text, text);
create type public.trange as range (subtype = text, subtype_opclass = public.text_pwn_ops);

-- Off the search_path, so its = and min()/max() are not refused by the rules for operators and shadowed names.
create schema ext;
create extension citext schema ext;
create table people (id int, email ext.citext, name text);
insert into people values (1, 'a@x', 'Ada'), (2, 'b@x', 'Bob');
create table plain (id int, name text);
insert into plain values (1, 'x'), (1, 'y');
`;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let catalog: CatalogFacts;
let plain: CatalogFacts;
const PATH = (): CheckOptions => ({ searchPath: ['pg_catalog', 'public'], catalog });

beforeAll(async () => {
  await admin(async (c) => {
    await c.query(`create database ${database}`);
    await c.query(`create database ${plainDatabase}`);
  });
  for (const [db, schema, set] of [
    [database, SCHEMA, (f: CatalogFacts) => (catalog = f)],
    [plainDatabase, 'create table plain (id int, name text); create type public.pair as (a int, b text); create table pairs (p public.pair)', (f: CatalogFacts) => (plain = f)],
  ] as const) {
    const client = new pg.Client({ ...PG_ADMIN, database: db });
    await client.connect();
    try {
      await client.query(schema);
      set(await loadCatalog(client));
    } finally {
      await client.end();
    }
  }
}, 60_000);

afterAll(async () => {
  await admin(async (c) => {
    for (const db of [database, plainDatabase]) {
      await c.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [db]);
      await c.query(`drop database if exists ${db}`);
    }
  });
});

describe('the catalog facts', () => {
  it('list the types whose default btree or hash class is user code, what is built from them, and their columns', () => {
    expect(catalog.tracksClassTypes).toBe(true);
    const classes = catalog.classes;
    expect(classes.column('w')).toEqual({ schema: 'public', display: 'public.wrap', why: 'its default btree operator class runs user code (public.wrap_cmp)' });
    expect(classes.column('d')?.why).toBe('it is built from public.wrap, whose default btree operator class runs user code (public.wrap_cmp)');
    expect(classes.column('h')?.why).toBe('its default hash operator class runs user code (public.hashy_hash)');
    // Extension objects count as user code, as everywhere in the catalog facts.
    expect(classes.column('email')?.display).toBe('ext.citext');
    expect(classes.column('shown')?.display).toBe('public.wrap');
    expect(classes.column('id')).toBeUndefined();
    expect(classes.column('name')).toBeUndefined();
    for (const relation of ['wrapped', 'dwrapped', 'hashed', 'people', 'wrapped_view']) expect(classes.relation(relation), relation).toBeDefined();
    expect(classes.relation('plain')).toBeUndefined();
    expect(catalog.classType(['_wrap'], ['pg_catalog', 'public'], undefined)?.why).toMatch(/built from public\.wrap/);
    expect(catalog.classType(['public', 'trange'], [], undefined)?.why).toBe('its default btree operator class runs user code (public.text_cmp_pwn)');
    expect(catalog.classType(['wrap'], ['pg_catalog', 'elsewhere'], undefined)).toBeUndefined();
    expect(classes.example?.why).toMatch(/^its default/);
  });

  it('count a range whose bounds are compared by user code as a type whose input runs code', async () => {
    expect(await expectRefused("select '[a,b]'::trange", READ, PATH())).toBe(notAllowed('type public.trange (its input or range functions are user code)'));
  });

  it('are empty on a database without such a type, which then pays nothing', async () => {
    expect(plain.tracksClassTypes).toBe(false);
    expect(plain.classes.size).toBe(0);
    const o: CheckOptions = { searchPath: ['pg_catalog', 'public'], catalog: plain };
    for (const sql of ['select distinct * from pairs order by 1', 'select p from pairs group by p union select $1', 'select min(name) from plain']) {
      await expectAllowed(sql, READ, o);
    }
  });

  it('read the new part of the answer as the query writes it', () => {
    const text = JSON.stringify([
      [], [], [], [], [], [], [],
      [
        [10, 's', 'thing', 10, 'hash', 's.thing_hash', '', '', 0],
        [11, 's', '_thing', 10, 'hash', 's.thing_hash', '', '', 10],
        [12, 'app', 'items', 10, 'hash', 's.thing_hash', 'items', 'it', 10],
      ],
    ]);
    const facts = catalogFromText(text);
    expect(facts.tracksClassTypes).toBe(true);
    expect(facts.tracksTypedValues).toBe(false);
    expect(facts.classes.column('it')?.display).toBe('s.thing');
    expect(facts.classes.relation('items')?.display).toBe('app.items');
    expect(facts.classType(['thing'], ['pg_catalog', 's'], undefined)?.why).toBe('its default hash operator class runs user code (s.thing_hash)');
    expect(facts.classType(['_thing'], ['s'], undefined)?.why).toBe('it is built from s.thing, whose default hash operator class runs user code (s.thing_hash)');
  });
});

describe('statements that compare values of such a type through its class', () => {
  it('refuses each clause that compares, naming the clause, the value, the type and its code', async () => {
    expect(await expectRefused('select id from wrapped order by w', READ, PATH())).toBe(
      notAllowed(
        'ORDER BY here: it compares values of type public.wrap (column w), and its default btree operator class runs user code (public.wrap_cmp); ' +
          'sort by a value of a built-in type instead (a cast to text is one), or ask for a role with admin',
      ),
    );
    for (const [sql, clause] of [
      ['select distinct w from wrapped', 'DISTINCT'],
      ['select distinct on (w) id from wrapped', 'DISTINCT ON'],
      ['select w, count(*) from wrapped group by w', 'GROUP BY'],
      ['select count(*) from wrapped group by rollup (id, w)', 'GROUP BY'],
      ['select w from wrapped union select w from wrapped', 'UNION'],
      ['select w from wrapped intersect select w from wrapped', 'INTERSECT'],
      ['select id, w from wrapped except select 1, null', 'EXCEPT'],
      ['select row_number() over (partition by w) from wrapped', 'PARTITION BY'],
      ['select rank() over (order by w) from wrapped', 'a window ORDER BY'],
      ['select rank() over win from wrapped window win as (order by w)', 'a window ORDER BY'],
      ['select array_agg(id order by w) from wrapped', 'ORDER BY in array_agg()'],
      ['select count(distinct w) from wrapped', 'count(DISTINCT …)'],
      ['select mode() within group (order by w) from wrapped', 'mode() WITHIN GROUP'],
      ['select min(array[w]) from wrapped', 'min()'],
      ['select max(w) from wrapped', 'max()'],
      ['select array_position(array[w], w) from wrapped', 'array_position()'],
      ['select greatest(w, row($$z$$)::wrap) from wrapped', 'GREATEST'],
      ['select id from wrapped where w = w', 'operator ='],
      // PostgreSQL's own operators on rows and arrays compare each field and element through its class.
      ['select id from wrapped where array[w] = array[row($$a$$)::wrap]', 'operator ='],
      ['select id from wrapped where (id, w) < (1, row($$b$$)::wrap)', 'operator <'],
      ['select 1 from wrapped a, wrapped b where a = b', 'operator ='],
      ['select id from wrapped a where row(a.w) in (row(row($$a$$)::wrap))', 'IN (…)'],
      ['select id from wrapped where array[w] is distinct from null', 'IS DISTINCT FROM'],
      ['select id from wrapped where array[w] @> array[w]', 'operator @>'],
      ['select 1 from wrapped a join wrapped b on array[a.w] = array[b.w]', 'operator ='],
      ['select id from wrapped where array[w] = any (select array[w] from wrapped)', '= ANY (subquery)'],
      ['select id from wrapped where row(w) in (select row(w) from wrapped)', 'IN (subquery)'],
      ['select case array[w] when array[w] then 1 end from wrapped', 'CASE'],
      ['select nullif(array[w], array[w]) from wrapped', 'NULLIF'],
      ['select * from wrapped a natural join wrapped b', 'NATURAL JOIN'],
      ['select * from wrapped a join wrapped b using (w)', 'JOIN … USING'],
      ['select id from wrapped order by (id, w)', 'ORDER BY'],
      ['select id from wrapped order by wrapped', 'ORDER BY'],
      ['select id from wrapped x order by x', 'ORDER BY'],
      ['select id from wrapped x order by x.*', 'ORDER BY'],
      ['select distinct * from wrapped', 'DISTINCT'],
      ['select * from wrapped order by 2', 'ORDER BY'],
      ['select w from wrapped order by 1', 'ORDER BY'],
      ['select w as k from wrapped order by k', 'ORDER BY'],
      ['select k from (select w as k from wrapped) s order by k', 'ORDER BY'],
      ['with c(k) as (select w from wrapped) select k from c order by k', 'ORDER BY'],
      ['select k from (select w from wrapped) s(k) group by k', 'GROUP BY'],
      ['select unnest from (select unnest(array[w]) from wrapped) s order by unnest', 'ORDER BY'],
      ['select u from wrapped, unnest(array[w]) u order by u', 'ORDER BY'],
      ['select id from dwrapped order by d', 'ORDER BY'],
      ['select id from wrapped_view order by shown', 'ORDER BY'],
      ['select 1 from wrapped a join dwrapped b on a.w = b.d::wrap', 'operator ='],
      ["select distinct (select w from wrapped limit 1)", 'DISTINCT'],
      ['select id from people order by email', 'ORDER BY'],
      ['select email, count(*) from people group by 1', 'GROUP BY'],
      ['select distinct h from hashed', 'DISTINCT'],
      ['select id from wrapped order by w::wrap_d', 'ORDER BY'],
      ["select id from wrapped order by row('x')::wrap", 'ORDER BY'],
    ] as const) {
      const reason = await expectRefused(sql, READ, PATH());
      expect(reason, sql).toMatch(/^airlock: role "read" on orders-db does not allow /);
      expect(reason, sql).toMatch(new RegExp(`${escape(clause)} here: it compares values of type (public|ext)\\.`));
    }
  });

  it('refuses a parameter where the client may declare it of such a type', async () => {
    for (const sql of [
      'select $1 union select $2',
      'select distinct unnest($1)',
      'select id from wrapped order by $1',
      'select min($1)',
      'select 1 where $1 = $2',
    ]) {
      expect(await expectRefused(sql, READ, PATH()), sql).toMatch(/here: it compares values of type public\.\w+ \(a parameter, whose type the client may declare\)/);
    }
    // A function in FROM given a parameter may return rows of such a type: its whole-row value counts.
    expect(await expectRefused('select distinct x from unnest($1) x', READ, PATH())).toMatch(/DISTINCT here: it compares values of type public\.wrap \(the whole-row value x\)/);
    expect(await expectRefused('select s from (select $1 as x) s union select s from (select $2 as x) s', READ, PATH())).toMatch(/UNION here: .*\(the whole-row value s\)/);
  });

  it('still answers what does not compare such a value', async () => {
    for (const sql of [
      'select * from wrapped',
      'select id, w from wrapped',
      'select id from wrapped order by id',
      'select id, w from wrapped order by id',
      'select w from wrapped union all select w from wrapped',
      'select id from wrapped union select id from dwrapped',
      'select id from wrapped order by w::text',
      'select id, (w).t from wrapped order by (w).t',
      'select distinct to_jsonb(w) from wrapped',
      'select count(*), max(id) from wrapped group by id',
      'select id, row_number() over (partition by id order by (w).t) from wrapped',
      'select * from wrapped where id = $1 order by id',
      'select * from wrapped where id in (select id from dwrapped) and w is not null',
      'select id, email from people where id = $1 order by name',
      'select name from people union select name from plain',
      'select distinct name from people',
      'select * from plain order by 1, 2',
      'select distinct * from plain',
      'select x from (select name as x from plain) s order by x',
      'select id from plain group by 1 having count(*) > $1',
      "select 'a' union select 'b'",
      'select id, id = $1 from plain order by 2',
    ]) {
      await expectAllowed(sql, READ, PATH());
    }
  });
});

describe('the refusals are real', () => {
  /** Runs `sql` as the superuser in a read-only transaction; returns the application_name it left. */
  async function appNameAfter(sql: string): Promise<string> {
    const client = new pg.Client({ ...PG_ADMIN, database });
    await client.connect();
    try {
      await client.query('begin read only');
      await client.query(sql);
      return (await client.query<{ a: string }>("select current_setting('application_name') as a")).rows[0]!.a;
    } finally {
      await client.query('rollback');
      await client.end();
    }
  }

  it('PostgreSQL runs the class code for what is refused, and none for what is allowed', async () => {
    for (const sql of [
      'select id from wrapped order by w',
      'select distinct w from wrapped',
      'select w from wrapped group by w',
      'select w from wrapped union select w from wrapped',
      'select row_number() over (partition by w) from wrapped',
      'select id from wrapped order by (id, w)',
      'select id from wrapped order by wrapped',
      'select min(array[w]) from wrapped',
      'select id from dwrapped order by d',
      'select k from (select w as k from wrapped) s order by k',
      'select id from wrapped where array[w] = array[row($$a$$)::wrap]',
      'select 1 from wrapped a, wrapped b where a = b',
    ]) {
      await expectRefused(sql, READ, PATH());
      expect(await appNameAfter(sql), sql).toBe('pwned-by-sort');
    }
    await expectRefused("select '[a,b]'::trange", READ, PATH());
    expect(await appNameAfter("select '[a,b]'::trange")).toBe('pwned-by-range');
    for (const sql of ['select * from wrapped', 'select id from wrapped order by id', 'select w from wrapped union all select w from wrapped', 'select id from wrapped order by w::text']) {
      await expectAllowed(sql, READ, PATH());
      expect(await appNameAfter(sql), sql).not.toMatch(/pwned/);
    }
  });
});
