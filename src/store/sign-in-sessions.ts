import type { SignInSessionsTable } from './schema.js';
import type { Executor } from './store.js';

export type SignInKind = 'dashboard' | 'cli' | 'device';

/** A sign-in through the identity provider: the secret is kept as SHA-256, the provider's refresh token sealed. */
export interface SignInSession {
  readonly id: string;
  readonly hash: string;
  readonly user: string;
  readonly kind: SignInKind;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly sealedRefreshToken: string | null;
  readonly refreshedAt: Date;
  readonly endedAt: Date | null;
}

function fromRow(r: SignInSessionsTable): SignInSession {
  return {
    id: r.id,
    hash: r.hash,
    user: r.user,
    kind: r.kind as SignInKind,
    createdAt: new Date(r.created_at),
    expiresAt: new Date(r.expires_at),
    sealedRefreshToken: r.refresh_token,
    refreshedAt: new Date(r.refreshed_at),
    endedAt: r.ended_at ? new Date(r.ended_at) : null,
  };
}

export async function insertSignIn(tx: Executor, s: SignInSession): Promise<void> {
  await tx
    .insertInto('sign_in_sessions')
    .values({
      id: s.id,
      hash: s.hash,
      user: s.user,
      kind: s.kind,
      created_at: s.createdAt.toISOString(),
      expires_at: s.expiresAt.toISOString(),
      refresh_token: s.sealedRefreshToken,
      refreshed_at: s.refreshedAt.toISOString(),
      ended_at: null,
    })
    .execute();
}

export async function findSignIn(db: Executor, id: string): Promise<SignInSession | undefined> {
  const row = await db.selectFrom('sign_in_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  return row && fromRow(row);
}

export async function extendSignIn(tx: Executor, id: string, expiresAt: Date, sealedRefreshToken: string | null, at: Date): Promise<void> {
  await tx
    .updateTable('sign_in_sessions')
    .set({ expires_at: expiresAt.toISOString(), refresh_token: sealedRefreshToken, refreshed_at: at.toISOString() })
    .where('id', '=', id)
    .execute();
}

/** Ends a sign-in (sign-out, or a refresh the provider refused); false when it had already ended. */
export async function endSignIn(tx: Executor, id: string, at: Date): Promise<boolean> {
  const r = await tx
    .updateTable('sign_in_sessions')
    .set({ ended_at: at.toISOString(), refresh_token: null })
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
