import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PINNED_SQL_MODE } from '../../../src/gateway/mysql/upstream-target.js';
import { run } from '../postgres/harness.js';
import { mysqlGatewayWorld } from './gateway-world.js';

/**
 * Two more drivers users have, from Debian: Python's PyMySQL
 * (python3-pymysql) and the MariaDB JDBC connector (libmariadb-java) with
 * the DatabaseMetaData calls DBeaver, DataGrip and IntelliJ make. The
 * connector sets `sql_mode = concat(@@sql_mode, ',STRICT_TRANS_TABLES')` at
 * connect, which the gateway allows (a strictness mode does not change how
 * statements are read) while it keeps refusing ANSI_QUOTES and the like.
 */

const RESOURCE = 'orders-mysql';
const JAR = '/usr/share/java/mariadb-java-client.jar';
const PROBE = fileURLToPath(new URL('./clients/MysqlMetadataProbe.java', import.meta.url));

const PYMYSQL = `
import os, pymysql
c = pymysql.connect(host=os.environ['H'], port=int(os.environ['P']), user=os.environ['U'], password=os.environ['S'], database=os.environ['D'])
cur = c.cursor()
cur.execute("SELECT id, item FROM orders WHERE id = %s", (1,))
print("ROW", cur.fetchall())
for sql in ("SELECT value FROM secrets", "DELETE FROM orders", "SET sql_mode = 'ANSI_QUOTES'"):
    try:
        cur.execute(sql)
        print("RAN", sql)
    except pymysql.err.MySQLError as e:
        print("ERROR", e.args[0], e.args[1])
cur.execute("SELECT COUNT(*) FROM orders")
print("COUNT", cur.fetchone()[0])
c.close()
`;

describe('PyMySQL and MariaDB Connector/J through the gateway', () => {
  const w = mysqlGatewayWorld();

  const grant = () => w.port.issue({ user: `u${Math.random().toString(36).slice(2, 8)}`, resource: RESOURCE, role: 'read', database: w.db.database, login: w.db.user, password: w.db.password, allow: ['read'], denyTables: ['secrets'] });

  it('PyMySQL (python3-pymysql): reads; a denied table, a DELETE and ANSI_QUOTES are refused with ERROR 1142; the session goes on', async () => {
    const g = grant();
    const a = w.gw.address();
    const r = await run('/usr/bin/python3', ['-c', PYMYSQL], { H: a.host, P: String(a.port), U: g.user, S: g.secret, D: RESOURCE });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      "ROW ((1, 'apple'),)",
      `ERROR 1142 airlock: role "read" on ${RESOURCE} does not allow table ${w.db.database}.secrets`,
      `ERROR 1142 airlock: role "read" on ${RESOURCE} does not allow DELETE`,
      `ERROR 1142 airlock: role "read" on ${RESOURCE} does not allow SET sql_mode with ANSI_QUOTES: airlock pins it so that it reads each statement as the server does`,
      'COUNT 2',
    ]);
  });

  it('MariaDB Connector/J (libmariadb-java): connects (its sql_mode change allowed), DatabaseMetaData answers, a prepared query runs, a DELETE is refused', { timeout: 90_000 }, async () => {
    const g = grant();
    const a = w.gw.address();
    // C1-only JIT and the serial collector halve the JVM's start on a busy machine.
    const r = await run('java', ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', JAR, PROBE, `jdbc:mariadb://${a.host}:${a.port}/${RESOURCE}`, g.user, g.secret, 'orders'], {});
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const rows = (call: string) => lines.filter((l) => l.startsWith(`ROW ${call}:`));
    expect(lines.filter((l) => l.startsWith('ERROR') && !l.startsWith('ERROR delete'))).toEqual([]);
    expect(rows('getTables').map((l) => /TABLE_NAME=(\w+)/.exec(l)?.[1]).sort()).toEqual(['orders', 'secrets']);
    expect(rows('getColumns orders').map((l) => /COLUMN_NAME=(\w+)/.exec(l)?.[1])).toEqual(['id', 'item', 'amount']);
    expect(rows('getPrimaryKeys orders')).toEqual([expect.stringMatching(/COLUMN_NAME=id /)]);
    expect(rows('getIndexInfo orders').map((l) => /INDEX_NAME=(\w+)/.exec(l)?.[1])).toEqual(['PRIMARY']);
    // The driver's strictness mode was added to the pinned one, nothing else.
    const mode = /m=(.*)$/.exec(rows('sql_mode')[0] ?? '')?.[1]?.split(',').sort();
    expect(mode).toEqual([...new Set([...PINNED_SQL_MODE.split(','), 'STRICT_TRANS_TABLES'])].sort());
    expect(rows('select')).toEqual(['ROW select: id=1 item=apple', 'ROW select: id=2 item=pear']);
    expect(rows('prepared')).toEqual(['ROW prepared: item=apple']);
    expect(lines.find((l) => l.startsWith('ERROR delete'))).toMatch(/^ERROR delete: 1142 .*airlock: role "read" on orders-mysql does not allow DELETE$/);
    expect(r.stdout).not.toContain('the-secret');
  });
});
