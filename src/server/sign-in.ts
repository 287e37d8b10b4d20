import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { appendAudit } from '../audit/chain.js';
import { AirlockError } from '../core/errors.js';
import { userFromClaims } from '../core/identity-claims.js';
import type { Lifecycle } from '../core/lifecycle.js';
import type { Directory, User } from '../core/model.js';
import { policiesSelecting } from '../core/policy.js';
import { constantTimeEqual, sha256 } from '../core/secret.js';
import type { Clock } from '../core/clock.js';
import { findIdentityUser, saveIdentityUser } from '../store/identity-users.js';
import { listRequests } from '../store/requests.js';
import { endSignIn, extendSignIn, findSignIn, insertSignIn, type SignInKind, type SignInSession } from '../store/sign-in-sessions.js';
import type { Store } from '../store/store.js';
import type { IdentityProvider, ProviderTokens } from './identity-provider.js';

const SIGN_IN = /^airlock_(sin_[0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export const isSignInToken = (text: string) => SIGN_IN.test(text.trim());

export interface SignInDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly directory: Directory;
  readonly lifecycle: Lifecycle;
  readonly provider: IdentityProvider;
  /** Seals the provider's refresh tokens at rest (a server key kept in the store). */
  readonly sealKey: Buffer;
}

export interface SignedIn {
  readonly token: string;
  readonly user: User;
  readonly sessionId: string;
  readonly expiresAt: Date;
}

function seal(key: Buffer, text: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
}

function unseal(key: Buffer, sealed: string): string {
  const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  const decipher = createDecipheriv('aes-256-gcm', key, iv!);
  decipher.setAuthTag(tag!);
  return Buffer.concat([decipher.update(body!), decipher.final()]).toString('utf8');
}

const expired = (message: string) => new AirlockError('sign_in_expired', 'unauthenticated', message);

/**
 * Sign-in through the identity provider: a verified answer becomes a User
 * (name and groups from claims; a YAML user of that name keeps its YAML
 * groups) and a short-lived Airlock session. On the first call after the
 * session's TTL it is refreshed with the provider's refresh token, which also
 * re-reads the user's groups: a user removed from a group loses eligibility
 * then, and their pending requests that no longer qualify are cancelled
 * (active grants stay until their end). Every step is audited.
 */
export function createSignIn(deps: SignInDeps) {
  const { store, clock, directory, provider } = deps;
  const settings = provider.settings;
  const refreshing = new Map<string, Promise<User>>();

  /** Records the user's current groups and cancels their pending requests that no longer qualify. */
  async function recordUser(claims: ProviderTokens['claims'], via: string): Promise<User> {
    const fromClaims = userFromClaims(settings, claims);
    const configured = directory.users.get(fromClaims.name);
    if (configured) return configured;
    const user: User = { name: fromClaims.name, groups: fromClaims.groups };
    const before = await findIdentityUser(store.db, user.name);
    const lost = before ? before.groups.filter((g) => !user.groups.includes(g)) : [];
    await store.transaction(async (tx) => {
      await saveIdentityUser(tx, { ...user, subject: fromClaims.subject, at: clock.now() });
      if (!before || lost.length > 0 || before.groups.length !== user.groups.length) {
        await appendAudit(tx, clock.now(), [
          { actor: user.name, action: 'identity.groups', target: user.name, subjectUser: user.name, details: { via, groups: user.groups, before: before?.groups ?? null, lost } },
        ]);
      }
    });
    if (lost.length > 0) await cancelIneligible(user, lost);
    return user;
  }

  async function cancelIneligible(user: User, lost: readonly string[]): Promise<void> {
    const pending = (await listRequests(store.db, { state: 'pending', limit: 100_000 })).filter((r) => r.user === user.name);
    const cancelled: string[] = [];
    for (const r of pending) {
      const resource = directory.resources.get(r.resource);
      const still = resource ? policiesSelecting(directory, user, resource, r.role).some((p) => p.name === r.policy) : false;
      if (still) continue;
      await deps.lifecycle.cancel(user, r.id).then(
        () => cancelled.push(r.id),
        (err: unknown) => {
          if (!(err instanceof AirlockError && err.code === 'request_not_pending')) throw err;
        },
      );
    }
    if (cancelled.length === 0) return;
    await store.transaction((tx) =>
      appendAudit(tx, clock.now(), [
        { actor: 'airlock', action: 'identity.requests_cancelled', target: user.name, subjectUser: user.name, details: { lost_groups: lost, cancelled, why: 'no longer in a group the request\'s policy selects' } },
      ]),
    );
  }

  async function open(user: User, kind: SignInKind, refreshToken: string | null): Promise<SignedIn> {
    const id = `sin_${randomBytes(6).toString('hex')}`;
    const secret = randomBytes(32).toString('base64url');
    const now = clock.now();
    const session: SignInSession = {
      id,
      hash: sha256(secret).toString('hex'),
      user: user.name,
      kind,
      createdAt: now,
      expiresAt: new Date(now.getTime() + settings.sessionTtlSeconds * 1000),
      sealedRefreshToken: refreshToken ? seal(deps.sealKey, refreshToken) : null,
      refreshedAt: now,
      endedAt: null,
    };
    await store.transaction(async (tx) => {
      await insertSignIn(tx, session);
      await appendAudit(tx, now, [{ actor: user.name, action: 'identity.signed_in', target: id, subjectUser: user.name, details: { via: kind, groups: user.groups, expires_at: session.expiresAt.toISOString() } }]);
    });
    return { token: `airlock_${id}_${secret}`, user, sessionId: id, expiresAt: session.expiresAt };
  }

  async function refresh(s: SignInSession): Promise<User> {
    const now = clock.now();
    const hardEnd = new Date(s.createdAt.getTime() + settings.sessionMaxSeconds * 1000);
    if (!s.sealedRefreshToken || now >= hardEnd) {
      await end(s.id, 'expired');
      throw expired(`your sign-in ended at ${(now >= hardEnd ? hardEnd : s.expiresAt).toISOString()}; sign in again (airlock login, or the dashboard's sign-in button)`);
    }
    let tokens: ProviderTokens;
    try {
      tokens = await provider.refresh(unseal(deps.sealKey, s.sealedRefreshToken));
    } catch (err) {
      // The provider said no (user disabled, refresh token revoked): the sign-in is over. Unreachable: fail closed, keep it for later.
      if (err instanceof AirlockError && err.kind === 'unauthenticated') await end(s.id, `refresh refused: ${err.code}`);
      throw err;
    }
    const user = await recordUser(tokens.claims, 'refresh');
    if (user.name !== s.user) {
      await end(s.id, 'the provider names another user now');
      throw expired('the identity provider now names another user for this sign-in; sign in again');
    }
    const expiresAt = new Date(Math.min(now.getTime() + settings.sessionTtlSeconds * 1000, hardEnd.getTime()));
    await store.transaction(async (tx) => {
      await extendSignIn(tx, s.id, expiresAt, tokens.refreshToken ? seal(deps.sealKey, tokens.refreshToken) : null, now);
      await appendAudit(tx, now, [{ actor: user.name, action: 'identity.refreshed', target: s.id, subjectUser: user.name, details: { groups: user.groups, expires_at: expiresAt.toISOString() } }]);
    });
    return user;
  }

  async function end(id: string, why: string): Promise<void> {
    await store.transaction(async (tx) => {
      const s = await findSignIn(tx, id);
      if (s && (await endSignIn(tx, id, clock.now()))) {
        await appendAudit(tx, clock.now(), [{ actor: why === 'signed out' ? s.user : 'airlock', action: 'identity.signed_out', target: id, subjectUser: s.user, details: { why } }]);
      }
    });
  }

  async function lookup(presented: string): Promise<SignInSession> {
    const m = SIGN_IN.exec(presented.trim());
    const s = m ? await findSignIn(store.db, m[1]!) : undefined;
    const expected = s ? Buffer.from(s.hash, 'hex') : Buffer.alloc(32);
    if (!(constantTimeEqual(sha256(m?.[2] ?? ''), expected) && s)) throw new AirlockError('unauthenticated', 'unauthenticated', 'missing or invalid sign-in; run `airlock login --server URL`');
    return s;
  }

  return {
    settings,
    provider,

    /** A verified provider answer becomes a signed-in user and an Airlock session. */
    async complete(tokens: ProviderTokens, kind: SignInKind): Promise<SignedIn> {
      const user = await recordUser(tokens.claims, kind);
      return open(user, kind, tokens.refreshToken);
    },

    /** The user a sign-in token names, refreshed with the provider once its short TTL has passed. */
    async authenticate(presented: string): Promise<{ user: User; sessionId: string }> {
      const s = await lookup(presented);
      if (s.endedAt) throw expired(`this sign-in ended at ${s.endedAt.toISOString()}; sign in again`);
      if (s.expiresAt > clock.now()) {
        const user = directory.users.get(s.user) ?? (await findIdentityUser(store.db, s.user));
        if (!user) throw expired(`"${s.user}" is no longer a user of this Airlock`);
        return { user: { name: user.name, groups: user.groups }, sessionId: s.id };
      }
      // One refresh per session at a time: a rotated refresh token must not be spent twice.
      let pending = refreshing.get(s.id);
      if (!pending) {
        pending = refresh(s).finally(() => refreshing.delete(s.id));
        refreshing.set(s.id, pending);
      }
      return { user: await pending, sessionId: s.id };
    },

    async signOut(presented: string): Promise<void> {
      const s = await lookup(presented);
      await end(s.id, 'signed out');
    },

    /** Audits a refused sign-in (nothing was granted) and hands the error back. */
    async refused(err: unknown, kind: SignInKind | 'callback', address: string): Promise<AirlockError> {
      const e = err instanceof AirlockError ? err : new AirlockError('oidc_failed', 'unauthenticated', `sign-in failed: ${(err as Error).message}`);
      await store.transaction((tx) =>
        appendAudit(tx, clock.now(), [{ actor: 'anonymous', action: 'auth.failed', target: 'oidc', details: { via: kind, code: e.code, why: e.message.slice(0, 400), address } }]),
      );
      return e;
    },
  };
}

export type SignIn = ReturnType<typeof createSignIn>;
