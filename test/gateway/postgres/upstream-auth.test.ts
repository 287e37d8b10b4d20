import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamTarget } from '../../../src/gateway/postgres/backend.js';
import { createPostgresGateway, type PostgresGateway } from '../../../src/gateway/postgres/index.js';
import { FakeBackend } from './fake-backend.js';
import { run } from './harness.js';
import { startTempCluster, type TempCluster } from './temp-cluster.js';
import { toyCheck } from './toy-check.js';

/**
 * The gateway signs in to the upstream with the role's real credential, by
 * whatever method the upstream asks for, against a real PostgreSQL whose
 * pg_hba.conf demands passwords.
 */
describe('upstream sign-in with the role credential', () => {
  let cluster: TempCluster;
  let gateway: PostgresGateway;
  const backend = new FakeBackend();
  const PASSWORDS = { scram_role: 'scr-pw-1', md5_role: 'md5-pw-2', clear_role: 'clr-pw-3', tls_role: 'tls-pw-4' } as const;

  beforeAll(async () => {
    cluster = await startTempCluster({
      scram_role: ['scram-sha-256', PASSWORDS.scram_role],
      md5_role: ['md5', PASSWORDS.md5_role],
      clear_role: ['password', PASSWORDS.clear_role],
      tls_role: ['scram-sha-256', PASSWORDS.tls_role],
    });
    gateway = await createPostgresGateway({ backend, listen: { host: '127.0.0.1', port: 0 }, checkSql: toyCheck });
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await cluster?.stop();
  });

  const target = (user: string, extra: Partial<UpstreamTarget> = {}): UpstreamTarget => ({
    host: '127.0.0.1',
    port: cluster.port,
    database: 'postgres',
    user,
    password: PASSWORDS[user as keyof typeof PASSWORDS],
    ...extra,
  });

  const psqlAs = (t: UpstreamTarget, sql: string) => {
    const user = `alice_${Math.random().toString(36).slice(2, 8)}`;
    const { secret } = backend.issue({ user, resource: 'orders-db', role: 'read', allow: ['read'], target: t });
    return run('psql', ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(gateway.address().port), '-U', user, '-d', 'orders-db', '-c', sql], {
      PGPASSWORD: secret,
      PGSSLMODE: 'disable',
    });
  };

  it.each([
    ['SCRAM-SHA-256', 'scram_role'],
    ['MD5', 'md5_role'],
  ])('signs in with %s', async (_method, role) => {
    const r = await psqlAs(target(role), 'select current_user');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(role);
  });

  it('sends a cleartext password only to an upstream whose certificate it verified', async () => {
    const plain = await psqlAs(target('clear_role'), 'select current_user');
    expect(plain.stderr).toContain('cleartext password without verified TLS');
    expect(plain.stderr).not.toContain(PASSWORDS.clear_role);
    const verified = await psqlAs(target('clear_role', { tls: { rejectUnauthorized: true, ca: cluster.ca }, host: 'localhost' }), 'select current_user');
    expect(verified.stderr).toBe('');
    expect(verified.stdout.trim()).toBe('clear_role');
  });

  it('signs in over TLS (SSLRequest to the upstream), verifying the upstream certificate', async () => {
    const r = await psqlAs(target('tls_role', { tls: { rejectUnauthorized: true, ca: cluster.ca }, host: 'localhost' }), 'select ssl from pg_stat_ssl where pid = pg_backend_pid()');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('t');
  });

  it('tells the user the upstream refused the credential, without showing the password', async () => {
    const r = await psqlAs(target('scram_role', { password: 'not-the-password-xyz' }), 'select 1');
    expect(r.stderr).toContain("airlock: the orders-db upstream rejected Airlock's login for role read; an admin can see why in the audit log");
    expect(r.stderr).not.toContain('not-the-password-xyz');
    await backend.until(() => backend.ended.some((e) => e.reason === 'upstream'));
  });

  it("records the upstream's own words for an admin when the role's login does not exist, and tells the user a short true sentence", async () => {
    const before = backend.upstreamFailures.length;
    const r = await psqlAs(target('orders_ro_missing', { password: 'whatever-pw-1' }), 'select 1');
    expect(r.stderr).toContain("rejected Airlock's login for role read");
    expect(r.stderr).not.toContain('does not exist');
    await backend.until(() => backend.upstreamFailures.length > before);
    const failure = backend.upstreamFailures.at(-1)!;
    // The temp cluster's pg_hba asks for a password first; either way the upstream's own words are kept.
    expect(failure.detail).toMatch(/orders_ro_missing|password authentication failed/);
    expect(failure.detail).toMatch(/SQLSTATE 28/);
    expect(JSON.stringify(failure)).not.toContain('whatever-pw-1');
  });

  it('names a database the upstream does not have in the record, not to the user', async () => {
    const before = backend.upstreamFailures.length;
    const r = await psqlAs(target('scram_role', { database: 'no_such_db_xyz' }), 'select 1');
    expect(r.stderr).toContain("rejected Airlock's login for role read");
    await backend.until(() => backend.upstreamFailures.length > before);
    expect(backend.upstreamFailures.at(-1)!.detail).toContain('database "no_such_db_xyz" does not exist (SQLSTATE 3D000)');
  });

  it('says the upstream cannot be reached when it is down', async () => {
    const r = await psqlAs(target('scram_role', { port: 1 }), 'select 1');
    expect(r.stderr).toMatch(/airlock: cannot reach orders-db upstream/);
    expect(r.stderr).not.toContain(PASSWORDS.scram_role);
  });

  it('refuses an upstream that does not offer TLS when TLS is required', async () => {
    const { port } = gateway.address();
    // Chain: this gateway has no TLS, so it answers an upstream SSLRequest with N.
    const r = await psqlAs({ host: '127.0.0.1', port, database: 'x', user: 'y', password: 'z', tls: { rejectUnauthorized: false } }, 'select 1');
    expect(r.stderr).toContain('does not accept TLS');
  });
});
