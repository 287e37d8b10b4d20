import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import type { SqlLimits } from '../../../src/core/model.js';
import { sessionPinning } from '../../../src/gateway/mysql/upstream-target.js';
import { mysqlGatewayWorld } from './gateway-world.js';

/**
 * A role's limits, applied upstream on the real MariaDB: `max_statement_time`
 * (seconds) and `idle_transaction_timeout`, with the Postgres gateway's
 * defaults for read roles (300 s, 60 s); the session cannot lift them; a
 * statement text longer than `max_statement` is refused unread.
 */

const RESOURCE = 'orders-mysql';

describe('role limits on MariaDB', () => {
  const w = mysqlGatewayWorld();

  const connect = async (allow: ('read' | 'write')[], limits?: SqlLimits) => {
    const g = w.port.issue({ user: `u${Math.random().toString(36).slice(2, 8)}`, resource: RESOURCE, role: allow.join('+'), database: w.db.database, login: w.db.user, password: w.db.password, allow, limits });
    return mysql.createConnection({ ...w.gw.address(), user: g.user, password: g.secret, database: RESOURCE });
  };
  const settings = async (c: mysql.Connection) => {
    const [rows] = await c.query('SELECT @@max_statement_time AS statement, @@idle_transaction_timeout AS idle');
    return (rows as { statement: number; idle: number }[])[0];
  };

  it('a statement running past statement_timeout is stopped upstream (ERROR 1969); the session goes on', async () => {
    const c = await connect(['read'], { statementTimeoutSeconds: 0.3 });
    try {
      const started = Date.now();
      await expect(c.query('SELECT SLEEP(20)')).rejects.toMatchObject({ errno: 1969, message: expect.stringMatching(/max_statement_time exceeded/) });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await settings(c)).toEqual({ statement: 0.3, idle: 60 });
      const [rows] = await c.query('SELECT COUNT(*) AS n FROM orders');
      expect(rows).toEqual([{ n: 2 }]);
    } finally {
      await c.end();
    }
  });

  it('read roles get 300 s and 60 s by default; roles that write choose their own', async () => {
    const r = await connect(['read']);
    const rw = await connect(['read', 'write']);
    const wl = await connect(['read', 'write'], { statementTimeoutSeconds: 5, idleInTransactionTimeoutSeconds: 30 });
    try {
      expect(await settings(r)).toEqual({ statement: 300, idle: 60 });
      const [globals] = await w.db.root.query('SELECT @@global.max_statement_time AS statement, @@global.idle_transaction_timeout AS idle');
      expect(await settings(rw)).toEqual((globals as unknown[])[0]);
      expect(await settings(wl)).toEqual({ statement: 5, idle: 30 });
    } finally {
      await Promise.all([r.end(), rw.end(), wl.end()]);
    }
  });

  it('the session cannot lift its limits: SET of them needs admin', async () => {
    const c = await connect(['read', 'write'], { statementTimeoutSeconds: 5 });
    try {
      for (const sql of ['SET max_statement_time = 0', 'SET SESSION idle_transaction_timeout = 0', 'SET @@session.max_execution_time = 0', 'SET max_statement_time = 0, autocommit = 1']) {
        await expect(c.query(sql), sql).rejects.toMatchObject({ errno: 1142, message: expect.stringMatching(/does not allow SET (max_statement_time|idle_transaction_timeout|max_execution_time)/) });
      }
      expect(await settings(c)).toMatchObject({ statement: 5 });
    } finally {
      await c.end();
    }
  });

  it('a statement longer than max_statement is refused unread, text and prepared; shorter ones run', async () => {
    const c = await connect(['read'], { maxStatementBytes: 64 });
    try {
      const long = `SELECT id FROM orders WHERE item IN (${Array.from({ length: 20 }, (_, i) => `'i${i}'`).join(', ')})`;
      const message = `airlock: the statement is ${long.length} bytes, larger than the 64 bytes this role allows (limits.max_statement); it was not run`;
      await expect(c.query(long)).rejects.toMatchObject({ errno: 1142, message });
      await expect(c.execute(long)).rejects.toMatchObject({ errno: 1142, message });
      const [rows] = await c.execute('SELECT item FROM orders WHERE id = ?', [1]);
      expect(rows).toEqual([{ item: 'apple' }]);
    } finally {
      await c.end();
    }
  });

  it('on MySQL: max_execution_time in ms (it stops SELECTs only) and no idle transaction timeout, which MySQL lacks', () => {
    const limits = { statementTimeoutSeconds: 2.5, idleInTransactionTimeoutSeconds: 60 };
    expect(sessionPinning('utf8mb4', true, limits, '8.0.36')).toEqual([
      "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
      'SET NAMES utf8mb4',
      'SET SESSION TRANSACTION READ ONLY',
      'SET SESSION max_execution_time = 2500',
    ]);
    expect(sessionPinning('utf8mb4', false, limits, '10.11.19-MariaDB-0+deb12u1').slice(2)).toEqual(['SET SESSION max_statement_time = 2.5', 'SET SESSION idle_transaction_timeout = 60']);
  });
});
