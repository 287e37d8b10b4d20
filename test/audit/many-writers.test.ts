import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/chain.js';
import { openStore } from '../../src/store/store.js';
import { runCli, startServerProcess, tempConfig, type ServerProcess } from '../support/cli.js';
import { storeFactory, type TestStore } from '../support/stores.js';
import { scratch } from '../gateway/postgres/pg-fixture.js';

/**
 * Issue 12's audit chain with many writers: three `airlock server`
 * processes on one PostgreSQL store, each with clients sending statements
 * through its gateway (statement batches from each writer thread) while
 * requests are made on every node's API (lifecycle events from each main
 * thread). One chain, no fork, no gap; `airlock audit verify` holds.
 */
const NODES = 3;
const CLIENTS_PER_NODE = 2;
const STATEMENTS = 150;

const stores = storeFactory('postgres');
let upstream: Awaited<ReturnType<typeof scratch>>;
let store: TestStore;
const configs: Array<ReturnType<typeof tempConfig>> = [];

beforeAll(async () => {
  upstream = await scratch();
  store = await stores.fresh();
  for (let i = 1; i <= NODES; i++) {
    configs.push(
      tempConfig(`
store_env: AIRLOCK_TEST_STORE
node: { name: node-${i} }
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
`),
    );
  }
}, 60_000);

afterAll(async () => {
  await upstream?.drop();
  await stores.dropAll();
  for (const c of configs) c.cleanup();
});

async function gatewayPort(server: ServerProcess): Promise<number> {
  for (const deadline = Date.now() + 10_000; ; ) {
    const m = /postgres gateway listening on [^\s]+:(\d+)/.exec(server.output());
    if (m) return Number(m[1]);
    if (Date.now() > deadline) throw new Error(`no gateway line in:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('one audit chain, three nodes writing at once', () => {
  it('keeps statements and lifecycle events of three airlock server processes in one chain that verifies', async () => {
    const env = { AIRLOCK_TEST_STORE: store.url, UPSTREAM_PASSWORD: upstream.password };
    const token = (await runCli(['tokens', 'issue', 'alice', '--config', configs[0]!.path], env)).stdout.trim();
    const servers = await Promise.all(configs.map((c) => startServerProcess(c.path, env)));
    try {
      const api = async <T>(server: ServerProcess, method: string, path: string, body?: unknown): Promise<T> => {
        const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
        return (await res.json()) as T;
      };
      const asked = await api<{ grant: { id: string } }>(servers[0]!, 'POST', '/api/requests', { resource: 'orders', role: 'read', duration: '30m', reason: 'INC-12' });
      const { secret } = await api<{ secret: string }>(servers[1]!, 'POST', `/api/grants/${asked.grant.id}/credentials`, {});
      const ports = await Promise.all(servers.map(gatewayPort));

      const clients = ports.flatMap((port, node) =>
        Array.from({ length: CLIENTS_PER_NODE }, async (_, k) => {
          const c = new pg.Client({ host: '127.0.0.1', port, user: 'alice', password: secret, database: 'orders' });
          await c.connect();
          for (let i = 0; i < STATEMENTS; i++) await c.query(`select ${node * 1_000_000 + k * 10_000 + i} as n`);
          await c.end();
        }),
      );
      // Lifecycle events on every node's API meanwhile: each request writes its own events in a transaction of its own.
      const lifecycle = servers.map(async (server, node) => {
        for (let i = 0; i < 5; i++) await api(server, 'POST', '/api/requests', { resource: 'orders', role: 'read', duration: '5m', reason: `node ${node} #${i}` });
      });
      await Promise.all([...clients, ...lifecycle]);
    } finally {
      await Promise.all(servers.map((s) => s.stop('SIGTERM')));
    }

    const verified = await runCli(['audit', 'verify', '--config', configs[2]!.path, '--json'], env);
    expect(verified.code).toBe(0);
    const s = await openStore(store.url, configs[0]!.dir);
    try {
      const result = await verifyAudit(s.db);
      expect(result).toMatchObject({ ok: true });
      const statements = await s.db.selectFrom('audit_events').select('details').where('action', '=', 'statement').execute();
      const texts = new Set(statements.map((r) => (JSON.parse(r.details) as { text: string }).text));
      expect(texts.size).toBe(NODES * CLIENTS_PER_NODE * STATEMENTS);
      expect(statements).toHaveLength(NODES * CLIENTS_PER_NODE * STATEMENTS);
      const sessions = await s.db.selectFrom('sessions').select(['node', 'statements']).execute();
      expect(sessions.map((r) => r.node).sort()).toEqual(['node-1', 'node-1', 'node-2', 'node-2', 'node-3', 'node-3']);
      expect(sessions.every((r) => r.statements === STATEMENTS)).toBe(true);
      const requests = await s.db.selectFrom('audit_events').select('seq').where('action', '=', 'request.created').execute();
      expect(requests).toHaveLength(1 + NODES * 5);
    } finally {
      await s.close();
    }
  }, 120_000);
});
