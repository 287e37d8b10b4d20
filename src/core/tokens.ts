import { randomBytes } from 'node:crypto';
import { appendAudit } from '../audit/chain.js';
import type { Clock } from './clock.js';
import { AirlockError, notFound } from './errors.js';
import { newId } from './ids.js';
import type { Directory, User } from './model.js';
import { constantTimeEqual, sha256 } from './secret.js';
import { findToken, insertToken } from '../store/tokens.js';
import type { Store } from '../store/store.js';

const TOKEN = /^airlock_(tok_[0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/**
 * Personal API tokens: `airlock_<id>_<secret>`. Only SHA-256 of the secret is
 * stored (the secret has 256 bits of entropy, so no slow hash is needed), and
 * the comparison is constant time. The id lets lookup avoid comparing against
 * every token.
 */
export async function issueToken(store: Store, clock: Clock, dir: Directory, userName: string, actor = 'airlock'): Promise<{ id: string; token: string }> {
  if (!dir.users.has(userName)) throw notFound('unknown_user', `there is no user "${userName}" in the config's users list`);
  const id = newId('tok');
  const secret = randomBytes(32).toString('base64url');
  await store.transaction(async (tx) => {
    const now = clock.now();
    await insertToken(tx, { id, user: userName, hash: sha256(secret).toString('hex'), at: now });
    await appendAudit(tx, now, [{ actor, action: 'token.issued', target: id, subjectUser: userName, details: {} }]);
  });
  return { id, token: `airlock_${id}_${secret}` };
}

export function unauthenticated(message = 'missing or invalid API token; run `airlock login --server URL --token TOKEN`'): AirlockError {
  return new AirlockError('unauthenticated', 'unauthenticated', message);
}

/** The user a token belongs to, or an `unauthenticated` error that does not say which part was wrong. */
export async function authenticateToken(store: Store, dir: Directory, token: string): Promise<User> {
  const m = TOKEN.exec(token.trim());
  const stored = m ? await findToken(store.db, m[1]!) : undefined;
  // Compare even when the id is unknown, so timing does not reveal which ids exist.
  const expected = stored ? Buffer.from(stored.hash, 'hex') : Buffer.alloc(32);
  const ok = constantTimeEqual(sha256(m?.[2] ?? ''), expected) && stored !== undefined && stored.revokedAt === null;
  const user = ok ? dir.users.get(stored.user) : undefined;
  if (!user) throw unauthenticated();
  return user;
}
