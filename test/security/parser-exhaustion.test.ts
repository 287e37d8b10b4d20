import { beforeAll, describe, expect, it } from 'vitest';
import type { SqlScope } from '../../src/gateway/postgres/backend.js';
import { CatalogFacts, checkSql, clearSqlDecisionCache, loadSqlParser, setOffThreadChecks } from '../../src/gateway/postgres/sql/check.js';
import { sqlParserRestarts } from '../../src/gateway/postgres/sql/parse.js';

/**
 * One session's statement must never change how another session's
 * statements are judged. A left-deep expression (`select 1+1+…`, ~40 KB)
 * faults the WASM parser; the instance is discarded and the spare promoted.
 * A few of them checked back to back used to leave no instance at all, and a
 * bystander's `select 42`, checked at that moment, was refused with "the SQL
 * checker is restarting; try again in a moment".
 */

const scope: SqlScope = { resource: 'orders-db', role: 'read', allow: ['read'] };
const opts = { searchPath: ['public'], catalog: CatalogFacts.NONE };
const bomb = (i: number) => `select 1${'+1'.repeat(20_000)}${' '.repeat(i)}`;

beforeAll(async () => {
  // The parser instances under test are this thread's: large texts would otherwise go to the classifier thread.
  setOffThreadChecks(false);
  await loadSqlParser();
});

describe('a statement built to fault the parser', () => {
  it('is refused, and does not refuse other sessions\' statements checked at the same moment', async () => {
    const before = sqlParserRestarts();
    for (const bombsFirst of [1, 2, 3, 4]) {
      clearSqlDecisionCache();
      const checks: Array<Promise<{ allowed: boolean }>> = [];
      for (let i = 0; i < bombsFirst; i++) checks.push(checkSql(bomb(i), scope, opts));
      const bystander = checkSql(`select ${42 + bombsFirst} as answer`, scope, opts);
      checks.push(checkSql(bomb(9), scope, opts));
      for (const r of await Promise.all(checks)) expect(r.allowed).toBe(false);
      expect(await bystander, `after ${bombsFirst} faults`).toMatchObject({ allowed: true });
    }
    // The scenario did fault the parser (otherwise this test proves nothing).
    expect(sqlParserRestarts()).toBeGreaterThan(before);
    expect((await checkSql('select 1', scope, opts)).allowed).toBe(true);
  });
});
