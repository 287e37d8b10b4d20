import { afterEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/chain.js';
import { ManualClock } from '../../src/core/clock.js';
import { loadConfig } from '../../src/config/load.js';
import { findGrant } from '../../src/store/grants.js';
import { startControlPlane } from '../../src/server/start.js';
import { EXAMPLE_CONFIG } from '../support/world.js';
import { runCli, startServerProcess, tempConfig } from '../support/cli.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('durability across a crash', () => {
  it('keeps every acknowledged grant with its original expiry after SIGKILL, expires the overdue ones at once, and the chain verifies', async () => {
    const config = tempConfig(EXAMPLE_CONFIG);
    cleanups.push(config.cleanup);
    const token = (await runCli(['tokens', 'issue', 'alice', '--config', config.path])).stdout.trim();
    const server = await startServerProcess(config.path);
    cleanups.push(() => server.stop('SIGKILL'));
    const env = { AIRLOCK_SERVER: server.url, AIRLOCK_TOKEN: token };
    const short = JSON.parse((await runCli(['request', 'orders-db', '--role', 'read', '--for', '10m', '--json'], env)).stdout);
    const long = JSON.parse((await runCli(['request', 'orders-db', '--role', 'read', '--for', '1h', '--json'], env)).stdout);
    await server.stop('SIGKILL');

    // A plain restart: nothing is lost, nothing moves.
    const again = await startServerProcess(config.path);
    const who = JSON.parse((await runCli(['who', '--json'], { AIRLOCK_SERVER: again.url, AIRLOCK_TOKEN: token })).stdout) as Array<{ id: string; expires_at: string }>;
    expect(who.map((g) => [g.id, g.expires_at]).sort()).toEqual(
      [[short.grant.id, short.grant.expires_at], [long.grant.id, long.grant.expires_at]].sort(),
    );
    await again.stop('SIGKILL');

    // Restart 15 minutes later (a manual clock stands in for the wait): the 10-minute grant expires at once.
    const clock = new ManualClock(new Date(Date.parse(short.grant.expires_at) + 5 * 60_000));
    const cp = await startControlPlane(loadConfig(config.path), { clock, listen: '127.0.0.1:0' });
    cleanups.push(() => cp.close());
    const expired = await findGrant(cp.store.db, short.grant.id);
    expect(expired?.state).toBe('expired');
    expect(expired?.endedAt?.toISOString()).toBe(short.grant.expires_at);
    const kept = await findGrant(cp.store.db, long.grant.id);
    expect(kept?.state).toBe('active');
    expect(kept?.expiresAt.toISOString()).toBe(long.grant.expires_at);
    expect(await verifyAudit(cp.store.db)).toMatchObject({ ok: true });
  });
});

describe('airlock audit verify', () => {
  it('exits 1 and names the first bad seq when a row was edited in the file', async () => {
    const config = tempConfig(EXAMPLE_CONFIG);
    cleanups.push(config.cleanup);
    for (const user of ['alice', 'bob', 'carol']) expect((await runCli(['tokens', 'issue', user, '--config', config.path])).code).toBe(0);
    expect((await runCli(['audit', 'verify', '--config', config.path])).code).toBe(0);
    const { default: SQLite } = await import('better-sqlite3');
    const db = new SQLite(`${config.dir}/.airlock/airlock.db`);
    db.prepare(`update audit_events set subject_user = 'mallory' where seq = 2`).run();
    db.close();
    const r = await runCli(['audit', 'verify', '--config', config.path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('audit chain BROKEN at seq 2');
  });
});
