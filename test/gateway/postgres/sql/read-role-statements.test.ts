import { describe, expect, it } from 'vitest';
import { expectAllowed, expectRefused, notAllowed } from './helpers.js';

describe('a read role cannot change data through any statement form', () => {
  it.each([
    ['DELETE FROM orders', 'DELETE'],
    ['UPDATE orders SET status = 1', 'UPDATE'],
    ['INSERT INTO orders VALUES (1)', 'INSERT'],
    ['MERGE INTO orders o USING staging s ON o.id = s.id WHEN MATCHED THEN DELETE', 'MERGE'],
    ['TRUNCATE orders', 'TRUNCATE'],
    ['LOCK TABLE orders IN ACCESS EXCLUSIVE MODE', 'LOCK'],
    ['NOTIFY jobs', 'NOTIFY'],
  ])('refuses %s', async (sql, verb) => {
    expect(await expectRefused(sql)).toBe(notAllowed(verb));
  });

  it('refuses a multi-statement string when any part is refused', async () => {
    expect(await expectRefused('SELECT 1; DELETE FROM orders; SELECT 2')).toBe(notAllowed('DELETE'));
  });

  it('refuses a write hidden after a comment and a string that looks like a terminator', async () => {
    expect(await expectRefused("SELECT ';' -- ; \n; /* ; */ DELETE FROM orders")).toBe(notAllowed('DELETE'));
  });

  it('cannot delete through a writable CTE', async () => {
    expect(await expectRefused('WITH x AS (DELETE FROM orders RETURNING *) SELECT * FROM x')).toBe(notAllowed('DELETE'));
  });

  it('cannot update through a CTE nested in a subquery', async () => {
    const sql = 'SELECT * FROM (WITH u AS (UPDATE orders SET a = 1 RETURNING id) SELECT * FROM u) s';
    expect(await expectRefused(sql)).toBe(notAllowed('UPDATE'));
  });

  it('cannot create a table with SELECT INTO', async () => {
    expect(await expectRefused('SELECT * INTO stolen FROM orders')).toBe(notAllowed('SELECT INTO'));
  });

  it.each([
    ['FOR UPDATE', 'SELECT FOR UPDATE'],
    ['FOR NO KEY UPDATE', 'SELECT FOR NO KEY UPDATE'],
    ['FOR SHARE', 'SELECT FOR SHARE'],
    ['FOR KEY SHARE', 'SELECT FOR KEY SHARE'],
  ])('cannot lock rows with %s', async (clause, verb) => {
    expect(await expectRefused(`SELECT * FROM orders ${clause}`)).toBe(notAllowed(verb));
  });

  it('cannot lock rows from inside a subquery or a UNION arm', async () => {
    await expectRefused('SELECT * FROM (SELECT * FROM orders FOR UPDATE) s');
    await expectRefused('SELECT 1 UNION ALL (SELECT 1 FROM orders FOR SHARE)');
    await expectRefused('SELECT EXISTS (SELECT 1 FROM orders FOR UPDATE SKIP LOCKED)');
  });

  describe('COPY', () => {
    it('may copy a table or a query out to the client', async () => {
      await expectAllowed('COPY orders TO STDOUT');
      await expectAllowed('COPY (SELECT id FROM orders) TO STDOUT WITH (FORMAT csv)');
    });
    it('cannot copy into a table', async () => {
      expect(await expectRefused('COPY orders FROM STDIN')).toBe(notAllowed('COPY FROM'));
    });
    it('cannot copy out a query that writes', async () => {
      expect(await expectRefused('COPY (DELETE FROM orders RETURNING *) TO STDOUT')).toBe(notAllowed('DELETE'));
    });
    it('cannot write a server file or run a program', async () => {
      expect(await expectRefused("COPY orders TO '/tmp/x'")).toBe(notAllowed('COPY TO a server file'));
      expect(await expectRefused("COPY orders FROM PROGRAM 'id'")).toBe(notAllowed('COPY FROM PROGRAM'));
      expect(await expectRefused("COPY (SELECT 1) TO PROGRAM 'sh'")).toBe(notAllowed('COPY TO PROGRAM'));
    });
  });

  it('cannot run code with DO or CALL', async () => {
    expect(await expectRefused('DO $$ BEGIN DELETE FROM orders; END $$')).toBe(notAllowed('DO'));
    expect(await expectRefused('CALL archive_orders()')).toBe(notAllowed('CALL'));
  });

  it('checks a SQL-level PREPARE as the statement it prepares, and EXECUTE\'s arguments as expressions (the relay tracks the names)', async () => {
    expect(await expectAllowed('PREPARE p AS SELECT * FROM orders WHERE id = $1')).toEqual(['PREPARE']);
    expect(await expectRefused('PREPARE p AS DELETE FROM orders')).toBe(notAllowed('DELETE'));
    expect(await expectAllowed('EXECUTE p(1)')).toEqual(['EXECUTE']);
    expect(await expectRefused("EXECUTE p(pg_catalog.pg_read_file('/etc/hostname'))")).toContain('pg_read_file');
    await expectAllowed('DEALLOCATE ALL');
  });

  describe('EXPLAIN', () => {
    it('may explain and explain-analyze a read', async () => {
      expect(await expectAllowed('EXPLAIN SELECT * FROM orders')).toEqual(['EXPLAIN']);
      await expectAllowed('EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT count(*) FROM orders');
    });
    it('cannot explain-analyze a write, which runs it', async () => {
      expect(await expectRefused('EXPLAIN ANALYZE DELETE FROM orders')).toBe(notAllowed('DELETE'));
      await expectRefused('EXPLAIN (ANALYZE) WITH d AS (DELETE FROM orders RETURNING 1) SELECT * FROM d');
    });
    it('judges an explained statement as if it ran, since planning can run functions', async () => {
      await expectRefused('EXPLAIN DELETE FROM orders');
      await expectRefused("EXPLAIN SELECT set_config('role', 'postgres', false)");
    });
  });

  describe('transaction and session modes', () => {
    it.each(['BEGIN', 'BEGIN READ ONLY', 'START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY', 'COMMIT', 'ROLLBACK', 'SAVEPOINT a', 'RELEASE SAVEPOINT a', 'ROLLBACK TO SAVEPOINT a', 'COMMIT AND CHAIN', 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ', 'SET TRANSACTION READ ONLY', 'END', 'ABORT'])(
      'may run %s',
      async (sql) => {
        await expectAllowed(sql);
      },
    );

    it.each([
      ['BEGIN READ WRITE', 'BEGIN READ WRITE'],
      ['START TRANSACTION READ WRITE', 'START TRANSACTION READ WRITE'],
      ['BEGIN ISOLATION LEVEL SERIALIZABLE, READ WRITE', 'BEGIN READ WRITE'],
      ['SET TRANSACTION READ WRITE', 'SET TRANSACTION READ WRITE'],
      ['SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE', 'SET SESSION CHARACTERISTICS'],
      ['SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY', 'SET SESSION CHARACTERISTICS'],
      ['SET default_transaction_read_only = off', 'SET default_transaction_read_only'],
      ['SET LOCAL transaction_read_only TO off', 'SET transaction_read_only'],
      ['SET ROLE postgres', 'SET role'],
      ['RESET ROLE', 'RESET role'],
      ['SET SESSION AUTHORIZATION postgres', 'SET session_authorization'],
      ['RESET ALL', 'RESET ALL'],
      ['DISCARD ALL', 'DISCARD ALL'],
      ['SET session_replication_role = replica', 'SET session_replication_role'],
      ['SET statement_timeout = 0', 'SET statement_timeout'],
      ['SET standard_conforming_strings = off', 'SET standard_conforming_strings'],
      ["SET NAMES 'SQL_ASCII'", 'SET client_encoding'],
      ["PREPARE TRANSACTION 'x'", 'PREPARE TRANSACTION'],
      ["COMMIT PREPARED 'x'", 'COMMIT PREPARED'],
      ['LISTEN payments', 'LISTEN'],
      // Row-level security policies often key on a custom setting; setting it would change which rows are visible.
      ["SET app.tenant_id = '42'", 'SET app.tenant_id'],
      // (row_security = off is allowed: it makes a query that policies would filter fail instead; tool-sessions.test.ts)
      ['SET work_mem = \'64GB\'', 'SET work_mem'],
    ])('refuses %s', async (sql, what) => {
      expect(await expectRefused(sql)).toBe(notAllowed(what));
    });

    // RESET search_path and SET search_path TO DEFAULT go back to the path the session started with (tool-sessions.test.ts).
    it.each(['SET search_path = attacker, public', 'SET LOCAL search_path TO x', 'SET SESSION search_path = attacker'])(
      'refuses the search_path change %s',
      async (sql) => {
        expect(await expectRefused(sql)).toBe(notAllowed('changing search_path'));
      },
    );

    it.each(["SET application_name = 'psql'", 'SET extra_float_digits = 3', "SET TIME ZONE 'UTC'", 'SET DateStyle = ISO', 'RESET application_name', "SET LOCAL timezone = 'Europe/Paris'", 'SHOW transaction_read_only', 'SHOW ALL', 'DISCARD PLANS', 'UNLISTEN *', 'DECLARE c CURSOR WITH HOLD FOR SELECT * FROM orders', 'FETCH 10 FROM c', 'MOVE NEXT IN c', 'CLOSE c'])(
      'may run the harmless session statement %s',
      async (sql) => {
        await expectAllowed(sql);
      },
    );

    it('cannot declare a cursor over a write or a locking read', async () => {
      await expectRefused('DECLARE c CURSOR FOR SELECT * FROM orders FOR UPDATE');
    });
  });

  it('cannot run definition or administration statements', async () => {
    for (const [sql, what] of [
      ['CREATE TABLE t (a int)', 'CREATE TABLE'],
      ['DROP TABLE orders', 'DROP TABLE'],
      ['ALTER TABLE orders ADD COLUMN x int', 'ALTER TABLE'],
      ['CREATE INDEX ON orders (id)', 'CREATE INDEX'],
      ['GRANT SELECT ON orders TO public', 'GRANT'],
      ['ALTER SYSTEM SET fsync = off', 'ALTER SYSTEM'],
      ['VACUUM orders', 'VACUUM'],
      ['ANALYZE orders', 'ANALYZE'],
      ['CHECKPOINT', 'CHECKPOINT'],
      ['CREATE ROLE evil SUPERUSER', 'CREATE ROLE'],
      ["LOAD 'auto_explain'", 'LOAD'],
      ['REFRESH MATERIALIZED VIEW mv', 'REFRESH MATERIALIZED VIEW'],
      ['CREATE TABLE s AS SELECT * FROM orders', 'CREATE TABLE AS'],
    ] as const) {
      expect(await expectRefused(sql)).toBe(notAllowed(what));
    }
  });
});
