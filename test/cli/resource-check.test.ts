import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, tempConfig, type ServerProcess } from '../support/cli.js';
import { scratchDatabase, type Scratch } from '../gateway/mysql/mariadb-fixture.js';

/** `airlock resources check` against the real PostgreSQL and MariaDB on this machine, through the real CLI and server. */
const ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const suffix = randomBytes(4).toString('hex');
const database = `airlock_chk_${suffix}`;
const login = `airlock_chk_${suffix}`;
const ghost = `airlock_chk_ghost_${suffix}`;
const password = `CheckSecret-${randomBytes(8).toString('hex')}`;

let server: ServerProcess;
let shop: Scratch;
let config: ReturnType<typeof tempConfig>;
const tokens: Record<string, string> = {};

async function adminQuery(sql: string) {
  const c = new pg.Client(ADMIN);
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

const yaml = () => `
users:
  - { name: alice, groups: [engineering] }
  - { name: root,  groups: [airlock-admins] }
admins: { groups: [airlock-admins] }
resources:
  - name: chk-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: ${database} }
    roles:
      read:
        credential: { user: ${login}, password_env: CHK_PASSWORD }
        allow: [read]
      ghost:
        credential: { user: ${ghost}, password_env: CHK_PASSWORD }
        allow: [read]
  - name: gone-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: ${database}_gone }
    roles:
      read:
        credential: { user: ${login}, password_env: CHK_PASSWORD }
        allow: [read]
  - name: shop-mysql
    kind: mysql
    upstream: { host: 127.0.0.1, port: 3306, database: ${shop.database} }
    roles:
      read:
        credential: { user: ${shop.user}, password_env: SHOP_PASSWORD }
        allow: [read]
      stale:
        credential: { user: ${shop.user}, password_env: SHOP_OLD_PASSWORD }
        allow: [read]
  - name: queues
    kind: http
    upstream: { url: "http://127.0.0.1:15672", check_path: /api/whoami }
    roles:
      ops:
        credential: { user: guest, password_env: QUEUES_PASSWORD }
        http: { allow: ["GET /api/**"] }
      stale:
        credential: { user: guest, password_env: QUEUES_OLD_PASSWORD }
        http: { allow: ["GET /api/**"] }
`;

const as = (user: string) => (...args: string[]) => runCli(args, { AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: tokens[user] });

interface Check {
  resource: string;
  kind: string;
  roles: Array<{ role: string; login: string | null; result: string; message: string | null }>;
}

beforeAll(async () => {
  await adminQuery(`create role ${login} login password '${password}'`);
  await adminQuery(`create database ${database} owner ${login}`);
  shop = await scratchDatabase('airlock_chk');
  config = tempConfig(yaml());
  for (const user of ['alice', 'root']) tokens[user] = (await runCli(['tokens', 'issue', user, '--config', config.path])).stdout.trim();
  server = await startServerProcess(config.path, { CHK_PASSWORD: password, SHOP_PASSWORD: shop.password, SHOP_OLD_PASSWORD: 'not-the-password', QUEUES_PASSWORD: 'guest', QUEUES_OLD_PASSWORD: 'not-the-queues-password' });
});

afterAll(async () => {
  await server?.stop();
  config?.cleanup();
  await adminQuery(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${database}'`);
  await adminQuery(`drop database if exists ${database}`);
  await adminQuery(`drop role if exists ${login}`);
  await shop?.drop();
});

describe('airlock resources check', () => {
  it("reports per role OK or the upstream's own error, never the password, and exits 1 when a login fails", async () => {
    const r = await as('root')('resources', 'check', '--json');
    expect(r.code, r.stderr).toBe(1);
    const checks = JSON.parse(r.stdout) as Check[];
    const role = (resource: string, name: string) => checks.find((c) => c.resource === resource)?.roles.find((x) => x.role === name);
    expect(role('chk-db', 'read')).toEqual({ role: 'read', login, result: 'ok', message: null });
    expect(role('chk-db', 'ghost')).toMatchObject({ login: ghost, result: 'failed' });
    expect(role('chk-db', 'ghost')?.message).toContain(`role "${ghost}" does not exist`);
    expect(role('gone-db', 'read')?.message).toContain(`database "${database}_gone" does not exist`);
    expect(role('shop-mysql', 'read')).toEqual({ role: 'read', login: shop.user, result: 'ok', message: null });
    expect(role('shop-mysql', 'stale')).toMatchObject({ result: 'failed' });
    expect(role('shop-mysql', 'stale')?.message).toContain(`Access denied for user '${shop.user}'`);
    // RabbitMQ's management API: the right credential and a stale one, with the path the gateway would send.
    expect(role('queues', 'ops')).toEqual({ role: 'ops', login: 'guest', result: 'ok', message: 'GET http://127.0.0.1:15672/api/whoami answered 200 OK' });
    expect(role('queues', 'stale')).toMatchObject({ login: 'guest', result: 'failed' });
    expect(role('queues', 'stale')?.message).toBe('the upstream refused the credential: GET http://127.0.0.1:15672/api/whoami answered 401 Unauthorized');
    expect(r.stdout + r.stderr).not.toContain('not-the-queues-password');
    expect(r.stdout + r.stderr).not.toContain(Buffer.from('guest:not-the-queues-password').toString('base64'));
    expect(r.stdout + r.stderr).not.toContain(password);
    expect(r.stdout + r.stderr).not.toContain(shop.password);
  });

  it('prints a table for one resource and closes its upstream connections', async () => {
    const r = await as('root')('resources', 'check', 'chk-db');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`chk-db\\s+postgres\\s+read\\s+${login}\\s+OK`));
    expect(r.stdout).toMatch(new RegExp(`chk-db\\s+postgres\\s+ghost\\s+${ghost}\\s+FAILED\\s+.*role "${ghost}" does not exist`));
    expect(r.stdout).not.toContain('gone-db');
    await expect
      .poll(async () => (await adminQuery(`select count(*)::int as n from pg_stat_activity where datname = '${database}'`)).rows[0].n as number)
      .toBe(0);
    const http = await as('root')('resources', 'check', 'queues');
    expect(http.code).toBe(1);
    expect(http.stdout).toMatch(/queues\s+http\s+ops\s+guest\s+OK\s+GET http:\/\/127\.0\.0\.1:15672\/api\/whoami answered 200 OK/);
    expect(http.stdout).toMatch(/queues\s+http\s+stale\s+guest\s+FAILED\s+the upstream refused the credential/);
  });

  it('is for admins only, and names an unknown resource', async () => {
    const notAdmin = await as('alice')('resources', 'check');
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toContain('only admins can check the upstream logins of resources');
    const unknown = await as('root')('resources', 'check', 'nope', '--json');
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { code: 'unknown_resource' } });
  });

  it('records each check in the audit log as resource.checked, without the password', async () => {
    const r = await as('root')('audit', 'list', '--action', 'resource.checked', '--json');
    expect(r.code, r.stderr).toBe(0);
    const events = JSON.parse(r.stdout) as Array<{ actor: string; target: string; details: { roles: Array<{ role: string; result: string }> } }>;
    const chk = events.filter((e) => e.target === 'chk-db');
    expect(chk.length).toBeGreaterThanOrEqual(2);
    expect(chk[0]).toMatchObject({ actor: 'root' });
    expect(chk[0]!.details.roles.map((x) => `${x.role}:${x.result}`).sort()).toEqual(['ghost:failed', 'read:ok']);
    expect(r.stdout).not.toContain(password);
    expect(server.output()).not.toContain(password);
  });
});
