import { beforeAll, describe, expect, it } from 'vitest';
import type { SqlScope } from '../../../../src/gateway/postgres/backend.js';
import { checkSqlSync, clearSqlDecisionCache, loadSqlParser, setOffThreadChecks } from '../../../../src/gateway/postgres/sql/check.js';
import { Lru } from '../../../../src/gateway/postgres/sql/lru.js';
import { sqlParserRestarts } from '../../../../src/gateway/postgres/sql/parse.js';
import { PUBLIC_PATH, READ, check, expectAllowed, expectRefused } from './helpers.js';

// The parser instances under test are this thread's: large texts would otherwise go to the classifier thread.
beforeAll(() => setOffThreadChecks(false));

describe('parsing', () => {
  it('refuses what PostgreSQL would not parse, quoting the parser', async () => {
    expect(await expectRefused('SELEC 1')).toBe('airlock: could not parse the statement: syntax error at or near "SELEC"');
    expect(await expectRefused('SELECT 1; DELETE FROM')).toMatch(/^airlock: could not parse the statement: syntax error at end of input/);
    await expectRefused("SELECT 'unterminated");
  });

  it('allows an empty query or one made only of comments, which PostgreSQL answers with EmptyQueryResponse', async () => {
    expect(await expectAllowed('')).toEqual([]);
    expect(await expectAllowed('   \n\t ')).toEqual([]);
    expect(await expectAllowed('-- nothing to see\n/* still nothing */')).toEqual([]);
    expect(await expectAllowed(';;')).toEqual([]);
  });

  it('parses extended-protocol text with $n placeholders', async () => {
    await expectAllowed('SELECT * FROM orders WHERE id = $1 AND status = ANY($2::text[]) LIMIT $3');
    await expectRefused('UPDATE orders SET status = $1 WHERE id = $2');
  });

  it('sees through comments, dollar quoting, escape strings and unicode identifiers', async () => {
    await expectAllowed("SELECT $$DELETE FROM orders$$, E'\\' ; DELETE FROM orders --', 'x' /* DROP TABLE */");
    await expectRefused('/* SELECT */ DELETE /* FROM */ FROM orders');
    await expectRefused("SELECT 1; DEL\u0045TE FROM orders");
    await expectRefused('SELECT * FROM U&"pay\\006dent_tokens"', { ...READ, denyTables: ['public.payment_tokens'] });
  });

  it('refuses a NUL byte, which would hide the rest of the text from the parser', async () => {
    expect(await expectRefused('SELECT 1\u0000; DELETE FROM orders')).toMatch(/NUL byte/);
  });

  it('refuses absurdly nested statements, and the next statement of any session is still checked', async () => {
    const shapes = [
      `SELECT ${'(SELECT '.repeat(3000)}1${')'.repeat(3000)}`,
      `SELECT ${Array.from({ length: 5000 }, () => '1').join('+')}`,
      `SELECT ${'(SELECT '.repeat(20000)}1${')'.repeat(20000)}`,
    ];
    for (const deep of shapes) {
      const d = await check(deep);
      expect(d.allowed).toBe(false);
      await expectAllowed('SELECT * FROM orders WHERE id = 1');
      await expectRefused('DELETE FROM orders');
    }
  });

  it('replaces a parser instance that overflowed its stack, and keeps working after many in a row', async () => {
    // Deep enough to overflow inside WASM, which leaves that instance corrupt.
    const deep = `SELECT ${Array.from({ length: 50_000 }, () => '1').join('+')}`;
    const before = sqlParserRestarts();
    for (let i = 0; i < 5; i++) {
      expect(await expectRefused(`${deep} -- ${i}`)).toBe('airlock: could not parse the statement: the statement is too complex to check');
      await expectAllowed(`SELECT ${i}`);
    }
    expect(sqlParserRestarts() - before).toBe(5);
    // Back-to-back failures with no spare ready: the synchronous path refuses, the async path waits.
    checkSqlSync(`${deep} -- a`, READ, PUBLIC_PATH);
    checkSqlSync(`${deep} -- b`, READ, PUBLIC_PATH);
    await expectAllowed('SELECT 42');
    await loadSqlParser();
    expect(checkSqlSync('SELECT 43', READ, PUBLIC_PATH).allowed).toBe(true);
  });

  it('checks texts too long to cache', async () => {
    const values = Array.from({ length: 3000 }, (_, i) => `(${i})`).join(',');
    await expectAllowed(`SELECT * FROM (VALUES ${values}) v(x)`);
    await expectRefused(`INSERT INTO orders VALUES ${values}`);
  });
});

describe('decision cache', () => {
  it('keys on scope content and search_path, not just the text', async () => {
    clearSqlDecisionCache();
    const sql = 'SELECT * FROM orders';
    const listed: SqlScope = { ...READ, tables: ['public.orders'] };
    await expectAllowed(sql, listed, { searchPath: ['public'] });
    await expectRefused(sql, listed, { searchPath: ['secret', 'public'] });
    await expectRefused(sql, { ...READ, tables: ['public.customers'] }, { searchPath: ['public'] });
    await expectAllowed(sql, { ...listed }, { searchPath: ['public'] });
  });

  it('answers a repeated statement quickly once the parser is loaded', async () => {
    await loadSqlParser();
    const sql = "SELECT date_trunc('day', created_at), count(*) FROM orders WHERE status = $1 GROUP BY 1";
    expect(checkSqlSync(sql, READ, PUBLIC_PATH).allowed).toBe(true);
    const n = 20_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) checkSqlSync(sql, READ, PUBLIC_PATH);
    const perCallUs = Number(process.hrtime.bigint() - start) / 1000 / n;
    // A cache hit is a Map lookup; 20µs leaves room for slow CI machines.
    expect(perCallUs).toBeLessThan(20);
  });
});

describe('Lru', () => {
  it('evicts the least recently used entry when full', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    expect(lru.size).toBe(2);
  });

  it('updates in place without evicting', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('a', 10);
    expect(lru.get('a')).toBe(10);
    expect(lru.get('b')).toBe(2);
  });

  it('rejects a capacity below one', () => {
    expect(() => new Lru<string, number>(0)).toThrow(RangeError);
  });
});
