import { spawn } from 'node:child_process';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli, startServerProcess, tempConfig, type ServerProcess } from '../../support/cli.js';
import { scratchDatabase, type Scratch } from './mariadb-fixture.js';

/**
 * `airlock connect` for a mysql resource, end to end: the real server
 * process, its MySQL gateway in front of MariaDB 10.11, the Debian mariadb
 * client run by the CLI with the secret in an option file.
 */
describe('airlock connect orders-mysql', () => {
  let db: Scratch;
  let server: ServerProcess;
  let config: ReturnType<typeof tempConfig>;
  const tokens: Record<string, string> = {};
  const as = (user: string) => (...args: string[]) => runCli(args, { AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: tokens[user], XDG_CONFIG_HOME: `${config.dir}/home-${user}` });

  beforeAll(async () => {
    db = await scratchDatabase();
    config = tempConfig(`
users:
  - { name: alice, groups: [oncall] }
  - { name: root,  groups: [airlock-admins] }
admins: { groups: [airlock-admins] }
resources:
  - name: orders-mysql
    kind: mysql
    upstream: { host: 127.0.0.1, port: 3306, database: ${db.database} }
    roles:
      read: { credential: { user: ${db.user}, password_env: E2E_MY_PASSWORD }, allow: [read], deny_tables: [secrets] }
policies:
  - { name: oncall, who: { groups: [oncall] }, resources: { names: [orders-mysql] }, roles: [read], max_duration: 1h, approval: none }
gateway:
  mysql: { listen: 127.0.0.1:0, tls: self-signed }
`);
    for (const user of ['alice', 'root']) tokens[user] = (await runCli(['tokens', 'issue', user, '--config', config.path])).stdout.trim();
    server = await startServerProcess(config.path, { E2E_MY_PASSWORD: db.password });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    config?.cleanup();
    await db?.drop();
  });

  it('runs the mariadb client with the grant over TLS, prints a mysql:// DSN for other clients, and refuses what the role does not allow', async () => {
    const requested = await as('alice')('request', 'orders-mysql', '--role', 'read', '--for', '30m', '--reason', 'INC-9 check orders', '--json');
    expect(requested.code).toBe(0);
    const printed = JSON.parse((await as('alice')('connect', 'orders-mysql', '--print', '--json')).stdout) as { dsn: string; host: string; port: number; user: string; database: string; password: string };
    expect(printed.dsn).toBe(`mysql://alice:${encodeURIComponent(printed.password)}@${printed.host}:${printed.port}/orders-mysql`);
    const c = await mysql.createConnection(printed.dsn);
    const [rows] = await c.query('SELECT COUNT(*) AS n FROM orders');
    expect(rows).toEqual([{ n: 2 }]);
    await c.end();

    const child = spawn(process.execPath, [BIN, 'connect', 'orders-mysql'], {
      env: { ...process.env, AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: tokens['alice'], XDG_CONFIG_HOME: `${config.dir}/home-alice` },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end('SELECT item FROM orders WHERE id = 2;\nSELECT value FROM secrets;\n');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stdout, stderr).toContain('pear');
    expect(stderr).toContain('over TLS');
    expect(stderr).toContain('ERROR 1142 (42000)');
    expect(stderr).toContain('airlock: role "read" on orders-mysql does not allow table');
    expect(code).toBe(1);
    expect(stdout + stderr).not.toContain(printed.password);
  });
});
