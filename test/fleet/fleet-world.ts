import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runCli, startServerProcess, tempConfig, type ServerProcess } from '../support/cli.js';
import { startStoreProxy, type StoreProxy } from './store-proxy.js';

/**
 * Three `airlock server` processes on one PostgreSQL store (a database of
 * this test file's own, reached through a proxy the test can cut), gating an
 * upstream database of their own. Shared by the tests of one file.
 */
export const ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };

export async function adminQuery<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = [], database = ADMIN.database) {
  const c = new pg.Client({ ...ADMIN, database });
  await c.connect();
  try {
    return await c.query<R>(text, params);
  } finally {
    await c.end();
  }
}

export interface FleetNode {
  readonly name: string;
  readonly configPath: string;
  server: ServerProcess;
  /** The node's own Postgres gateway. */
  gateway: { host: string; port: number };
}

export interface FleetWorldOptions {
  readonly nodes?: number;
  readonly storeLossGrace?: string;
}

function yaml(storeUrl: string, node: string, upstreamDb: string, roleRo: string, grace: string): string {
  return `
store: ${storeUrl}
node: { name: ${node} }
store_loss_grace: ${grace}
users:
  - { name: alice, groups: [oncall] }
  - { name: carol, groups: [oncall] }
  - { name: root,  groups: [airlock-admins] }
admins: { groups: [airlock-admins] }
resources:
  - name: orders-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: ${upstreamDb} }
    labels: { env: prod }
    roles:
      read:
        credential: { user: ${roleRo}, password_env: FLEET_RO_PASSWORD }
        allow: [read]
policies:
  - name: oncall-reads
    who: { groups: [oncall] }
    resources: { labels: { env: prod } }
    roles: [read]
    max_duration: 1h
    approval: none
gateway:
  postgres:
    listen: 127.0.0.1:0
`;
}

export async function startFleetWorld(options: FleetWorldOptions = {}) {
  const suffix = randomBytes(4).toString('hex');
  const storeDb = `airlock_fleet_store_${suffix}`;
  const upstreamDb = `airlock_fleet_up_${suffix}`;
  const roleRo = `airlock_fleet_ro_${suffix}`;
  const password = `Upstream-${randomBytes(8).toString('hex')}`;
  await adminQuery(`create database ${storeDb}`);
  await adminQuery(`create database ${upstreamDb}`);
  await adminQuery(`create role ${roleRo} login password '${password}'`);
  const dropAll = async () => {
    for (const db of [storeDb, upstreamDb]) {
      await adminQuery(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1`, [db]);
      await adminQuery(`drop database if exists ${db}`);
    }
    await adminQuery(`drop role if exists ${roleRo}`);
  };
  try {
    return await startIn();
  } catch (err) {
    await dropAll();
    throw err;
  }

  async function startIn() {
    await adminQuery(`create table orders (id int primary key); insert into orders select generate_series(1, 10); grant select on orders to ${roleRo}`, [], upstreamDb);
    const proxy: StoreProxy = await startStoreProxy({ host: ADMIN.host, port: ADMIN.port });
    const storeUrl = `postgres://postgres@127.0.0.1:${proxy.port}/${storeDb}`;
    const env = { FLEET_RO_PASSWORD: password };
    const names = Array.from({ length: options.nodes ?? 3 }, (_, i) => `node-${i + 1}`);
    const configs = names.map((name) => ({ name, ...tempConfig(yaml(storeUrl, name, upstreamDb, roleRo, options.storeLossGrace ?? '3s')) }));

    // The first start migrates the store; tokens are issued once, for every node.
    const tokens: Record<string, string> = {};
    const tokensAt = performance.now();
    const issue = async (user: string) => {
      const r = await runCli(['tokens', 'issue', user, '--config', configs[0]!.path]);
      if (r.code !== 0) throw new Error(`tokens issue ${user} failed: ${r.stderr}`);
      tokens[user] = r.stdout.trim();
    };
    await issue('root');
    await Promise.all([issue('alice'), issue('carol')]);
    console.log(`fleet: store migrated and tokens issued in ${Math.round(performance.now() - tokensAt)} ms`);

    async function startNode(name: string, configPath: string): Promise<FleetNode> {
      const server = await startServerProcess(configPath, env);
      // The gateway's line follows the control plane's, maybe in a later chunk.
      let m: RegExpExecArray | null = null;
      for (let i = 0; i < 200 && !m; i++) {
        m = /postgres gateway listening on ([\d.]+):(\d+)/.exec(server.output());
        if (!m) await new Promise((r) => setTimeout(r, 25));
      }
      if (!m) {
        await server.stop('SIGKILL');
        throw new Error(`node ${name} printed no gateway address:\n${server.output()}`);
      }
      return { name, configPath, server, gateway: { host: m[1]!, port: Number(m[2]) } };
    }
    const t0 = performance.now();
    const started = await Promise.allSettled(configs.map((c) => startNode(c.name, c.path)));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      for (const r of started) if (r.status === 'fulfilled') await r.value.server.stop('SIGKILL');
      throw failed.reason;
    }
    const nodes = started.map((r) => (r as PromiseFulfilledResult<FleetNode>).value);
    console.log(`fleet: three nodes up in ${Math.round(performance.now() - t0)} ms`);

    async function api<T = Record<string, unknown>>(node: FleetNode, user: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
      const res = await fetch(`${node.server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${tokens[user]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as T };
    }

    return {
      nodes,
      proxy,
      tokens,
      storeDb,
      api,
      /** A read grant for `user`, requested on `via`, and its connection secret. */
      async grant(via: FleetNode, user = 'alice', duration = '30m'): Promise<{ grantId: string; secret: string }> {
        const r = await api<{ grant: { id: string } }>(via, user, 'POST', '/api/requests', { resource: 'orders-db', role: 'read', duration, reason: 'fleet test' });
        if (r.status !== 201 && r.status !== 200) throw new Error(`request failed: ${JSON.stringify(r.body)}`);
        const grantId = r.body.grant.id;
        const s = await api<{ secret: string }>(via, user, 'POST', `/api/grants/${grantId}/credentials`);
        return { grantId, secret: s.body.secret };
      },
      /** A `pg` client signed in through `node`'s gateway. */
      async connect(node: FleetNode, secret: string, user = 'alice'): Promise<pg.Client> {
        const c = new pg.Client({ host: node.gateway.host, port: node.gateway.port, user, database: 'orders-db', password: secret, ssl: false });
        // A cut arrives as an error event; the tests that care listen for it (closedAfter).
        c.on('error', () => undefined);
        await c.connect();
        return c;
      },
      /** Starts a node again (after a kill), with the same name and config. */
      async restart(node: FleetNode): Promise<void> {
        const fresh = await startNode(node.name, node.configPath);
        node.server = fresh.server;
        node.gateway = fresh.gateway;
      },
      store<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = []) {
        return adminQuery<R>(text, params, storeDb);
      },
      async close(): Promise<void> {
        await Promise.all(nodes.map((n) => n.server.stop()));
        await proxy.close();
        for (const c of configs) c.cleanup();
        await dropAll();
      },
    };
  }
}

export type FleetWorld = Awaited<ReturnType<typeof startFleetWorld>>;

/** Resolves once the client's connection is closed (by the gateway), with when (performance.now()) and what it was told. */
export function closedAt(client: pg.Client): Promise<{ at: number; message: string }> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (message: string) => {
      if (done) return;
      done = true;
      resolve({ at: performance.now(), message });
    };
    client.on('error', (err) => finish(err.message));
    client.on('end', () => finish('connection ended'));
  });
}
