import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamTarget } from '../../../src/gateway/postgres/backend.js';
import { createPostgresGateway, type PostgresGateway } from '../../../src/gateway/postgres/index.js';
import { forgetCatalogFacts, openUpstream } from '../../../src/gateway/postgres/upstream.js';
import { FakeBackend } from './fake-backend.js';
import { run } from './harness.js';
import { ADMIN, admin, uniqueName } from './pg-fixture.js';

/**
 * Every session reads its database's catalog facts before the relay starts
 * (sql/catalog-facts.ts). A session whose upstream login cannot read them
 * must not open: the policy would otherwise judge statements blind to the
 * user code they reach.
 */

const database = uniqueName('airlock_nocatalog');
const role = uniqueName('airlock_svc');
const password = randomBytes(12).toString('hex');
const target: UpstreamTarget = { host: ADMIN.host, port: ADMIN.port, database, user: role, password };

let gateway: PostgresGateway;
const backend = new FakeBackend();

beforeAll(async () => {
  await admin(async (c) => {
    await c.query(`create role ${role} login password '${password}'`);
    await c.query(`create database ${database}`);
  });
  await admin(async (c) => {
    await c.query('create table orders (id int)');
    await c.query(`grant select on orders to ${role}`);
  }, database);
  gateway = await createPostgresGateway({ backend, listen: { host: '127.0.0.1', port: 0 } });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await admin(async (c) => {
    await c.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [database]);
    await c.query(`drop database if exists ${database}`);
    await c.query(`drop role if exists ${role}`);
  });
});

const psqlAs = (sql: string) => {
  const user = uniqueName('alice');
  const { secret } = backend.issue({ user, resource: 'orders-db', role: 'read', allow: ['read'], target });
  return run('psql', ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(gateway.address().port), '-U', user, '-d', 'orders-db', '-c', sql], {
    PGPASSWORD: secret,
    PGSSLMODE: 'disable',
    PGCONNECT_TIMEOUT: '10',
  });
};

describe('the catalog facts a session needs', () => {
  it('are read at startup, with the search_path, before the client is told the session is ready', async () => {
    const upstream = await openUpstream(target, { resource: 'orders-db', role: 'read', applicationName: 'airlock:test', readOnly: true });
    try {
      expect(upstream.catalog.fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(upstream.searchPath).toContain('public');
      expect(upstream.txStatus).toBe(0x49); // idle: the catalog query's own transaction is over
    } finally {
      upstream.socket.destroy();
    }
    const r = await psqlAs('select count(*) from orders');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('0');
  });

  it('refuse the session, in a protocol error the client shows, when the login cannot read them', async () => {
    await admin((c) => c.query('revoke select on pg_catalog.pg_rewrite from public'), database);
    // The first test's session left facts for this login to reuse; this one must read them again.
    forgetCatalogFacts();
    try {
      const before = backend.ended.length;
      const r = await psqlAs('select 1');
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        /FATAL: {2}airlock: the gateway could not read the orders-db upstream's catalog, which the SQL policy needs to check statements for role read \(it answered with SQLSTATE 42501\); the session was not opened/,
      );
      await backend.until(() => backend.ended.length > before);
      expect(backend.ended.at(-1)?.reason).toBe('upstream');
    } finally {
      await admin((c) => c.query('grant select on pg_catalog.pg_rewrite to public'), database);
    }
  });
});
