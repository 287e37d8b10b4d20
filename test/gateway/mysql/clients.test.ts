import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlGateway, type MysqlGateway } from '../../../src/gateway/mysql/listener.js';
import { FakePort } from './fake-port.js';
import { scratchDatabase, type Scratch } from './mariadb-fixture.js';

const RESOURCE = 'orders-mysql';

/** Runs the Debian `mariadb` client with the secret in an option file (never on the command line). */
function mariadbCli(gw: { host: string; port: number }, user: string, secret: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-my-cli-'));
  const options = join(dir, 'client.cnf');
  writeFileSync(options, `[client]\npassword=${secret}\n`, { mode: 0o600 });
  return new Promise((resolve) => {
    execFile(
      'mariadb',
      [`--defaults-extra-file=${options}`, '-h', gw.host, '-P', String(gw.port), '-u', user, '--protocol=TCP', '--batch', '--skip-column-names', ...args, RESOURCE],
      { timeout: 20_000 },
      (err, stdout, stderr) => {
        rmSync(dir, { recursive: true, force: true });
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('MySQL gateway with real clients against MariaDB 10.11', () => {
  let db: Scratch;
  let port: FakePort;
  let gw: MysqlGateway;
  const address = () => gw.address();

  beforeAll(async () => {
    db = await scratchDatabase();
    // Views are read per upstream login and reused for 30 s, so this one exists before the first session.
    await db.root.query(`CREATE VIEW \`${db.database}\`.secret_view AS SELECT value FROM \`${db.database}\`.secrets`);
    port = new FakePort();
    gw = await createMysqlGateway({ port, listen: { host: '127.0.0.1', port: 0 } });
  });
  afterAll(async () => {
    await gw?.close();
    await db?.drop();
  });

  const grant = (allow: ('read' | 'write' | 'ddl' | 'admin')[], extra: { denyTables?: string[]; mysqlVerifiers?: boolean; role?: string } = {}) =>
    port.issue({ user: `u${Math.random().toString(36).slice(2, 8)}`, resource: RESOURCE, database: db.database, login: db.user, password: db.password, allow, ...extra });

  it('mysql2 text protocol: reads, a refused DELETE shows ERROR 1142 with the role, and the session stays usable', async () => {
    const g = grant(['read'], { role: 'read' });
    const c = await mysql.createConnection({ ...address(), user: g.user, password: g.secret, database: RESOURCE });
    try {
      const [rows] = await c.query('SELECT id, item FROM orders ORDER BY id');
      expect(rows).toEqual([
        { id: 1, item: 'apple' },
        { id: 2, item: 'pear' },
      ]);
      await expect(c.query('DELETE FROM orders')).rejects.toMatchObject({
        errno: 1142,
        sqlState: '42000',
        message: `airlock: role "read" on ${RESOURCE} does not allow DELETE`,
      });
      const [after] = await c.query('SELECT COUNT(*) AS n FROM orders');
      expect(after).toEqual([{ n: 2 }]);
      // The second line: the upstream session itself is read-only and pinned to the gateway's sql_mode.
      const [mode] = await c.query('SELECT @@session.tx_read_only AS ro, @@session.sql_mode AS m');
      expect(mode).toEqual([{ ro: 1, m: 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION' }]);
    } finally {
      await c.end();
    }
    await port.until(() => port.ended.some((e) => e.sessionId === port.started.at(-1)?.sessionId));
    const mine = port.statements.filter((s) => s.sessionId === port.started.at(-1)!.sessionId);
    expect(mine.map((s) => [s.outcome, s.commandTag])).toEqual([
      ['ok', 'SELECT'],
      ['refused', undefined],
      ['ok', 'SELECT'],
      ['ok', 'SELECT'],
    ]);
    expect(mine[0]!.rows).toBe(2);
    expect(mine[0]!.intent).toEqual(expect.any(String));
  });

  it('mysql2 prepared statements: bound parameters reach the audit, writes count rows', async () => {
    const g = grant(['read', 'write'], { denyTables: ['secrets'] });
    const c = await mysql.createConnection({ ...address(), user: g.user, password: g.secret, database: RESOURCE });
    try {
      const [rows] = await c.execute('SELECT item FROM orders WHERE id = ? AND item <> ?', [2, 'x']);
      expect(rows).toEqual([{ item: 'pear' }]);
      const [res] = await c.execute('INSERT INTO orders (id, item, amount) VALUES (?, ?, ?)', [100, 'fig', null]);
      expect((res as { affectedRows: number }).affectedRows).toBe(1);
      await expect(c.execute('SELECT value FROM secrets WHERE id = ?', [1])).rejects.toMatchObject({ errno: 1142, message: expect.stringContaining('table') });
      const [again] = await c.execute('SELECT item FROM orders WHERE id = ?', [100]);
      expect(again).toEqual([{ item: 'fig' }]);
    } finally {
      await c.end();
    }
    const session = port.started.at(-1)!.sessionId;
    await port.until(() => port.ended.some((e) => e.sessionId === session));
    const mine = port.statements.filter((s) => s.sessionId === session);
    expect(mine.find((s) => s.text?.startsWith('INSERT'))).toMatchObject({ outcome: 'ok', rows: 1, extra: { params: [100, 'fig', null] } });
    expect(mine.find((s) => s.text?.startsWith('SELECT item FROM orders WHERE id = ? AND'))).toMatchObject({ extra: { params: [2, 'x'] } });
  });

  it('a view over a denied table is refused with the table it reads; the session reads the views at start', async () => {
    const g = grant(['read'], { role: 'read', denyTables: ['secrets'] });
    const c = await mysql.createConnection({ ...address(), user: g.user, password: g.secret, database: RESOURCE });
    try {
      await expect(c.query('SELECT * FROM secret_view')).rejects.toMatchObject({
        errno: 1142,
        message: `airlock: role "read" on ${RESOURCE} does not allow table ${db.database}.secrets (read by view ${db.database}.secret_view)`,
      });
      const [rows] = await c.query('SELECT item FROM orders WHERE id = 1');
      expect(rows).toEqual([{ item: 'apple' }]);
    } finally {
      await c.end();
    }
  });

  it('the mariadb CLI signs in with caching_sha2_password and refuses statements with the role in the message', async () => {
    const g = grant(['read'], { role: 'read', denyTables: ['secrets'] });
    const ok = await mariadbCli(address(), g.user, g.secret, ['-e', 'SELECT item FROM orders WHERE id = 1']);
    expect(ok.stderr).toBe('');
    expect(ok.stdout.trim()).toBe('apple');
    const refused = await mariadbCli(address(), g.user, g.secret, ['-e', 'SELECT * FROM secrets']);
    expect(refused.stderr).toContain(`ERROR 1142 (42000)`);
    expect(refused.stderr).toContain(`airlock: role "read" on ${RESOURCE} does not allow table`);
  });

  it('the mariadb CLI with mysql_native_password, and a wrong secret is ERROR 1045', async () => {
    const g = grant(['read']);
    const native = await mariadbCli(address(), g.user, g.secret, ['--default-auth=mysql_native_password', '-e', 'SELECT 40 + 2']);
    expect(native.stderr).toBe('');
    expect(native.stdout.trim()).toBe('42');
    const wrong = await mariadbCli(address(), g.user, `${g.secret}x`, ['-e', 'SELECT 1']);
    expect(wrong.stderr).toMatch(/ERROR 1045 \(28000\).*airlock: access denied/);
    expect(port.authFailures.some((f) => f.user === g.user)).toBe(true);
  });
});

describe('caching_sha2_password full authentication for a secret without MySQL verifiers', () => {
  let db: Scratch;
  let port: FakePort;
  let gw: MysqlGateway;
  let tlsGw: MysqlGateway;

  beforeAll(async () => {
    db = await scratchDatabase();
    port = new FakePort();
    gw = await createMysqlGateway({ port, listen: { host: '127.0.0.1', port: 0 } });
    tlsGw = await createMysqlGateway({ port, listen: { host: '127.0.0.1', port: 0 }, tls: 'self-signed', rsaKeyExchange: false });
  });
  afterAll(async () => {
    await gw?.close();
    await tlsGw?.close();
    await db?.drop();
  });

  const oldGrant = () =>
    port.issue({ user: `o${Math.random().toString(36).slice(2, 8)}`, resource: RESOURCE, database: db.database, login: db.user, password: db.password, allow: ['read'], mysqlVerifiers: false });

  it('on plain TCP via the RSA key exchange (mysql2 asks for the key)', async () => {
    const g = oldGrant();
    const c = await mysql.createConnection({ ...gw.address(), user: g.user, password: g.secret, database: RESOURCE });
    const [rows] = await c.query('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
    await c.end();
    await expect(mysql.createConnection({ ...gw.address(), user: g.user, password: `${g.secret}x`, database: RESOURCE })).rejects.toMatchObject({ errno: 1045 });
  });

  it('over TLS with the secret itself; without TLS a gateway without the RSA exchange says to use TLS', async () => {
    const g = oldGrant();
    const c = await mysql.createConnection({ ...tlsGw.address(), user: g.user, password: g.secret, database: RESOURCE, ssl: { rejectUnauthorized: false } });
    const [rows] = await c.query('SELECT 2 AS two');
    expect(rows).toEqual([{ two: 2 }]);
    await c.end();
    await expect(mysql.createConnection({ ...tlsGw.address(), user: g.user, password: g.secret, database: RESOURCE })).rejects.toMatchObject({
      message: expect.stringContaining('needs a TLS connection'),
    });
  });

  it('the mariadb CLI on plain TCP is told to use TLS, and never asked for the secret in clear', async () => {
    const g = oldGrant();
    const r = await mariadbCli(gw.address(), g.user, g.secret, ['-e', 'SELECT 1']);
    expect(r.stderr).toMatch(/ERROR 3159 .*needs a TLS connection/);
    const over = await mariadbCli(tlsGw.address(), g.user, g.secret, ['--ssl', '--ssl-verify-server-cert=0', '-e', 'SELECT 5']);
    expect(over.stdout.trim()).toBe('5');
  });

  it('the mariadb CLI over TLS (--ssl) with a current secret', async () => {
    const g = port.issue({ user: `t${Math.random().toString(36).slice(2, 8)}`, resource: RESOURCE, database: db.database, login: db.user, password: db.password, allow: ['read'] });
    const r = await mariadbCli(tlsGw.address(), g.user, g.secret, ['--ssl', '--ssl-verify-server-cert=0', '-e', "SHOW STATUS LIKE 'Ssl_cipher'"]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Ssl_cipher');
  });
});
