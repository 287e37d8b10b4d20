import { describe, expect, it } from 'vitest';
import type { SqlScope } from '../../../../src/gateway/postgres/backend.js';
import { isReadOnlyScope } from '../../../../src/gateway/postgres/sql/check.js';
import { ADMIN, DDL, READ, WRITE, check, expectAllowed, expectRefused, notAllowed } from './helpers.js';

describe('statement classes per role', () => {
  it('a write role can change data but not definitions or server state', async () => {
    for (const sql of [
      'INSERT INTO orders (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = excluded.id RETURNING *',
      'UPDATE orders SET status = $1 WHERE id = $2',
      'DELETE FROM orders WHERE id = 1',
      'MERGE INTO orders o USING staging s ON o.id = s.id WHEN MATCHED THEN UPDATE SET total = s.total WHEN NOT MATCHED THEN INSERT VALUES (s.id)',
      'SELECT * FROM orders FOR UPDATE SKIP LOCKED',
      'COPY orders FROM STDIN WITH (FORMAT csv)',
      'TRUNCATE orders',
      'BEGIN READ WRITE',
      'SET TRANSACTION READ WRITE',
      'WITH moved AS (DELETE FROM orders RETURNING *) INSERT INTO orders_archive SELECT * FROM moved',
      'EXPLAIN ANALYZE UPDATE orders SET total = total',
    ]) {
      await expectAllowed(sql, WRITE);
    }
    expect(await expectRefused('CREATE TABLE t (a int)', WRITE)).toBe(notAllowed('CREATE TABLE', WRITE));
    expect(await expectRefused('SELECT * INTO t2 FROM orders', WRITE)).toBe(notAllowed('SELECT INTO', WRITE));
    expect(await expectRefused('GRANT ALL ON orders TO public', WRITE)).toBe(notAllowed('GRANT', WRITE));
    expect(await expectRefused('SET ROLE postgres', WRITE)).toBe(notAllowed('SET role', WRITE));
  });

  it('a ddl role can define relations but not install code that runs later', async () => {
    for (const sql of [
      'CREATE TABLE t (id bigserial PRIMARY KEY, note text DEFAULT now()::text)',
      'ALTER TABLE orders ADD COLUMN x int',
      'CREATE INDEX CONCURRENTLY orders_x ON orders (x)',
      'DROP INDEX orders_x',
      'CREATE VIEW v AS SELECT id FROM orders',
      'CREATE MATERIALIZED VIEW mv AS SELECT id FROM orders',
      'CREATE SEQUENCE s',
      "COMMENT ON TABLE orders IS 'x'",
      'CREATE SCHEMA reporting',
      "CREATE TYPE mood AS ENUM ('a', 'b')",
      'ALTER TABLE orders RENAME TO orders_old',
    ]) {
      await expectAllowed(sql, DDL);
    }
    for (const [sql, what] of [
      ['CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$', 'CREATE FUNCTION'],
      ['CREATE TRIGGER t BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION f()', 'CREATE TRIGGER'],
      ['CREATE RULE r AS ON INSERT TO orders DO INSTEAD NOTHING', 'CREATE RULE'],
      ['CREATE EXTENSION dblink', 'CREATE EXTENSION'],
      ['DROP EXTENSION pgcrypto', 'DROP EXTENSION'],
      ['CREATE POLICY p ON orders USING (true)', 'CREATE POLICY'],
      ['ALTER FUNCTION f() SECURITY DEFINER', 'ALTER FUNCTION'],
      ['CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION f()', 'CREATE EVENT TRIGGER'],
      ['VACUUM FULL orders', 'VACUUM'],
    ] as const) {
      expect(await expectRefused(sql, DDL), sql).toBe(notAllowed(what, DDL));
    }
  });

  it('an unrestricted admin role can run anything that parses', async () => {
    for (const sql of ['DO $$ BEGIN END $$', 'CALL p()', 'VACUUM', 'ALTER SYSTEM SET work_mem = 1', 'SET ROLE postgres', 'RESET ALL', 'DISCARD ALL', "PREPARE TRANSACTION 'x'", 'PREPARE q AS SELECT 1', 'EXECUTE q', 'LISTEN x', "COPY orders TO '/tmp/x'", 'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$']) {
      await expectAllowed(sql, ADMIN);
    }
  });

  it('a role without read cannot SELECT, but can still manage its transactions', async () => {
    const writeOnly: SqlScope = { ...WRITE, role: 'ingest', allow: ['write'] };
    expect(await expectRefused('SELECT * FROM orders', writeOnly)).toBe(notAllowed('SELECT', writeOnly));
    await expectAllowed('BEGIN; INSERT INTO orders VALUES (1); COMMIT', writeOnly);
  });

  it('reports the classes a statement used', async () => {
    const d = await check('WITH d AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM d', WRITE);
    expect(d.allowed && [...(d.classes ?? [])].sort()).toEqual(['read', 'write']);
  });
});

describe('isReadOnlyScope', () => {
  it('is true only when every allowed class is read', () => {
    expect(isReadOnlyScope(READ)).toBe(true);
    expect(isReadOnlyScope(WRITE)).toBe(false);
    expect(isReadOnlyScope(ADMIN)).toBe(false);
    expect(isReadOnlyScope({ ...READ, allow: [] })).toBe(false);
  });
});
