import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMysql, loadMysqlParser, type MysqlDecision } from '../../../../src/gateway/mysql/sql/check.js';
import type { SqlScope } from '../../../../src/gateway/mysql/sql/scope.js';
import { viewCatalog, type ViewCatalog } from '../../../../src/gateway/mysql/sql/views.js';
import { scratchDatabase, type Scratch } from '../mariadb-fixture.js';

const db = { database: 'shop' };
const read: SqlScope = { resource: 'orders-mysql', role: 'read', allow: ['read'] };
const readOrders: SqlScope = { resource: 'orders-mysql', role: 'read', allow: ['read'], denyTables: ['secrets', 'shop.audit_*'] };
const onlyOrders: SqlScope = { resource: 'orders-mysql', role: 'analyst', allow: ['read'], tables: ['shop.orders', 'shop.items'] };
const write: SqlScope = { resource: 'orders-mysql', role: 'write', allow: ['read', 'write'], denyTables: ['secrets'] };
const admin: SqlScope = { resource: 'orders-mysql', role: 'admin', allow: ['read', 'write', 'ddl', 'admin'] };

const decide = (sql: string, scope: SqlScope): Promise<MysqlDecision> => checkMysql(sql, scope, db);
const allowed = async (sql: string, scope: SqlScope) => expect(await decide(sql, scope), sql).toMatchObject({ allowed: true });
const refused = async (sql: string, scope: SqlScope, reason: RegExp | string) => {
  const d = await decide(sql, scope);
  expect(d.allowed, sql).toBe(false);
  if (!d.allowed) expect(d.reason).toMatch(reason);
};

