import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';
import { createApiClient } from '../../src/server/api-client.js';
import { runCli } from '../support/cli.js';

let demo: Awaited<ReturnType<typeof runDemo>>;
let home: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'airlock-demo-busy-'));
  demo = await runDemo({ dir: join(home, '.airlock', 'demo'), apiPort: 0, gatewayPort: 0, log: () => undefined });
}, 180_000);

afterAll(async () => {
  await demo?.close();
  rmSync(home, { recursive: true, force: true });
});

const api = (user: string) => createApiClient(demo.airlock.url, demo.tokens[user]!);

/** A pg client through the demo gateway on a fresh grant of `role` for alice (write is approved by bob). */
async function connect(role: 'read' | 'write') {
  const alice = api('alice');
  const asked = await alice.request({ resource: 'orders-db', role, duration: '15m', reason: 'INC-4411 demo', ticket: 'INC-4411' });
  let grant = asked.grant;
  if (!grant) grant = (await api('bob').approve(asked.request.id)).grant!;
  const { secret } = await alice.credentials(grant.id);
  const gw = demo.airlock.gateways.postgres!;
  const client = new pg.Client({ host: gw.host, port: gw.port, user: 'alice', database: 'orders-db', password: secret });
  client.on('error', () => undefined);
  await client.connect();
  return { client, grant };
}

const show = async (client: pg.Client) => (await client.query('show default_transaction_read_only')).rows[0].default_transaction_read_only as string;

describe('airlock demo: the embedded database beside the event loop', () => {
  it('answers the API while a statement runs, and a revoke cuts that session at once', async () => {
    const { client, grant } = await connect('read');
    const started = Date.now();
    const sleeping = client.query('select pg_sleep(5)').then(
      () => 'finished',
      (err: Error) => err.message,
    );
    // Health checks back to back for the first second of the statement: none may wait for the database.
    let slowest = 0;
    while (Date.now() - started < 1_000) {
      const t0 = Date.now();
      expect((await fetch(`${demo.airlock.url}/api/health`)).status).toBe(200);
      slowest = Math.max(slowest, Date.now() - t0);
    }
    expect(slowest).toBeLessThan(1_000);

    const revoked = Date.now();
    await api('root').revoke(grant.id, 'done');
    const outcome = await sleeping;
    expect(outcome).toContain('revoked');
    // Cut while the database still runs the statement (it has seconds to go), not when it returns.
    expect(Date.now() - revoked).toBeLessThan(1_500);
    expect(Date.now() - started).toBeLessThan(4_000);

    // The database takes the next session once the cut one's statement is over.
    const next = await connect('read');
    expect((await next.client.query('select count(*)::int as n from orders')).rows[0].n).toBe(200);
    await next.client.end();
  }, 30_000);

  it('puts the gateway\'s startup settings in place per session: read is read-only, write is not', async () => {
    const read = await connect('read');
    expect(await show(read.client)).toBe('on');
    const write = await connect('write');
    expect(await show(write.client)).toBe('off');
    // Both open: each statement runs with its own session's settings.
    expect(await show(read.client)).toBe('on');
    expect(await show(write.client)).toBe('off');
    await read.client.end();
    await write.client.end();
  }, 30_000);

  it('`airlock resources check` signs in to the demo\'s own database', async () => {
    const r = await runCli(['resources', 'check'], { AIRLOCK_SERVER: demo.airlock.url, AIRLOCK_TOKEN: demo.tokens.root }, home);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).not.toContain('not set');
    expect(r.stdout).toMatch(/orders-db/);
  }, 30_000);
});
