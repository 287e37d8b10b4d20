import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { issueToken } from '../../src/core/tokens.js';
import { parseConfig } from '../../src/config/load.js';
import { createApiClient, ApiError, type ApiClient } from '../../src/server/api-client.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { migrations } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/store.js';
import { EXAMPLE_CONFIG } from '../support/world.js';
import { tempConfig } from '../support/cli.js';

let cp: RunningControlPlane;
let cleanup: () => void;
let clock: ManualClock;
const as: Record<string, ApiClient> = {};
const tokens: Record<string, string> = {};

async function start(configText = EXAMPLE_CONFIG) {
  const tmp = tempConfig(configText);
  cleanup = tmp.cleanup;
  clock = new ManualClock('2026-03-01T12:00:00Z');
  cp = await startControlPlane(parseConfig(configText, 'airlock.yaml', tmp.dir), { clock, listen: '127.0.0.1:0' });
  for (const name of ['alice', 'bob', 'carol', 'root']) {
    tokens[name] = (await issueToken(cp.store, clock, cp.directory, name)).token;
    as[name] = createApiClient(cp.url, tokens[name]);
  }
}

afterEach(async () => {
  await cp?.close();
  cleanup?.();
});

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected the API to refuse');
}

describe('API tokens that can be managed', () => {
  beforeEach(() => start());

  it('issues a named, scoped token with an expiry, shows the secret once, and lists it without secret or hash', async () => {
    const issued = await as.alice!.issueToken({ name: 'grafana', scope: 'read', expires: '30d' });
    expect(issued).toMatchObject({ user: 'alice', name: 'grafana', scope: 'read', state: 'active', expires_at: '2026-03-31T12:00:00.000Z', last_used_at: null });
    expect(issued.token).toMatch(/^airlock_tok_[0-9a-f]{12}_/);
    const listed = await as.alice!.tokens();
    expect(listed.map((t) => t.name).sort()).toEqual(['grafana', 'personal']);
    const text = JSON.stringify(listed);
    expect(text).not.toContain(issued.token.slice(-43));
    expect(text).not.toContain('hash');
    const row = await cp.store.db.selectFrom('api_tokens').selectAll().where('id', '=', issued.id).executeTakeFirstOrThrow();
    expect(row.hash).not.toContain(issued.token.slice(-43));
    const audit = await as.root!.audit({ action: 'token.issued', target: issued.id });
    expect(audit[0]).toMatchObject({ actor: 'alice', subject_user: 'alice', details: { name: 'grafana', scope: 'read' } });
  });

  it('gives every token an end: 90 days by default, and an expired token is refused and audited', async () => {
    const mine = (await as.alice!.tokens())[0]!;
    expect(mine.expires_at).toBe('2026-05-30T12:00:00.000Z');
    clock.advance(90 * 86_400_000 - 1000);
    await expect(as.alice!.whoami()).resolves.toMatchObject({ user: 'alice' });
    clock.advance(1000);
    const err = await refusal(as.alice!.whoami());
    expect(err.status).toBe(401);
    expect(err.message).toContain('expired at 2026-05-30T12:00:00.000Z');
    const failed = await cp.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'auth.failed').execute();
    expect(failed.map((f) => f.details).join()).toContain('expired');
  });

  it('refuses a lifetime longer than token_max_expiry', async () => {
    await cp.close();
    cleanup();
    await start(`${EXAMPLE_CONFIG}\nidentity: { token_expiry: 7d, token_max_expiry: 30d }\n`);
    expect((await refusal(as.alice!.issueToken({ name: 'long', expires: '31d' }))).code).toBe('token_expiry_too_long');
    expect((await as.alice!.issueToken({ name: 'default' })).expires_at).toBe('2026-03-08T12:00:00.000Z');
  });

  it('revokes a token so that its very next call is refused; only its owner or an admin may, and it is audited', async () => {
    const bot = await as.alice!.issueToken({ name: 'bot', scope: 'request' });
    const botApi = createApiClient(cp.url, bot.token);
    await expect(botApi.whoami()).resolves.toMatchObject({ user: 'alice', scope: 'request' });
    expect((await refusal(as.bob!.revokeToken(bot.id))).code).toBe('unknown_token');
    await botApi.whoami();
    const revoked = await as.root!.revokeToken(bot.id);
    expect(revoked).toMatchObject({ state: 'revoked', revoked_by: 'root' });
    const err = await refusal(botApi.whoami());
    expect(err.status).toBe(401);
    expect(err.message).toContain(`${bot.id} was revoked`);
    expect((await refusal(as.alice!.revokeToken(bot.id))).code).toBe('token_revoked');
    const audit = await as.root!.audit({ action: 'token.revoked' });
    expect(audit.map((e) => [e.actor, e.target, e.subject_user])).toEqual([['root', bot.id, 'alice']]);
    // The owner's other tokens are untouched.
    await expect(as.alice!.whoami()).resolves.toMatchObject({ user: 'alice' });
  });

  it('lets admins list everyone\'s tokens and issue for others; others see only their own', async () => {
    expect((await as.root!.tokens({ all: true })).map((t) => t.user).sort()).toEqual(['alice', 'bob', 'carol', 'root']);
    expect((await refusal(as.alice!.tokens({ all: true }))).code).toBe('admins_only');
    expect((await as.alice!.tokens()).every((t) => t.user === 'alice')).toBe(true);
    expect((await refusal(as.alice!.issueToken({ name: 'x', user: 'bob' }))).code).toBe('admins_only');
    expect(await as.root!.issueToken({ name: 'for-bob', user: 'bob', scope: 'read' })).toMatchObject({ user: 'bob', created_by: 'root' });
  });

  it('records the last use at most once a minute per token', async () => {
    const t = await as.alice!.issueToken({ name: 'dash', scope: 'read' });
    const dash = createApiClient(cp.url, t.token);
    const lastUsed = async () => (await cp.store.db.selectFrom('api_tokens').select('last_used_at').where('id', '=', t.id).executeTakeFirstOrThrow()).last_used_at;
    await dash.who();
    expect(await lastUsed()).toBe('2026-03-01T12:00:00.000Z');
    clock.advance(59_000);
    await dash.who();
    expect(await lastUsed()).toBe('2026-03-01T12:00:00.000Z');
    clock.advance(1000);
    await dash.who();
    expect(await lastUsed()).toBe('2026-03-01T12:01:00.000Z');
  });
});