describe('MySQL policy: the role model', () => {
  it('a read role reads and is refused writes with the message clients show after ERROR 1142', async () => {
    await allowed('SELECT * FROM orders WHERE id = 1', read);
    await allowed('SELECT o.item, COUNT(*) FROM orders o JOIN items i ON i.order_id = o.id GROUP BY o.item, i.sku ORDER BY 2', read);
    await allowed('SHOW TABLES', read);
    await allowed('DESCRIBE orders', read);
    await allowed('SELECT NOW(), CONCAT(item, "x"), JSON_EXTRACT(doc, "$.a") FROM orders', read);
    expect(await decide('DELETE FROM orders', read)).toEqual({
      allowed: false,
      denied: 'command',
      reason: 'airlock: role "read" on orders-mysql does not allow DELETE',
    });
    await refused('UPDATE orders SET amount = 0', read, /does not allow UPDATE$/);
    await refused('INSERT INTO orders VALUES (3, "x", 1)', read, /does not allow INSERT$/);
    await refused('REPLACE INTO orders VALUES (3, "x", 1)', read, /does not allow REPLACE$/);
    await refused('TRUNCATE orders', read, /TRUNCATE/);
    await refused('CREATE TABLE t (a INT)', read, /CREATE TABLE/);
    await refused('DROP TABLE orders', read, /DROP/);
    await refused('GRANT ALL ON *.* TO x', read, /GRANT/);
  });

  it('a write role writes, ddl and admin stay refused', async () => {
    await allowed('UPDATE orders SET amount = amount + 1 WHERE id = 2', write);
    await allowed('INSERT INTO orders (id, item) VALUES (9, "fig") ON DUPLICATE KEY UPDATE item = VALUES(item)', write);
    await allowed('DELETE FROM orders WHERE id IN (SELECT order_id FROM items)', write);
    await refused('ALTER TABLE orders ADD COLUMN x INT', write, /ALTER TABLE/);
    await allowed('ALTER TABLE orders ADD COLUMN x INT', admin);
  });

  it('table deny patterns hold through joins, subqueries, CTEs, unions, derived tables and EXISTS', async () => {
    for (const sql of [
      'SELECT * FROM secrets',
      'SELECT * FROM shop.secrets',
      'SELECT * FROM SECRETS',
      'SELECT * FROM `secrets`',
      'SELECT * FROM orders JOIN secrets ON 1',
      'SELECT * FROM orders WHERE id IN (SELECT id FROM secrets)',
      'SELECT * FROM orders WHERE EXISTS (SELECT 1 FROM secrets s WHERE s.id = orders.id)',
      'SELECT (SELECT value FROM secrets LIMIT 1)',
      'SELECT * FROM (SELECT * FROM secrets) d',
      'SELECT id FROM orders UNION SELECT id FROM secrets',
      'WITH x AS (SELECT * FROM secrets) SELECT * FROM x',
      'SELECT * FROM audit_log',
      'SELECT * FROM shop.audit_2024',
      'DESCRIBE secrets',
      'SHOW COLUMNS FROM secrets',
      'SHOW CREATE TABLE secrets',
      'EXPLAIN SELECT * FROM secrets',
    ]) {
      const d = await decide(sql, readOrders);
      expect(d, sql).toMatchObject({ allowed: false });
      if (!d.allowed) expect(d.reason, sql).toMatch(/table (shop\.(secrets|SECRETS|audit_log|audit_2024))$/);
    }
    await refused('UPDATE orders o JOIN secrets s ON s.id = o.id SET o.item = s.value', write, /table shop\.secrets/);
    await refused('INSERT INTO orders (id, item) SELECT id, value FROM secrets', write, /table shop\.secrets/);
  });

  it('a CTE named like a table hides it only where it is in scope', async () => {
    await allowed('WITH secrets AS (SELECT 1 AS a) SELECT * FROM secrets', readOrders);
    await refused('SELECT * FROM secrets WHERE 1 IN (WITH secrets AS (SELECT 1) SELECT * FROM secrets)', readOrders, /table shop\.secrets/);
    await refused('WITH a AS (SELECT * FROM secrets), secrets AS (SELECT 1) SELECT * FROM a', readOrders, /table shop\.secrets/);
  });

  it('an allow list admits only the tables it names, and no other database', async () => {
    await allowed('SELECT * FROM orders o JOIN items i ON i.order_id = o.id', onlyOrders);
    await refused('SELECT * FROM customers', onlyOrders, /table shop\.customers/);
    await refused('SELECT * FROM other.orders', onlyOrders, /table other\.orders/);
    await allowed('SELECT table_name FROM information_schema.tables', onlyOrders);
    await refused('SELECT info FROM information_schema.PROCESSLIST', onlyOrders, /PROCESSLIST/);
  });

  it('the server schemas (mysql, performance_schema, sys) are for admin roles', async () => {
    await refused('SELECT authentication_string FROM mysql.user', read, /table mysql\.user/);
    await refused('SELECT * FROM performance_schema.threads', read, /performance_schema/);
    await allowed('SELECT * FROM information_schema.columns WHERE table_name = "orders"', read);
    await allowed('SELECT user FROM mysql.user', admin);
  });

  it('functions: built-ins by class; stored, user and file-reading functions refused', async () => {
    await refused('SELECT LOAD_FILE("/etc/passwd")', read, /function LOAD_FILE\(\)/);
    await refused('SELECT shop.discount(amount) FROM orders', read, /function shop\.discount\(\)/);
    await refused('SELECT my_udf(1)', read, /function my_udf\(\)/);
    await refused('SELECT BENCHMARK(100000000, MD5("x"))', read, /BENCHMARK/);
    await refused('SELECT GET_LOCK("deploy", 10)', read, /function GET_LOCK\(\)/);
    await refused('SELECT NEXTVAL(seq)', read, /NEXTVAL/);
    await allowed('SELECT GET_LOCK("deploy", 10)', write);
    await refused('CALL cleanup()', read, /CALL/);
    await refused('CALL cleanup()', { ...admin, denyTables: ['secrets'] }, /with table restrictions/);
    await allowed('CALL cleanup()', admin);
  });
});

