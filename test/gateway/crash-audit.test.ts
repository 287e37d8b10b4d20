import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/chain.js';
import { checkIntentCoverage } from '../../src/audit/intent-coverage.js';
import { loadConfig } from '../../src/config/load.js';
import { startControlPlane } from '../../src/server/start.js';
import { runCli, startServerProcess, tempConfig, type ServerProcess } from '../support/cli.js';
import { admin, scratch } from './postgres/pg-fixture.js';

/**
 * Issue 9's acceptance: 8 clients write through the gateway, `airlock server`
 * is killed with SIGKILL at a random moment, restarted, three times. Every row
 * PostgreSQL committed has an audit record with its statement text, no
 * statement is recorded as done that did not happen, and the chain verifies.
 */
const CLIENTS = 8;
const ROUNDS = 3;

let db: Awaited<ReturnType<typeof scratch>>;
let config: ReturnType<typeof tempConfig>;
let token: string;

beforeAll(async () => {
  db = await scratch();
  await admin((c) => c.query(`create table ${db.schema}.rows (id bigint primary key, client int not null)`).then(() => c.query(`alter table ${db.schema}.rows owner to ${db.role}`)));
  config = tempConfig(`
users:
  - { name: alice, groups: [oncall] }
resources:
  - name: crash-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: test }
    roles:
      write: { credential: { user: ${db.role}, password_env: CRASH_PG_PASSWORD }, allow: [read, write] }
policies:
  - { name: oncall, who: { groups: [oncall] }, resources: { names: [crash-db] }, roles: [write], max_duration: 1h, approval: none }
gateway:
  postgres: { listen: 127.0.0.1:0 }
`);
  token = (await runCli(['tokens', 'issue', 'alice', '--config', config.path])).stdout.trim();
}, 60_000);

afterAll(async () => {
  await db?.drop();
  config?.cleanup();
});

async function api<T>(server: ServerProcess, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The gateway's port from the server's start-up lines (they may arrive just after the API's). */
async function gatewayPort(server: ServerProcess): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const m = /postgres gateway listening on [^\s]+:(\d+)/.exec(server.output());
    if (m) return Number(m[1]);
    if (Date.now() > deadline) throw new Error(`no gateway line in:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs `CLIENTS` writers until `stopAfter` inserts are acknowledged in all, then kills the server mid-load. */
async function loadAndKill(server: ServerProcess, secret: string, round: number, stopAfter: number): Promise<void> {
  const port = await gatewayPort(server);
  let acknowledged = 0;
  let killed = false;
  const writer = async (client: number) => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'alice', password: secret, database: 'crash-db' });
    c.on('error', () => undefined);
    await c.connect();
    for (let i = 0; !killed; i++) {
      const id = round * 1e9 + client * 1e6 + i;
      try {
        await c.query(`insert into rows (id, client) values (${id}, ${client})`);
      } catch {
        return;
      }
      if (++acknowledged >= stopAfter && !killed) {
        killed = true;
        await server.stop('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => writer(i)));
  expect(killed).toBe(true);
}

describe('no statement runs unrecorded, across kill -9', () => {
  it('three crashes under write load: every committed row has its audit record, nothing is fabricated, the chain verifies', async () => {
    let server = await startServerProcess(config.path, { CRASH_PG_PASSWORD: db.password });
    const asked = await api<{ grant: { id: string } }>(server, 'POST', '/api/requests', { resource: 'crash-db', role: 'write', duration: '1h', reason: 'crash test' });
    const { secret } = await api<{ secret: string }>(server, 'POST', `/api/grants/${asked.grant.id}/credentials`, {});
    for (let round = 1; round <= ROUNDS; round++) {
      if (round > 1) server = await startServerProcess(config.path, { CRASH_PG_PASSWORD: db.password });
      await loadAndKill(server, secret, round, 150 + Math.floor(Math.random() * 300));
    }

    // The last restart: recovery runs as the control plane starts.
    const cp = await startControlPlane(loadConfig(config.path), { listen: '127.0.0.1:0' });
    try {
      const committed = await admin(async (c) => (await c.query(`select id::text from ${db.schema}.rows`)).rows.map((r: { id: string }) => r.id));
      expect(committed.length).toBeGreaterThan(ROUNDS * 100);
      const events = await cp.store.db.selectFrom('audit_events').select(['action', 'details']).where('action', '=', 'statement').execute();
      const byId = new Map<string, { outcome: string; intent?: string }>();
      for (const e of events) {
        const d = JSON.parse(e.details) as { text?: string; outcome: string; intent?: string };
        const m = /values \((\d+),/.exec(d.text ?? '');
        if (m) {
          // One record per statement: an outcome and a crash closure for the same statement would be a fabrication.
          expect(byId.has(m[1]!)).toBe(false);
          byId.set(m[1]!, d);
        }
      }
      const unrecorded = committed.filter((id) => !byId.has(id));
      expect(unrecorded).toEqual([]);
      // Recorded as done only what PostgreSQL has; the rest is "may or may not have run".
      const rows = new Set(committed);
      const fabricated = [...byId].filter(([id, d]) => d.outcome === 'ok' && !rows.has(id));
      expect(fabricated).toEqual([]);
      const uncertain = [...byId.values()].filter((d) => d.outcome === 'unknown');
      expect(uncertain.length).toBeGreaterThan(0);
      for (const d of byId.values()) expect(d.intent).toEqual(expect.any(String));
      expect(await verifyAudit(cp.store.db)).toMatchObject({ ok: true });
      expect(await checkIntentCoverage(cp.store.db, null)).toMatchObject({ ok: true, missingCount: 0, duplicated: [] });
      const intentDir = `${join(config.dir, '.airlock', 'airlock.db')}-intents`;
      expect(existsSync(intentDir) ? readdirSync(intentDir) : []).toEqual([]);
    } finally {
      await cp.close();
    }
  }, 120_000);
});