describe('token scopes on every API route', () => {
  beforeEach(() => start());

  async function scoped(user: string, scope: string) {
    return createApiClient(cp.url, (await createApiClient(cp.url, tokens[user]!).issueToken({ name: `${scope}-token`, scope })).token);
  }

  it('a read token reads everything its user may read and changes nothing', async () => {
    const read = await scoped('alice', 'read');
    await expect(read.who()).resolves.toEqual([]);
    await expect(read.resources()).resolves.not.toEqual([]);
    expect(await read.metrics()).toContain('airlock_active_grants');
    const refused = await refusal(read.request({ resource: 'orders-db', role: 'read', duration: '10m', reason: 'x' }));
    expect([refused.status, refused.code]).toEqual([403, 'scope_insufficient']);
    const bobsWrite = await as.alice!.request({ resource: 'orders-db', role: 'write', duration: '10m', reason: 'x', ticket: 'INC-1' });
    const carolRead = await scoped('carol', 'read');
    expect((await refusal(carolRead.approve(bobsWrite.request.id))).code).toBe('scope_insufficient');
    expect((await refusal(read.issueToken({ name: 'escalate', scope: 'admin' }))).code).toBe('scope_insufficient');
    expect((await refusal(read.revokeToken('tok_000000000000'))).code).toBe('scope_insufficient');
    expect((await as.alice!.getRequest(bobsWrite.request.id)).state).toBe('pending');
  });

  it('a request token asks, connects and releases, but cannot approve, deny, revoke or mint tokens', async () => {
    const aliceBot = await scoped('alice', 'request');
    const asked = await aliceBot.request({ resource: 'orders-db', role: 'read', duration: '10m' });
    expect(asked.grant?.state).toBe('active');
    const write = await aliceBot.request({ resource: 'orders-db', role: 'write', duration: '10m', reason: 'x', ticket: 'INC-1' });
    const bobBot = await scoped('bob', 'request');
    expect((await refusal(bobBot.approve(write.request.id))).code).toBe('scope_insufficient');
    expect((await refusal(bobBot.deny(write.request.id, 'no'))).code).toBe('scope_insufficient');
    const rootBot = await scoped('root', 'request');
    expect((await refusal(rootBot.revoke(asked.grant!.id, 'x'))).code).toBe('scope_insufficient');
    expect((await refusal(aliceBot.issueToken({ name: 'more', scope: 'admin' }))).code).toBe('scope_insufficient');
    await expect(aliceBot.credentials(asked.grant!.id)).resolves.toHaveProperty('secret');
    await expect(aliceBot.release(asked.grant!.id)).resolves.toMatchObject({ grant: { state: 'released' } });
    await expect(aliceBot.cancel(write.request.id)).resolves.toMatchObject({ request: { state: 'cancelled' } });
    // An admin-scope token of the same reviewer still approves.
    const again = await aliceBot.request({ resource: 'orders-db', role: 'write', duration: '10m', reason: 'x', ticket: 'INC-2' });
    await expect(as.bob!.approve(again.request.id)).resolves.toMatchObject({ grant: { state: 'active' } });
  });
});

describe('tokens issued before the migration', () => {
  it('keep working as admin scope, named personal, expiring 90 days after the migration ran', async () => {
    const tmp = tempConfig(EXAMPLE_CONFIG);
    try {
      const file = join(tmp.dir, 'old.db');
      const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
      await new Migrator({ db, provider: { getMigrations: async () => ({ '0001_lifecycle': migrations['0001_lifecycle']! }) } }).migrateToLatest();
      // A token as the old code wrote it: secret "s" repeated; SHA-256 hex of it.
      const secret = 'A'.repeat(43);
      const { createHash } = await import('node:crypto');
      await (db as unknown as Kysely<{ api_tokens: Record<string, unknown> }>)
        .insertInto('api_tokens')
        .values({ id: 'tok_0123456789ab', user: 'alice', hash: createHash('sha256').update(secret).digest('hex'), created_at: '2025-01-01T00:00:00.000Z', revoked_at: null })
        .execute();
      await db.destroy();
      const before = Date.now();
      const store = await openStore(`sqlite:${file}`, tmp.dir);
      const row = await store.db.selectFrom('api_tokens').selectAll().executeTakeFirstOrThrow();
      await store.close();
      expect(row).toMatchObject({ name: 'personal', scope: 'admin', last_used_at: null });
      const ttl = new Date(row.expires_at).getTime() - before;
      expect(ttl).toBeGreaterThanOrEqual(90 * 86_400_000 - 5000);
      expect(ttl).toBeLessThanOrEqual(90 * 86_400_000 + 60_000);

      const config = parseConfig(`${EXAMPLE_CONFIG}\nstore: sqlite:old.db\n`, 'airlock.yaml', tmp.dir);
      const server = await startControlPlane(config, { listen: '127.0.0.1:0' });
      try {
        await expect(createApiClient(server.url, `airlock_tok_0123456789ab_${secret}`).whoami()).resolves.toMatchObject({ user: 'alice', scope: 'admin' });
      } finally {
        await server.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
