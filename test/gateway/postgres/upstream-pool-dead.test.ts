import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamPool } from '../../../src/gateway/postgres/upstream-pool.js';
import type { UpstreamOptions } from '../../../src/gateway/postgres/upstream.js';
import { ADMIN } from './pg-fixture.js';

/**
 * A warm connection whose server went silent (a dropped link, a frozen
 * host: nothing closes, nothing answers) must not hold a new session for
 * the whole sign-in deadline: the pool gives it a short deadline of its own,
 * drops the other idle connections of that login, and signs in anew.
 */

/** A loopback TCP relay to PostgreSQL whose open connections can be frozen: bytes stop in both directions, nothing closes. */
async function freezableRelay() {
  const pairs: { client: net.Socket; upstream: net.Socket }[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: ADMIN.host, port: ADMIN.port });
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    pairs.push({ client, upstream });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze() {
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const opts: UpstreamOptions = { resource: 'pool-dead', role: 'read', applicationName: 'airlock:pool-dead', readOnly: true };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a warm connection to a server that went silent', () => {
  it('is given up within the reuse deadline, with the other idle ones, and the session gets a new connection', async () => {
    const relay = await freezableRelay();
    cleanups.push(() => relay.close());
    const pool = new UpstreamPool({ reuseTimeoutMs: 500 });
    cleanups.push(() => pool.close());
    const target = { host: '127.0.0.1', port: relay.port, database: ADMIN.database, user: ADMIN.user };

    const first = await Promise.all([pool.acquire(target, opts), pool.acquire(target, opts), pool.acquire(target, opts)]);
    for (const conn of first) await pool.release(conn, target, opts);
    expect(pool.size()).toBe(3);

    relay.freeze();
    const started = performance.now();
    const conn = await pool.acquire(target, opts);
    const waitedMs = performance.now() - started;
    cleanups.push(() => void conn.socket.destroy());
    // One short deadline, not one per idle connection, and far from the 15 s sign-in deadline the old code waited.
    expect(waitedMs).toBeLessThan(500 + 5_000);
    expect(pool.reused).toBe(0);
    expect(pool.size()).toBe(0);
    // The new connection answers.
    conn.socket.resume();
    conn.socket.write(Buffer.from([0x51, 0, 0, 0, 13, ...Buffer.from('select 1\0')]));
    const answer = await new Promise<Buffer>((resolve) => conn.socket.once('data', resolve));
    expect(answer.includes(Buffer.from('SELECT 1\0'))).toBe(true);
  }, 30_000);
});
