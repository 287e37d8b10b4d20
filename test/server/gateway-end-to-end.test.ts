import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, tempConfig, type ServerProcess } from '../support/cli.js';

/**
 * The product as a user meets it: `airlock server` as a process, the CLI, the
 * real PostgreSQL on this machine behind the gateway, and psql in front.
 */
const ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const suffix = randomBytes(4).toString('hex');
const database = `airlock_e2e_${suffix}`;
const roleRo = `airlock_e2e_ro_${suffix}`;
const roleRw = `airlock_e2e_rw_${suffix}`;
const upstreamPassword = `UpstreamSecret-${randomBytes(8).toString('hex')}`;

let server: ServerProcess;
let config: ReturnType<typeof tempConfig>;
const tokens: Record<string, string> = {};

async function adminQuery(sql: string, db = ADMIN.database) {
  const c = new pg.Client({ ...ADMIN, database: db });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

function yaml(): string {
  return `
users:
  - { name: alice, groups: [oncall, engineering] }
  - { name: bob,   groups: [sre-leads] }
  - { name: root,  groups: [airlock-admins] }
admins: { groups: [airlock-admins] }
resources:
  - name: orders-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: ${database} }
    labels: { env: prod }
    roles:
      read:
        credential: { user: ${roleRo}, password_env: E2E_RO_PASSWORD }
        allow: [read]
        tables: ["public.*"]
        deny_tables: ["public.payment_tokens"]
      write:
        credential: { user: ${roleRw}, password_env: E2E_RW_PASSWORD }
        allow: [read, write]
        deny_tables: ["public.payment_tokens"]
policies:
  - name: oncall-reads
    who: { groups: [oncall] }
    resources: { labels: { env: prod } }
    roles: [read, write]
    max_duration: 1h
    approval: none
gateway:
  postgres:
    listen: 127.0.0.1:0
    tls: self-signed
`;
}

function psql(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('psql', ['-X', '-v', 'ON_ERROR_STOP=0', ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function connectionFor(user: string, role: string) {
  const r = await runCli(['connect', 'orders-db', '--role', role, '--print', '--json'], {
    AIRLOCK_SERVER: server.url,
    AIRLOCK_TOKEN: tokens[user],
    XDG_CONFIG_HOME: `${config.dir}/home-${user}`,
  });
  expect(r.code, r.stderr).toBe(0);
  const info = JSON.parse(r.stdout) as { host: string; port: number; user: string; database: string; password: string };
  return { PGHOST: info.host, PGPORT: String(info.port), PGUSER: info.user, PGDATABASE: info.database, PGPASSWORD: info.password, PGSSLMODE: 'prefer' };
}

const as = (user: string) => (...args: string[]) => runCli(args, { AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: tokens[user] });

beforeAll(async () => {
  await adminQuery(`create database ${database}`);
  await adminQuery(`create role ${roleRo} login password '${upstreamPassword}'`);
  await adminQuery(`create role ${roleRw} login password '${upstreamPassword}'`);
  await adminQuery(
    `create table orders (id int primary key, status text); insert into orders select g, 'paid' from generate_series(1, 50) g;
     create table payment_tokens (id int, token text); insert into payment_tokens values (1, 'tok_secret');
     grant select, insert, update, delete on orders, payment_tokens to ${roleRw};
     grant select on orders, payment_tokens to ${roleRo};
     grant select, insert, update, delete on orders to ${roleRo};`,
    database,
  );
  // A hostile upstream default: with it, backslashes would make the server and the policy's parser disagree.
  await adminQuery(`alter database ${database} set standard_conforming_strings = off`);
  config = tempConfig(yaml());
  for (const user of ['alice', 'bob', 'root']) tokens[user] = (await runCli(['tokens', 'issue', user, '--config', config.path])).stdout.trim();
  server = await startServerProcess(config.path, { E2E_RO_PASSWORD: upstreamPassword, E2E_RW_PASSWORD: upstreamPassword });
});

afterAll(async () => {
  await server?.stop();
  config?.cleanup();
  await adminQuery(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${database}'`);
  await adminQuery(`drop database if exists ${database}`);
  await adminQuery(`drop role if exists ${roleRo}`);
  await adminQuery(`drop role if exists ${roleRw}`);
});

describe('postgres access through airlock, end to end', () => {
  it('lets a read grant query with psql, refuses writes and denied tables in the same session, and records each statement', async () => {
    expect((await as('alice')('request', 'orders-db', '--role', 'read', '--for', '30m', '--reason', 'INC-1')).code).toBe(0);
    const env = await connectionFor('alice', 'read');
    const r = await psql(env, [
      '-c', 'select count(*) from orders',
      '-c', 'delete from orders where id = 1',
      '-c', 'select * from payment_tokens',
      '-c', "select set_config('default_transaction_read_only', 'off', false)",
      '-c', 'select count(*) as still_usable from orders',
    ]);
    expect(r.stdout).toMatch(/count\s*\n-+\n\s*50/);
    expect(r.stderr).toContain('airlock: role "read" on orders-db does not allow DELETE');
    expect(r.stderr).toContain('airlock: role "read" on orders-db does not allow table public.payment_tokens');
    expect(r.stdout).toContain('still_usable');
    expect((await adminQuery('select count(*)::int as n from orders', database)).rows[0].n).toBe(50);

    const sessions = JSON.parse((await as('alice')('sessions', '--json')).stdout) as Array<{ id: string; statements: number; refused: number; end_reason: string }>;
    expect(sessions[0]).toMatchObject({ statements: 5, refused: 3, end_reason: 'client' });
    const shown = JSON.parse((await as('alice')('sessions', 'show', sessions[0]!.id, '--json')).stdout) as { events: Array<{ action: string; details: { text?: string; outcome?: string } }> };
    expect(shown.events.map((e) => e.action)).toEqual(['session.started', 'statement', 'statement.refused', 'statement.refused', 'statement.refused', 'statement', 'session.ended']);
    expect(shown.events[2]!.details.text).toBe('delete from orders where id = 1');
  });

  it('cuts a live psql session mid-query when the grant is revoked, saying why', async () => {
    const granted = JSON.parse((await as('alice')('request', 'orders-db', '--role', 'write', '--for', '10m', '--json')).stdout) as { grant: { id: string } };
    const env = await connectionFor('alice', 'write');
    const running = psql(env, ['-c', 'select pg_sleep(60)']);
    // Wait for the statement to be running upstream: no sleeping, ask PostgreSQL.
    for (let i = 0; i < 200; i++) {
      const busy = await adminQuery(`select 1 from pg_stat_activity where datname = '${database}' and query like '%pg_sleep(60)%' and state = 'active' and pid <> pg_backend_pid()`);
      if (busy.rowCount) break;
    }
    const who = JSON.parse((await as('bob')('who', '--json')).stdout) as Array<{ id: string; sessions: Array<{ statements: number }> }>;
    expect(who.find((g) => g.id === granted.grant.id)?.sessions).toHaveLength(1);
    expect((await as('root')('revoke', granted.grant.id, '--reason', 'incident closed')).code).toBe(0);
    // pg_sleep(60) outlasts the test's timeout: psql returns in time only because the revoke cut it.
    const r = await running;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('airlock: access to orders-db was revoked by root: incident closed');
    const left = await adminQuery(`select count(*)::int as n from pg_stat_activity where datname = '${database}' and query like '%pg_sleep(60)%' and state = 'active'`);
    expect(left.rows[0].n).toBe(0);
    const again = await psql(env, ['-c', 'select 1']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/password authentication failed|no active grant/);
  });

  it('keeps the server parsing text the way the policy did, even when the upstream defaults to non-standard strings', async () => {
    expect((await as('alice')('request', 'orders-db', '--role', 'write', '--for', '10m')).code).toBe(0);
    const env = await connectionFor('alice', 'write');
    const attack = "select 'a\\' , $$ ' ; delete from payment_tokens; -- $$";
    const r = await psql(env, ['-A', '-t', '-c', 'show standard_conforming_strings', '-c', attack]);
    expect(r.stdout.split('\n')[0]).toBe('on');
    expect((await adminQuery('select count(*)::int as n from payment_tokens', database)).rows[0].n).toBe(1);
  });

  it('never shows the upstream credential to users, in the API, the audit log or the server log', async () => {
    const exported = await as('root')('audit', 'export', '--format', 'jsonl');
    const who = await as('root')('who', '--json');
    const grants = await as('root')('grants', '--all', '--json');
    for (const text of [exported.stdout, who.stdout, grants.stdout, server.output()]) expect(text).not.toContain(upstreamPassword);
    const verify = await runCli(['audit', 'verify', '--config', config.path]);
    expect(verify.code, verify.stdout).toBe(0);
  });
});
