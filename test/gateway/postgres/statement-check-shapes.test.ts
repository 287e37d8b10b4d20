import { beforeAll, describe, expect, it } from 'vitest';
import type { SqlScope } from '../../../src/gateway/postgres/backend.js';
import { CatalogFacts, checkSql, checkSqlNow, loadSqlParser, type SqlDecision } from '../../../src/gateway/postgres/sql/check.js';
import { literalShape } from '../../../src/gateway/postgres/sql/literal-shape.js';
import { StatementCheck } from '../../../src/gateway/postgres/statement-check.js';

/**
 * pgbench -S and ORMs without parameters send the same query with other
 * numbers: the session remembers an allowed decision by the text's literal
 * shape, so each new number costs neither the classifier nor its
 * process-wide caches. Refusals stay per text.
 */

const READ: SqlScope = { resource: 'orders-db', role: 'read', allow: ['read'] };
const upstream = { searchPath: ['pg_catalog', 'public'], catalog: CatalogFacts.NONE };

function counting(shapeOf?: (sql: string) => string | null) {
  const asked: string[] = [];
  const now = (sql: string, scope: SqlScope, opts: Parameters<typeof checkSqlNow>[2]): SqlDecision | null => (asked.push(sql), checkSqlNow(sql, scope, opts));
  const later = (sql: string, scope: SqlScope, opts: Parameters<typeof checkSql>[2]) => (asked.push(sql), checkSql(sql, scope, opts));
  return { asked, check: new StatementCheck(later, READ, upstream, now, { shapeOf }) };
}

describe('session memo by literal shape', () => {
  beforeAll(() => loadSqlParser());

  it('asks the classifier once for a query sent with many numbers', async () => {
    const { asked, check } = counting(literalShape);
    for (let aid = 1; aid <= 50; aid++) expect(check.now(`SELECT abalance FROM pgbench_accounts WHERE aid = ${aid};`)).toMatchObject({ allowed: true });
    expect(await check.decide('SELECT abalance FROM pgbench_accounts WHERE aid = 77;')).toMatchObject({ allowed: true });
    expect(asked).toHaveLength(1);
    // Without shapes (an injected classifier) every text is asked.
    const plain = counting();
    for (let aid = 1; aid <= 5; aid++) plain.check.now(`SELECT abalance FROM pgbench_accounts WHERE aid = ${aid};`);
    expect(plain.asked).toHaveLength(5);
  });

  // decide(), not now(): the synchronous path declines once a burst has used its budget, and these texts are new to the parser.
  it('never answers a refused text by its shape, nor a text of another shape', async () => {
    const { asked, check } = counting(literalShape);
    expect(await check.decide('DELETE FROM pgbench_accounts WHERE aid = 1')).toMatchObject({ allowed: false });
    expect(await check.decide('DELETE FROM pgbench_accounts WHERE aid = 2')).toMatchObject({ allowed: false });
    expect(await check.decide('SELECT 1')).toMatchObject({ allowed: true });
    expect(await check.decide('SELECT 1; DELETE FROM pgbench_accounts WHERE aid = 1')).toMatchObject({ allowed: false });
    expect(await check.decide('SELECT 2 FROM pg_catalog.pg_authid')).toMatchObject({ allowed: false });
    expect(asked).toHaveLength(5);
  });

  it('forgets shapes when the search path changes, and keeps both memos within the session budget', async () => {
    const { asked, check } = counting(literalShape);
    await check.decide('SELECT 1 FROM orders WHERE id = 1');
    check.setSearchPath(['audit', 'public']);
    await check.decide('SELECT 1 FROM orders WHERE id = 2');
    expect(asked).toHaveLength(2);
    const small = new StatementCheck(checkSql, READ, upstream, checkSqlNow, { shapeOf: literalShape, memoBytes: 16 * 1024 });
    for (let i = 0; i < 300; i++) await small.decide(`SELECT ${i} AS c${i} FROM orders WHERE id = ${i}`);
    expect(small.memoBytes).toBeLessThanOrEqual(16 * 1024);
    expect(small.memoBytes).toBeGreaterThan(0);
  });
});