describe('MySQL policy: the traps of the dialect', () => {
  it('executable comments /*! */ and /*M! */ and optimizer hints are refused to every role', async () => {
    for (const sql of ['SELECT 1 /*! , (SELECT value FROM secrets) */', 'SELECT 1 /*!50000 FROM secrets */', 'SELECT 1 /*M! , 2 */', 'SELECT /*+ SET_VAR(sql_mode="ANSI_QUOTES") */ 1']) {
      await refused(sql, admin, /executable comments|optimizer hints/);
    }
    await allowed('SELECT 1 /* an ordinary comment FROM secrets */', readOrders);
    await allowed('SELECT "/*! not a comment */" FROM orders', readOrders);
  });

  it('--x is not a comment: what follows it is seen', async () => {
    await refused('SELECT id --id FROM secrets', readOrders, /table shop\.secrets/);
    await allowed('SELECT id -- FROM secrets\n FROM orders', readOrders);
    await allowed('SELECT id # FROM secrets\n FROM orders', readOrders);
  });

  it("backslash escapes: 'a\\'' is one string, as the server reads it", async () => {
    await allowed("SELECT * FROM orders WHERE item = 'it\\'s' AND id = 1", readOrders);
    await allowed("SELECT 'a\\' FROM secrets -- ' FROM orders", readOrders);
    await refused("SELECT 'a\\\\' , (SELECT value FROM secrets) -- '", readOrders, /table shop\.secrets/);
    await refused('SELECT "a\\" FROM secrets', readOrders, /ends inside a string/);
  });

  it('one statement per query: multi-statement texts are refused', async () => {
    await refused('SELECT 1; DELETE FROM orders', write, /more than one statement/);
    await refused("SELECT 'a;b'; SELECT 2", read, /more than one statement/);
    await allowed('SELECT 1;', read);
    await allowed("SELECT 'a;b' -- ; DROP TABLE orders", read);
  });

  it('file access: LOAD DATA, INTO OUTFILE/DUMPFILE, HANDLER and DO are refused', async () => {
    for (const sql of [
      "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE orders",
      "LOAD DATA INFILE '/etc/passwd' INTO TABLE orders",
      "SELECT * FROM orders INTO OUTFILE '/tmp/x'",
      "SELECT * FROM orders INTO DUMPFILE '/tmp/x'",
      'HANDLER orders OPEN',
      'HANDLER secrets READ FIRST',
      'DO SLEEP(1)',
    ]) {
      const d = await decide(sql, admin);
      expect(d.allowed, sql).toBe(false);
    }
  });

  it('LOCK TABLES needs write and the tables in scope; UNLOCK TABLES is always allowed', async () => {
    await refused('LOCK TABLES orders READ', read, /LOCK TABLES/);
    await allowed('LOCK TABLES orders WRITE', write);
    await refused('LOCK TABLES secrets READ', write, /table shop\.secrets/);
    await allowed('UNLOCK TABLES', read);
  });

  it('SET: sql_mode and the client character set are pinned; global variables are admin; user variables are free', async () => {
    for (const sql of ["SET sql_mode = 'ANSI_QUOTES'", "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'", "SET @@sql_mode = 'IGNORE_SPACE'", "SET @@session.sql_mode = 'PIPES_AS_CONCAT'", "SET @a = 1, sql_mode = 'ANSI'", 'SET character_set_client = gbk', 'SET NAMES gbk', "SET NAMES 'sjis'"]) {
      await refused(sql, admin, /pins|character set/);
    }
    await allowed('SET NAMES utf8mb4', read);
    await allowed('SET autocommit = 0', read);
    await allowed('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', read);
    await allowed('SET @total = (SELECT SUM(amount) FROM orders)', readOrders);
    await refused('SET @v = (SELECT value FROM secrets)', readOrders, /table shop\.secrets/);
    await refused('SET GLOBAL max_connections = 1', read, /SET GLOBAL max_connections/);
    await refused('SET @@global.read_only = 0', write, /SET GLOBAL read_only/);
    await allowed('SET GLOBAL max_connections = 500', admin);
    await refused('SET foreign_key_checks = 0', write, /SET foreign_key_checks/);
  });

  it('SET sql_mode: strictness and date modes only (what Connector/J sets at connect); the modes that change the reading stay pinned', async () => {
    await allowed("SET autocommit=1, session_track_schema=1, sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES')", read);
    await allowed("SET @@session.sql_mode = CONCAT(@@session.sql_mode, ',NO_ZERO_DATE', ',ONLY_FULL_GROUP_BY')", read);
    await allowed("SET SESSION sql_mode = 'traditional'", read);
    await allowed("SET sql_mode = ''", read);
    for (const sql of [
      "SET sql_mode = concat(@@sql_mode, ',ANSI_QUOTES')",
      "SET sql_mode = 'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES'",
      "SET sql_mode = 'STRICT_TRANS_TABLES\\,PIPES_AS_CONCAT'",
      "SET sql_mode = 'ANSI'",
      "SET sql_mode = 'ORACLE'",
      "SET sql_mode = 'HIGH_NOT_PRECEDENCE'",
      'SET sql_mode = DEFAULT',
      'SET sql_mode = 4',
      "SET sql_mode = concat(@@global.sql_mode, '')",
      'SET sql_mode = @saved',
      "SET sql_mode = concat(@@sql_mode, (SELECT 'ANSI_QUOTES'))",
      "SET sql_mode = REPLACE(@@sql_mode, 'X', 'ANSI_QUOTES')",
      "SET GLOBAL sql_mode = 'STRICT_TRANS_TABLES'",
    ]) {
      await refused(sql, admin, /sql_mode/);
    }
  });

  it('read roles cannot turn their transaction read-write', async () => {
    await refused('START TRANSACTION READ WRITE', read, /START TRANSACTION READ WRITE/);
    await refused('SET SESSION TRANSACTION READ WRITE', read, /READ WRITE/);
    await refused('SET transaction_read_only = 0', read, /transaction_read_only/);
    await refused('SET @@session.tx_read_only = OFF', read, /tx_read_only/);
    await allowed('START TRANSACTION', read);
    await allowed('BEGIN', read);
    await allowed('START TRANSACTION READ WRITE', write);
  });

  it('SHOW forms the parser does not model are admin, except the session own diagnostics', async () => {
    for (const sql of ['SHOW BINLOG EVENTS', 'SHOW ENGINE INNODB STATUS', 'SHOW INDEX FROM secrets', 'SHOW PROCESSLIST']) await refused(sql, read, /does not allow SHOW/);
    await allowed('SHOW WARNINGS', read);
    await allowed('SHOW COUNT(*) ERRORS', read);
  });

  it('USE only of the pinned database; SQL-level PREPARE/EXECUTE are opaque', async () => {
    await allowed('USE shop', read);
    expect(await decide('USE mysql', admin)).toMatchObject({ allowed: false, denied: 'database' });
    await refused("PREPARE s FROM 'DELETE FROM orders'", write, /could not parse|PREPARE/);
    await refused('EXECUTE s', write, /EXECUTE/);
    await refused('SELECT 1 FROM orders FOR UPDATE', read, /FOR UPDATE/);
    await allowed('SELECT 1 FROM orders FOR UPDATE', write);
  });

  it('WITH ROLLUP is read (the tables still judged); a CTE named rollup is not mistaken for it', async () => {
    await allowed('SELECT item, SUM(amount) FROM orders GROUP BY item WITH ROLLUP', readOrders);
    await refused('SELECT value, COUNT(*) FROM secrets GROUP BY value WITH ROLLUP', readOrders, /table shop\.secrets/);
    await refused('WITH rollup AS (SELECT value FROM secrets) SELECT * FROM rollup', readOrders, /table shop\.secrets/);
    await allowed("SELECT 'WITH ROLLUP' FROM orders", readOrders);
  });

  it('LOCK IN SHARE MODE and FOR SHARE are locking reads: write', async () => {
    await refused('SELECT * FROM orders WHERE id = 1 LOCK IN SHARE MODE', readOrders, /row locks/);
    await refused('SELECT * FROM orders WHERE id = 1 FOR SHARE', readOrders, /row locks/);
    await allowed('SELECT * FROM orders WHERE id = 1 LOCK IN SHARE MODE', write);
    await refused('SELECT * FROM secrets LOCK IN SHARE MODE', write, /table shop\.secrets/);
  });

  it('JSON_TABLE in FROM: what its document reads is judged', async () => {
    await allowed("SELECT jt.* FROM orders o, JSON_TABLE(o.item, '$[*]' COLUMNS (x INT PATH '$')) AS jt", readOrders);
    await refused("SELECT * FROM JSON_TABLE((SELECT value FROM secrets), '$[*]' COLUMNS (x INT PATH '$')) AS jt", readOrders, /table shop\.secrets/);
  });

  it('SET @a := … is SET @a = …; TABLE t is SELECT * FROM t', async () => {
    await allowed('SET @a := 1', read);
    await allowed('SET @n := (SELECT COUNT(*) FROM orders)', readOrders);
    await refused('SET @v := (SELECT value FROM secrets)', readOrders, /table shop\.secrets/);
    await refused("SET @a := 1, sql_mode := 'ANSI_QUOTES'", admin, /sql_mode/);
    await allowed('TABLE orders', readOrders);
    await refused('TABLE secrets', readOrders, /table shop\.secrets/);
    await refused('TABLE orders', { ...onlyOrders, tables: ['shop.items'] }, /table shop\.orders/);
  });

  it('CHECK, OPTIMIZE, REPAIR and ANALYZE TABLE are maintenance: admin without table restrictions', async () => {
    for (const sql of ['CHECK TABLE orders', 'OPTIMIZE TABLE orders', 'REPAIR NO_WRITE_TO_BINLOG TABLE orders', 'ANALYZE TABLE orders']) {
      await refused(sql, write, /CHECK TABLE|OPTIMIZE TABLE|REPAIR TABLE|ANALYZE/);
      await allowed(sql, admin);
      await refused(sql, { ...admin, denyTables: ['secrets'] }, /with table restrictions/);
    }
  });

  it('system-versioned history and SET STATEMENT stay unread, and say so', async () => {
    await refused("SELECT * FROM orders FOR SYSTEM_TIME AS OF TIMESTAMP '2024-01-01 00:00:00'", admin, /^airlock: FOR SYSTEM_TIME \(the history of system-versioned tables\) is not read by airlock yet/);
    await refused('SELECT * FROM orders FOR SYSTEM_TIME ALL', admin, /FOR SYSTEM_TIME/);
    await refused('SET STATEMENT max_statement_time = 1 FOR SELECT * FROM secrets', admin, /SET STATEMENT … FOR is not read by airlock/);
  });

  it('what the parser cannot read is refused, naming the parser', async () => {
    await refused('SELEC 1', admin, /could not parse the statement/);
    await refused('SELECT ' + '('.repeat(200) + '1' + ')'.repeat(200), admin, /could not parse/);
    await refused('SELECT 1 FROM t\u0000', admin, /NUL/);
    await refused('SELECT 1 /* unterminated', admin, /ends inside a comment/);
  });
});

