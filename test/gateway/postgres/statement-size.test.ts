import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlScope } from '../../../src/gateway/postgres/backend.js';
import { CatalogFacts, checkSql, checkSqlNow, loadSqlParser, sqlDecisionCacheBytes } from '../../../src/gateway/postgres/sql/check.js';
import { Lru } from '../../../src/gateway/postgres/sql/lru.js';
import { DEFAULT_MEMO_BYTES, StatementCheck } from '../../../src/gateway/postgres/statement-check.js';
import { startHarness, type Harness } from './harness.js';

/**
 * One read session sending distinct multi-megabyte statements once grew the
 * process by each text (a 512-entry memo of any size) until V8 ran out of
 * heap and every session went down. Caches are bounded by bytes, and a
 * statement over the role's size limit is refused before it is parsed.
 */

const READ: SqlScope = { resource: 'orders-db', role: 'read', allow: ['read'] };
const upstream = { searchPath: ['pg_catalog', 'public'], catalog: CatalogFacts.NONE };

/** A distinct statement of about `bytes` bytes, cheap to parse: most of it is a comment. */
function bigStatement(i: number, bytes: number): string {
  const head = `select ${i} as n /* `;
  return `${head}${'x'.repeat(bytes - head.length - 3)} */`;
}

describe('statement memory is bounded by bytes', () => {
  beforeAll(() => loadSqlParser());

  it('keeps the session memo within its byte budget over 50 distinct 2 MB statements', async () => {
    // A stand-in classifier (parsing 100 MB of SQL would make this test slow): the memo is what is under test.
    const quoting = async (sql: string) => ({ allowed: false as const, reason: `airlock: refused ${sql.slice(0, 200)}` });
    const check = new StatementCheck(quoting, READ, upstream, undefined, { maxStatementBytes: 4 * 1024 * 1024 });
    for (let i = 0; i < 50; i++) {
      const decision = await check.decide(bigStatement(i, 2 * 1024 * 1024));
      expect(decision.allowed).toBe(false);
      expect(check.memoBytes).toBeLessThanOrEqual(DEFAULT_MEMO_BYTES);
    }
    // Before, the memo held every text: 50 × 2 MB.
    expect(check.memoBytes).toBeGreaterThan(0);
    // A long text is still remembered (by its hash): the second time costs no classification.
    const again = bigStatement(49, 2 * 1024 * 1024);
    let calls = 0;
    const counting = new StatementCheck(async (...a) => (calls++, checkSql(...a)), READ, upstream, undefined, { maxStatementBytes: 4 * 1024 * 1024 });
    await counting.decide(again);
    await counting.decide(again);
    expect(calls).toBe(1);
  });

  it('keeps the shared decision cache within its byte budget over many distinct mid-size statements', () => {
    const before = sqlDecisionCacheBytes();
    for (let i = 0; i < 800; i++) {
      // Just under the length the shared cache still keeps; distinct column names defeat the literal-shape cache.
      const text = `select 1 as c${i} /* ${'y'.repeat(16_000)} */`;
      checkSqlNow(text, READ, upstream);
    }
    // 800 × 16 KB texts, each held in an exact-text key and a shape key as UTF-16, would be ~50 MB; the budget is 40 MB for both.
    expect(sqlDecisionCacheBytes()).toBeLessThanOrEqual(40 * 1024 * 1024);
    expect(sqlDecisionCacheBytes()).toBeGreaterThan(before);
  });

  it('refuses a text over the limit with 54000, naming its size and the limit', async () => {
    let calls = 0;
    const check = new StatementCheck(async () => (calls++, { allowed: true, tags: [] }), READ, upstream, undefined, { maxStatementBytes: 1000 });
    const d = await check.decide('select 1 -- ' + 'é'.repeat(500));
    expect(d).toMatchObject({ allowed: false, sqlstate: '54000' });
    expect(!d.allowed && d.reason).toContain('1012 bytes');
    expect(!d.allowed && d.reason).toContain('1000 bytes');
    expect(check.now('select 1 -- ' + 'é'.repeat(400))).toBeNull();
    expect(calls).toBe(0);
  });
});

describe('Lru bounded by bytes', () => {
  it('evicts the oldest entries to stay within its bytes and never keeps an entry larger than the budget', () => {
    const lru = new Lru<string, string>(100, { maxBytes: 10, sizeOf: (_k, v) => v.length });
    lru.set('a', 'xxxx');
    lru.set('b', 'xxxx');
    expect(lru.get('a')).toBe('xxxx');
    lru.set('c', 'xxxx');
    expect(lru.get('b')).toBeUndefined();
    expect(lru.heldBytes).toBe(8);
    lru.set('huge', 'x'.repeat(11));
    expect(lru.get('huge')).toBeUndefined();
    lru.set('a', 'x');
    expect(lru.heldBytes).toBe(5);
  });
});

describe('maximum statement size through the gateway', () => {
  let h: Harness;
  let client: pg.Client;
  beforeAll(async () => {
    h = await startHarness();
    const alice = h.grant(['read']);
    client = new pg.Client({ host: '127.0.0.1', port: h.port, user: alice.user, password: alice.secret, database: h.resource });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await h?.close();
  });

  it('refuses a 2 MB statement by default, simple and extended, and the session carries on', async () => {
    const text = bigStatement(1, 2 * 1024 * 1024);
    const simple = await client.query(text).then(() => null, (e: pg.DatabaseError) => e);
    expect(simple?.code).toBe('54000');
    expect(simple?.message).toContain(`${2 * 1024 * 1024} bytes`);
    expect(simple?.message).toContain('1048576 bytes');
    const extended = await client.query({ text, values: [] }).then(() => null, (e: pg.DatabaseError) => e);
    expect(extended?.code).toBe('54000');
    expect((await client.query('select 1 as one')).rows[0].one).toBe(1);
    // Just under the limit still runs.
    const fits = bigStatement(2, 1024 * 1024 - 100);
    expect((await client.query(fits)).rows[0].n).toBe(2);
    const refused = h.backend.statements.filter((r) => r.outcome === 'refused');
    expect(refused.length).toBeGreaterThanOrEqual(2);
  });
});
