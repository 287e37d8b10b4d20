import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, type RawClient } from '../gateway/postgres/raw-client.js';
import { startAirlock, type Airlock, type Conn } from './support.js';
import * as w from './wire.js';

/**
 * PostgreSQL re-parses a prepared statement under the current search_path
 * when the path changed since it was prepared (PREPARE's documentation). A
 * read role may only clear its path (`set_config('search_path', '', …)`, as
 * pg_dump does), and a ROLLBACK or RESET brings the old path back without a
 * new check of the statements prepared meanwhile. That is safe only because
 * (1) the clear is allowed only while pg_catalog is searched first, so a
 * catalog name resolves to the same object under both paths, and (2) under
 * the cleared path an unqualified name that is not a catalog's is refused,
 * so nothing is prepared that the old path could resolve elsewhere
 * (set-config.ts, relations.ts `isCatalogOnlyPath`). These tests hold both.
 */

const LEAK = 'k_leaked_settings';
const SHADOWS = `
  create schema ops;
  create table ops.pg_settings (name text, setting text);
  insert into ops.pg_settings values ('x', '${LEAK}');
  create table public.pg_settings (name text, setting text);
  insert into public.pg_settings values ('x', '${LEAK}');
  create function ops.lower(text) returns text language sql as $$ select 'user code ran' $$;`;

async function send(c: RawClient, ...frames: Buffer[]) {
  c.socket.write(Buffer.concat(frames));
  return c.untilReady();
}

const text = (frames: { body: Buffer }[]) => Buffer.concat(frames.map((f) => f.body)).toString();

const RESTORES = [
  ['ROLLBACK', 'begin', "select set_config('search_path', '', true)", 'rollback'],
  ['RESET', null, "select set_config('search_path', '', false)", 'reset search_path'],
] as const;

describe('a path that puts a schema before pg_catalog', () => {
  let air: Airlock;
  let conn: Conn;
  beforeAll(async () => {
    air = await startAirlock({
      extraSchema: `${SHADOWS}
        do $$ begin execute format('alter database %I set search_path = ops, pg_catalog, public', current_database()); end $$;`,
    });
    conn = await air.grant('alice', 'read');
  }, 120_000);
  afterAll(async () => {
    await air?.stop();
  });

  it('may not be cleared, so nothing is prepared under a path where catalog names are not shadowed', async () => {
    const c = await air.raw(conn);
    try {
      for (const clear of ["select set_config('search_path', '', false)", "select pg_catalog.set_config('search_path', '', true)"]) {
        expect(errorOf(await send(c, w.query(clear)))?.message).toMatch(/does not allow function set_config\(\)/);
      }
      // On its own path the shadowing objects are what the names reach: refused.
      const read = await send(c, w.parse('s1', 'select setting from pg_settings'), w.bind('', 's1'), w.execute(''), w.sync());
      expect(text(read)).not.toContain(LEAK);
      expect(errorOf(read)).toBeDefined();
    } finally {
      c.socket.destroy();
    }
  });
});

describe('a path cleared and brought back', () => {
  let air: Airlock;
  let conn: Conn;
  beforeAll(async () => {
    air = await startAirlock({ extraSchema: SHADOWS });
    conn = await air.grant('alice', 'read');
  }, 120_000);
  afterAll(async () => {
    await air?.stop();
  });

  for (const [how, begin, clear, restore] of RESTORES) {
    it(`refuses to prepare an unqualified user name under the cleared path (${how})`, async () => {
      const c = await air.raw(conn);
      try {
        if (begin) expect(errorOf(await send(c, w.query(begin)))).toBeUndefined();
        expect(errorOf(await send(c, w.query(clear)))).toBeUndefined();
        expect(errorOf(await send(c, w.parse('s1', 'select status from orders'), w.sync()))).toBeDefined();
        expect(errorOf(await send(c, w.query('prepare p as select status from orders')))).toBeDefined();
        expect(errorOf(await send(c, w.query(restore)))).toBeUndefined();
        // Neither name holds a statement the gateway allowed: nothing to re-parse under the old path.
        expect(errorOf(await send(c, w.bind('', 's1'), w.execute(''), w.sync()))?.message).toMatch(/"s1"/);
        expect(errorOf(await send(c, w.query('execute p')))?.message).toMatch(/"p"/);
      } finally {
        c.socket.destroy();
      }
    });

    it(`runs a catalog name prepared under the cleared path as the catalog's own after ${how}`, async () => {
      const c = await air.raw(conn);
      try {
        if (begin) expect(errorOf(await send(c, w.query(begin)))).toBeUndefined();
        expect(errorOf(await send(c, w.query(clear)))).toBeUndefined();
        expect(errorOf(await send(c, w.parse('s2', "select setting from pg_settings where name = 'search_path'"), w.sync()))).toBeUndefined();
        expect(errorOf(await send(c, w.query(restore)))).toBeUndefined();
        const after = await send(c, w.bind('', 's2'), w.execute(''), w.sync());
        expect(errorOf(after)).toBeUndefined();
        expect(text(after)).not.toContain(LEAK);
        expect(text(after)).toContain('public');
      } finally {
        c.socket.destroy();
      }
    });
  }
});
