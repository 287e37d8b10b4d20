import { describe, expect, it } from 'vitest';
import { checkMysql, clearMysqlDecisionCache } from '../../../../src/gateway/mysql/sql/check.js';
import { lexMysql } from '../../../../src/gateway/mysql/sql/lexer.js';
import type { SqlScope } from '../../../../src/gateway/mysql/sql/scope.js';
import { statementShape } from '../../../../src/gateway/mysql/sql/shape.js';

const shapeOf = (sql: string) => {
  const lexed = lexMysql(sql);
  if (!lexed.ok) throw new Error(lexed.reason);
  return statementShape(lexed.normalized);
};

const readOrders: SqlScope = { resource: 'orders-mysql', role: 'read', allow: ['read'], denyTables: ['secrets'] };
const onlyOrders: SqlScope = { resource: 'orders-mysql', role: 'analyst', allow: ['read'], tables: ['shop.orders'] };
const write: SqlScope = { resource: 'orders-mysql', role: 'write', allow: ['read', 'write'], denyTables: ['secrets'] };

describe('statement shapes: one parse per shape, never a looser decision', () => {
  it('plain literals become placeholders; glued ones, names and non-data statements are kept', () => {
    expect(shapeOf('SELECT c FROM sbtest1 WHERE id = 42')).toBe('SELECT c FROM sbtest1 WHERE id = ?');
    expect(shapeOf("SELECT * FROM t WHERE a = 'x\\'y' AND b = \"z\" AND c = 1.5 LIMIT 10")).toBe('SELECT * FROM t WHERE a = ? AND b = ? AND c = ? LIMIT ?');
    expect(shapeOf("SELECT `1` FROM t1 WHERE x = 0x1F AND y = 1e5 AND z = _latin1'a' AND w = x'41' AND v = 2")).toBe(
      "SELECT `1` FROM t1 WHERE x = 0x1F AND y = 1e5 AND z = _latin1'a' AND w = x'41' AND v = ?",
    );
    expect(shapeOf('SELECT * FROM 9lives WHERE a = 1')).toBe('SELECT * FROM 9lives WHERE a = ?');
    expect(shapeOf('SELECT @v1, t.c2 FROM t')).toBeNull();
    expect(shapeOf("SET NAMES 'latin1'")).toBeNull();
    expect(shapeOf("SET sql_mode = 'ANSI_QUOTES'")).toBeNull();
    expect(shapeOf('USE shop')).toBeNull();
    expect(shapeOf('(SELECT 1) UNION (SELECT 2)')).toBe('(SELECT ?) UNION (SELECT ?)');
  });

  it('a text judged through its shape gets the decision it gets alone (allowed or not)', async () => {
    const texts = [
      'SELECT c FROM orders WHERE id = 7',
      'SELECT c FROM secrets WHERE id = 7',
      "SELECT 'a\\' FROM secrets -- ' FROM orders",
      "SELECT 'a\\\\' , (SELECT value FROM secrets) -- '",
      'SELECT id --1 FROM secrets',
      'SELECT id -- 1 FROM secrets\n FROM orders',
      "SELECT * FROM orders INTO OUTFILE '/tmp/x'",
      "SELECT * FROM orders INTO DUMPFILE '/tmp/x'",
      "SELECT LOAD_FILE('/etc/passwd')",
      "SELECT GET_LOCK('deploy', 10)",
      'SELECT SLEEP(1) FROM orders',
      "SELECT 'a' 'b' FROM orders",
      "SELECT _latin1'a' FROM orders",
      'SELECT 1 FROM orders WHERE id = 1 FOR UPDATE',
      "UPDATE orders SET item = 'x' WHERE id = 1",
      "INSERT INTO orders VALUES (1, 'x', 2)",
      "INSERT INTO secrets VALUES (1, 'x')",
      'DELETE FROM orders WHERE id = 3',
      "WITH s AS (SELECT value FROM secrets WHERE id = 1) SELECT * FROM s",
      'SELECT * FROM orders WHERE id IN (1, 2, 3) ORDER BY 1 LIMIT 5',
      'SELECT * FROM shop.orders WHERE id = 1',
      'SELECT * FROM other.orders WHERE id = 1',
      "SELECT * FROM orders WHERE created > DATE '2024-01-01' AND created < NOW() - INTERVAL 1 DAY",
      "SELECT * FROM orders WHERE item COLLATE 'utf8mb4_bin' = 'x'",
    ];
    for (const scope of [readOrders, onlyOrders, write]) {
      clearMysqlDecisionCache();
      const alone = await Promise.all(texts.map((t) => checkMysql(t, scope, { database: 'shop', byShape: false })));
      clearMysqlDecisionCache();
      // Twice: the second pass is served from the shape cache the first one filled.
      for (let pass = 0; pass < 2; pass++) {
        for (const [i, t] of texts.entries()) {
          const d = await checkMysql(t, scope, { database: 'shop' });
          expect(d.allowed, `${scope.role}: ${t}`).toBe(alone[i]!.allowed);
          if (!d.allowed && !alone[i]!.allowed) expect(d.reason, t).toBe(alone[i]!.reason);
        }
      }
    }
  });

  it('a shape allowed for one role is not reused for another, nor for another database', async () => {
    clearMysqlDecisionCache();
    expect(await checkMysql('UPDATE orders SET item = 1 WHERE id = 1', write, { database: 'shop' })).toMatchObject({ allowed: true });
    expect(await checkMysql('UPDATE orders SET item = 2 WHERE id = 2', readOrders, { database: 'shop' })).toMatchObject({ allowed: false });
    expect(await checkMysql('SELECT * FROM orders WHERE id = 1', onlyOrders, { database: 'shop' })).toMatchObject({ allowed: true });
    expect(await checkMysql('SELECT * FROM orders WHERE id = 2', onlyOrders, { database: 'other' })).toMatchObject({ allowed: false });
  });
});
