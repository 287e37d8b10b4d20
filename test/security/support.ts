import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect } from 'vitest';
import { runCli, startServerProcess, tempConfig, type CliResult, type ServerProcess } from '../support/cli.js';
import { RawClient } from '../gateway/postgres/raw-client.js';

/**
 * A whole Airlock as an attacker meets it: `airlock server` as a process, the
 * CLI for tokens, requests and credentials, and the real PostgreSQL behind
 * the gateway. The `read` role's upstream credential is the superuser on
 * purpose: the threat model says a read role stays read-only even then.
 */

export const ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;

export interface Conn {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly password: string;
  readonly grant: string;
}

export interface Airlock {
  readonly database: string;
  readonly server: ServerProcess;
  readonly configDir: string;
  readonly configPath: string;
  as(user: string): (...args: string[]) => Promise<CliResult>;
  /** Requests `role` for `user` (auto-approved roles only) and returns fresh gateway credentials for the new grant. */
  grant(user: string, role: string, duration?: string, resource?: string): Promise<Conn>;
  /** Issues a new secret for an existing grant of `user` (replacing the old one). */
  connect(user: string, grantId: string, resource?: string): Promise<Conn>;
  api(user: string, path: string, init?: RequestInit): Promise<Response>;
  token(user: string): string;
  admin(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  pg(conn: Conn): Promise<pg.Client>;
  raw(conn: Conn): Promise<RawClient>;
  psql(conn: Conn, args: string[], input?: string): Promise<CliResult>;
  stop(): Promise<void>;
}

export async function adminQuery(sql: string, database: string = ADMIN.database, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ ...ADMIN, database });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

const SCHEMA = `
create table orders (id int primary key, status text);
insert into orders select g, 'paid' from generate_series(1, 50) g;
create table payment_tokens (id int, token text);
insert into payment_tokens values (1, 'tok_secret');
create schema secret;
create table secret.keys (k text);
insert into secret.keys values ('k_secret');
create sequence seq1;
`;

function yaml(database: string, extraRoles: string): string {
  return `
users:
  - { name: alice, groups: [oncall] }
  - { name: mallory, groups: [oncall] }
  - { name: bob,   groups: [sre-leads, oncall] }
  - { name: root,  groups: [airlock-admins] }
admins: { groups: [airlock-admins] }
resources:
  - name: orders-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: ${database} }
    labels: { env: prod }
    roles:
      read:
        credential: { user: postgres }
        allow: [read]
        tables: ["public.*"]
        deny_tables: ["public.payment_tokens"]
      readall:
        credential: { user: postgres }
        allow: [read]
      write:
        credential: { user: postgres }
        allow: [read, write]
        deny_tables: ["public.payment_tokens"]
${extraRoles}
  - name: billing-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: ${database} }
    labels: { env: prod }
    roles:
      read:
        credential: { user: postgres }
        allow: [read]
policies:
  - name: oncall-reads
    who: { groups: [oncall] }
    resources: { labels: { env: prod } }
    roles: [read, readall]
    max_duration: 1h
    approval: none
  - name: writes-need-a-lead
    who: { groups: [oncall] }
    resources: { names: [orders-db] }
    roles: [write]
    max_duration: 1h
    approval: { count: 1, from: { groups: [sre-leads] } }
gateway:
  postgres:
    listen: 127.0.0.1:0
`;
}

export async function startAirlock(opts: { extraSchema?: string; extraRoles?: string } = {}): Promise<Airlock> {
  const database = `airlock_sec_${randomBytes(5).toString('hex')}`;
  await adminQuery(`create database ${database}`);
  await adminQuery(SCHEMA + (opts.extraSchema ?? ''), database);
  const config = tempConfig(yaml(database, opts.extraRoles ?? ''));
  const tokens: Record<string, string> = {};
  for (const user of ['alice', 'mallory', 'bob', 'root']) {
    tokens[user] = (await runCli(['tokens', 'issue', user, '--config', config.path])).stdout.trim();
  }
  const server = await startServerProcess(config.path);
  const cliEnv = (user: string) => ({ AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: tokens[user], XDG_CONFIG_HOME: `${config.dir}/home-${user}` });
  const as = (user: string) => (...args: string[]) => runCli(args, cliEnv(user));

  const api = (user: string, path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${tokens[user]}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });

  /** Issues a fresh secret for `grantId` through the API, as `airlock connect` does. */
  async function connect(user: string, grantId: string, resource = 'orders-db'): Promise<Conn> {
    const where = (await (await api(user, `/api/connect/${resource}`)).json()) as { host: string; port: number; database: string };
    const issued = await api(user, `/api/grants/${grantId}/credentials`, { method: 'POST' });
    expect(issued.status, await issued.clone().text()).toBe(201);
    const { secret } = (await issued.json()) as { secret: string };
    return { host: where.host, port: where.port, user, database: where.database, password: secret, grant: grantId };
  }

  return {
    database,
    server,
    configDir: config.dir,
    configPath: config.path,
    as,
    token: (user) => tokens[user]!,
    async grant(user, role, duration = '30m', resource = 'orders-db') {
      const r = await api(user, '/api/requests', { method: 'POST', body: JSON.stringify({ resource, role, duration, reason: 'security test' }) });
      const body = (await r.json()) as { grant: { id: string } | null };
      expect(r.status, JSON.stringify(body)).toBe(201);
      expect(body.grant, 'the policy should grant this role at once').not.toBeNull();
      return connect(user, body.grant!.id, resource);
    },
    connect: (user, grantId, resource) => connect(user, grantId, resource),
    api,
    admin: (sql, params = []) => adminQuery(sql, database, params),
    async pg(conn) {
      const c = new pg.Client({ host: conn.host, port: conn.port, user: conn.user, database: conn.database, password: conn.password });
      c.on('error', () => undefined);
      await c.connect();
      return c;
    },
    raw: (conn) => RawClient.signIn(conn.port, conn.user, conn.database, conn.password),
    psql(conn, args, input) {
      return new Promise((resolve, reject) => {
        const child = spawn('psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=0', ...args], {
          env: { ...process.env, PGHOST: conn.host, PGPORT: String(conn.port), PGUSER: conn.user, PGDATABASE: conn.database, PGPASSWORD: conn.password, PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '10' },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('error', reject);
        child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(input ?? '');
      });
    },
    async stop() {
      await server.stop();
      config.cleanup();
      await adminQuery(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${database}' and pid <> pg_backend_pid()`);
      await adminQuery(`drop database if exists ${database}`);
    },
  };
}

/** Runs `sql` and returns the error message, or undefined when it succeeded. */
export async function errorOfQuery(c: pg.Client, sql: string): Promise<string | undefined> {
  try {
    await c.query(sql);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Polls `cond` a bounded number of times (each poll is a real round trip, no sleeping). */
export async function eventually(cond: () => Promise<boolean>, tries = 200): Promise<boolean> {
  for (let i = 0; i < tries; i++) if (await cond()) return true;
  return false;
}

export const secretToken = () => randomBytes(4).toString('hex');