describe('the traps are real on MariaDB 10.11', () => {
  let s: Scratch;
  beforeAll(async () => {
    s = await scratchDatabase();
    await s.root.query(`USE \`${s.database}\``);
  });
  afterAll(async () => s?.drop());

  it('the server runs the SQL inside /*! */ and reads --x as subtraction, as the policy assumes', async () => {
    const [rows] = await s.root.query('SELECT 1 /*! , (SELECT value FROM secrets) */ AS a');
    expect(Object.values((rows as Record<string, unknown>[])[0]!)).toContain('the-secret');
    const [minus] = await s.root.query('SELECT id --id AS x FROM secrets');
    expect((minus as { x: number }[])[0]!.x).toBe(2);
    const [str] = await s.root.query("SELECT 'a\\' FROM secrets -- ' AS v");
    expect(Object.values((str as Record<string, unknown>[])[0]!)[0]).toBe("a' FROM secrets -- ");
  });
});

describe('views are counted by what they read', () => {
  let opts: { database: string; views: ViewCatalog };
  beforeAll(async () => {
    await loadMysqlParser();
    opts = { database: 'shop', views: catalog() };
  });
  const catalog = () => viewCatalog([
    { database: 'shop', name: 'order_totals', definition: 'select `shop`.`orders`.`id` AS `id`,sum(`shop`.`orders`.`amount`) AS `t` from `shop`.`orders` group by `shop`.`orders`.`id`' },
    { database: 'shop', name: 'leaky', definition: 'select `shop`.`secrets`.`value` AS `value` from `shop`.`secrets`' },
    { database: 'shop', name: 'leaky_twice', definition: 'select `v`.`value` AS `value` from `shop`.`leaky` `v`' },
    { database: 'shop', name: 'calls_code', definition: 'select `shop`.`discount`(1) AS `d`' },
    { database: 'shop', name: 'hidden', definition: null },
  ]);

  it('a view over a denied table is denied, directly or through another view; one over allowed tables is not', async () => {
    expect(await checkMysql('SELECT * FROM order_totals', readOrders, opts)).toMatchObject({ allowed: true });
    expect(await checkMysql('SELECT * FROM leaky', readOrders, opts)).toMatchObject({ allowed: false, reason: expect.stringMatching(/table shop\.secrets \(read by view shop\.leaky\)$/) });
    expect(await checkMysql('SELECT * FROM orders WHERE id IN (SELECT 1 FROM leaky_twice)', readOrders, opts)).toMatchObject({ allowed: false, reason: expect.stringContaining('shop.secrets') });
  });

  it('a view that calls a stored function is as opaque as calling it; an unreadable view is refused under table restrictions', async () => {
    expect(await checkMysql('SELECT * FROM calls_code', read, opts)).toMatchObject({ allowed: false, reason: expect.stringContaining('function shop.discount() (run by view shop.calls_code)') });
    expect(await checkMysql('SELECT * FROM hidden', readOrders, opts)).toMatchObject({ allowed: false, reason: expect.stringContaining('view shop.hidden') });
    expect(await checkMysql('SELECT * FROM hidden', read, opts)).toMatchObject({ allowed: true });
  });
});
