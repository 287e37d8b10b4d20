import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/chain.js';
import { openStore } from '../../src/store/store.js';
import { runCli, startServerProcess, tempConfig } from '../support/cli.js';
import { storeFactory, type TestStore } from '../support/stores.js';
import { scratch } from '../gateway/postgres/pg-fixture.js';

/**
 * `airlock server` with its whole control plane on PostgreSQL (the URL from
 * `store_env`, with a password in it), a real psql through the gateway, then
 * `airlock audit verify` over the shared store.
 */
const stores = storeFactory('postgres');
let upstream: Awaited<ReturnType<typeof scratch>>;
let store: TestStore;
let storeUrl: string;
let config: ReturnType<typeof tempConfig>;
const PASSWORD = 'never-printed-7f3a';

beforeAll(async () => {
  upstream = await scratch();
  store = await stores.fresh();
  // Trust auth ignores the password; it is there to prove it never reaches output.
  const u = new URL(store.url);
  u.password = PASSWORD;
  storeUrl = u.toString();
  config = tempConfig(`
store_env: AIRLOCK_TEST_STORE
node: { name: node-one }
users:
  - { name: alice, groups: [oncall] }
resources:
  - name: orders
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: test }
    roles:
      read: { credential: { user: ${upstream.role}, password_env: UPSTREAM_PASSWORD }, allow: [read] }
policies:
  - { name: oncall, who: { groups: [oncall] }, resources: { names: [orders] }, roles: [read], max_duration: 1h, approval: none }
gateway:
  postgres: { listen: 127.0.0.1:0 }
`);
}, 60_000);

afterAll(async () => {
  await upstream?.drop();
  await stores.dropAll();
  config?.cleanup();
});

describe('airlock server on a PostgreSQL store', () => {
  it('serves psql through the gateway, records it in the shared store, and the chain verifies', async () => {
    const env = { AIRLOCK_TEST_STORE: storeUrl, UPSTREAM_PASSWORD: upstream.password };
    const issued = await runCli(['tokens', 'issue', 'alice', '--config', config.path], env);
    expect(issued.code).toBe(0);
    const token = issued.stdout.trim();
    const server = await startServerProcess(config.path, env);
    try {
      const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
        const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
        return (await res.json()) as T;
      };
      const asked = await api<{ grant: { id: string } }>('POST', '/api/requests', { resource: 'orders', role: 'read', duration: '30m', reason: 'INC-7' });
      const { secret } = await api<{ secret: string }>('POST', `/api/grants/${asked.grant.id}/credentials`, {});
      let port = 0;
      for (const deadline = Date.now() + 10_000; !port; ) {
        const m = /postgres gateway listening on [^\s]+:(\d+)/.exec(server.output());
        if (m) port = Number(m[1]);
        else if (Date.now() > deadline) throw new Error(`no gateway line in:\n${server.output()}`);
        else await new Promise((r) => setTimeout(r, 10));
      }
      const psql = await promisify(execFile)('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'alice', '-d', 'orders', '-At', '-c', 'select count(*) from orders'], {
        env: { ...process.env, PGPASSWORD: secret, PGSSLMODE: 'disable' },
      });
      expect(psql.stdout.trim()).toBe('100');
      const refused = await promisify(execFile)('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'alice', '-d', 'orders', '-At', '-c', 'delete from orders'], {
        env: { ...process.env, PGPASSWORD: secret, PGSSLMODE: 'disable' },
      }).then(() => null, (err: { stderr: string }) => err.stderr);
      expect(refused).toMatch(/airlock/i);
    } finally {
      await server.stop('SIGTERM');
    }
    expect(server.output()).not.toContain(PASSWORD);
    expect(server.output()).toContain('postgres://postgres:***@127.0.0.1:5432/');

    const verified = await runCli(['audit', 'verify', '--config', config.path], env);
    expect(verified.code).toBe(0);
    expect(verified.stdout + verified.stderr).not.toContain(PASSWORD);

    const s = await openStore(storeUrl, config.dir, { node: 'node-one' });
    try {
      expect(await verifyAudit(s.db)).toMatchObject({ ok: true });
      const statements = await s.db.selectFrom('audit_events').select(['action', 'details']).where('action', 'like', 'statement%').orderBy('seq').execute();
      expect(statements.map((r) => [r.action, (JSON.parse(r.details) as { text: string }).text])).toEqual([
        ['statement', 'select count(*) from orders'],
        ['statement.refused', 'delete from orders'],
      ]);
      const sessions = await s.db.selectFrom('sessions').select(['node', 'ended_at', 'statements']).execute();
      expect(sessions.map((r) => r.node)).toEqual(['node-one', 'node-one']);
      expect(sessions.every((r) => r.ended_at !== null)).toBe(true);
    } finally {
      await s.close();
    }
    // This node's intents live in a local folder of its own; every one was settled.
    expect(readdirSync(join(config.dir, '.airlock', 'intents', 'node-one')).filter((f) => f.endsWith('.log'))).toEqual([]);
  }, 60_000);
});
