import { randomBytes } from 'node:crypto';
import { appendAudit } from '../audit/chain.js';
import type { Clock } from './clock.js';
import { formatDuration } from './duration.js';
import { AirlockError, conflict, invalid, notFound } from './errors.js';
import { newId } from './ids.js';
import type { Directory, User } from './model.js';
import { constantTimeEqual, sha256 } from './secret.js';
import { findToken, insertToken, listTokens, revokeToken, touchToken, type StoredToken, type TokenScope } from '../store/tokens.js';
import type { Store } from '../store/store.js';

export type { StoredToken, TokenScope } from '../store/tokens.js';

const TOKEN = /^airlock_(tok_[0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export const TOKEN_SCOPES: readonly TokenScope[] = ['read', 'request', 'admin'];
/** Every token ends: 90 days unless `identity.token_expiry` says otherwise. */
export const DEFAULT_TOKEN_TTL_SECONDS = 90 * 86_400;
/** A token's last use is written at most this often, so a busy bot does not turn every call into a write. */
export const LAST_USED_EVERY_MS = 60_000;

/** Finds the user a token names: YAML users first, then users who signed in through the identity provider. */
export type UserLookup = (name: string) => Promise<User | undefined>;

export function directoryUsers(dir: Directory): UserLookup {
  return async (name) => dir.users.get(name);
}

export interface IssueOptions {
  readonly name?: string;
  readonly scope?: TokenScope;
  /** Lifetime; defaults to DEFAULT_TOKEN_TTL_SECONDS. */
  readonly ttlSeconds?: number;
  /** The longest lifetime allowed (identity.token_max_expiry). */
  readonly maxTtlSeconds?: number;
  /** Set when the user is already known to exist (an identity-provider user is not in the directory). */
  readonly knownUser?: boolean;
}

export interface IssuedToken {
  readonly id: string;
  readonly token: string;
  readonly name: string;
  readonly scope: TokenScope;
  readonly expiresAt: Date;
}

export function parseScope(text: string): TokenScope {
  if (!(TOKEN_SCOPES as readonly string[]).includes(text)) {
    throw invalid('invalid_scope', `"${text}" is not a token scope; use read (dashboards, Prometheus), request (bots that ask for access) or admin (everything the user may do)`);
  }
  return text as TokenScope;
}

/**
 * API tokens: `airlock_<id>_<secret>`. Only SHA-256 of the secret is stored
 * (it has 256 bits of entropy, so no slow hash is needed), and the comparison
 * is constant time. The id lets lookup avoid comparing against every token.
 * The default scope is `admin`, meaning everything the user may do — a scope
 * narrows a user's rights, it never adds to them.
 */
export async function issueToken(store: Store, clock: Clock, dir: Directory, userName: string, actor = 'airlock', options: IssueOptions = {}): Promise<IssuedToken> {
  if (!options.knownUser && !dir.users.has(userName)) throw notFound('unknown_user', `there is no user "${userName}" in the config's users list`);
  const name = (options.name ?? 'personal').trim();
  if (!/^[\w .:@/-]{1,64}$/.test(name)) throw invalid('invalid_token_name', 'a token name is 1-64 letters, digits, spaces or . _ - : @ /');
  const scope = options.scope ?? 'admin';
  const ttl = options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (options.maxTtlSeconds !== undefined && ttl > options.maxTtlSeconds) {
    throw invalid('token_expiry_too_long', `a token may live at most ${formatDuration(options.maxTtlSeconds)}; asked for ${formatDuration(ttl)}`);
  }
  const id = newId('tok');
  const secret = randomBytes(32).toString('base64url');
  const now = clock.now();
  const expiresAt = new Date(now.getTime() + ttl * 1000);
  await store.transaction(async (tx) => {
    await insertToken(tx, { id, user: userName, hash: sha256(secret).toString('hex'), name, scope, at: now, expiresAt, createdBy: actor });
    await appendAudit(tx, now, [
      { actor, action: 'token.issued', target: id, subjectUser: userName, details: { name, scope, expires_at: expiresAt.toISOString() } },
    ]);
  });
  return { id, token: `airlock_${id}_${secret}`, name, scope, expiresAt };
}

export function unauthenticated(message = 'missing or invalid API token; run `airlock login --server URL`'): AirlockError {
  return new AirlockError('unauthenticated', 'unauthenticated', message);
}

export function looksLikeApiToken(text: string): boolean {
  return TOKEN.test(text.trim());
}

export interface Authenticated {
  readonly user: User;
  readonly token: StoredToken;
}

/**
 * The user a token belongs to, read from the store on every call (no cache),
 * so a revocation holds on the next call on every node. A wrong secret or an
 * unknown id gets one message that does not say which; a right secret of a
 * revoked or expired token is told so, since its holder already proved they hold it.
 */
export async function authenticateToken(store: Store, clock: Clock, users: UserLookup, token: string): Promise<Authenticated> {
  const m = TOKEN.exec(token.trim());
  const stored = m ? await findToken(store.db, m[1]!) : undefined;
  // Compare even when the id is unknown, so timing does not reveal which ids exist.
  const expected = stored ? Buffer.from(stored.hash, 'hex') : Buffer.alloc(32);
  const matches = constantTimeEqual(sha256(m?.[2] ?? ''), expected) && stored !== undefined;
  if (!matches) throw unauthenticated();
  const now = clock.now();
  if (stored.revokedAt) throw unauthenticated(`API token ${stored.id} was revoked at ${stored.revokedAt.toISOString()}; get a new one with \`airlock tokens issue\``);
  if (stored.expiresAt <= now) throw unauthenticated(`API token ${stored.id} expired at ${stored.expiresAt.toISOString()}; get a new one with \`airlock tokens issue\``);
  const user = await users(stored.user);
  if (!user) throw unauthenticated(`API token ${stored.id} belongs to "${stored.user}", who is no longer a user of this Airlock`);
  if (!stored.lastUsedAt || now.getTime() - stored.lastUsedAt.getTime() >= LAST_USED_EVERY_MS) {
    await touchToken(store.db, stored.id, now, LAST_USED_EVERY_MS);
  }
  return { user, token: stored };
}

/** Tokens the caller may see: their own, or everyone's for those who see everything. */
export function tokensOf(store: Store, clock: Clock, q: { user?: string; includeEnded?: boolean }): Promise<StoredToken[]> {
  return listTokens(store.db, { ...q, now: clock.now() });
}

/** Revokes a token: its owner, or anyone `mayRevokeOthers` says may. Audited; effective on the token's next call. */
export async function revokeApiToken(store: Store, clock: Clock, actor: User, id: string, mayRevokeOthers: boolean): Promise<StoredToken> {
  return store.transaction(async (tx) => {
    const t = await findToken(tx, id);
    if (!t || (t.user !== actor.name && !mayRevokeOthers)) throw notFound('unknown_token', `there is no token ${id} of yours`);
    const now = clock.now();
    if (!(await revokeToken(tx, id, actor.name, now))) throw conflict('token_revoked', `token ${id} is already revoked`);
    await appendAudit(tx, now, [{ actor: actor.name, action: 'token.revoked', target: id, subjectUser: t.user, details: { name: t.name, scope: t.scope } }]);
    return { ...t, revokedAt: now, revokedBy: actor.name };
  });
}
