import type { Executor } from './store.js';

export interface StoredToken {
  readonly id: string;
  readonly user: string;
  readonly hash: string;
  readonly revokedAt: string | null;
}

export async function insertToken(tx: Executor, t: { id: string; user: string; hash: string; at: Date }): Promise<void> {
  await tx
    .insertInto('api_tokens')
    .values({ id: t.id, user: t.user, hash: t.hash, created_at: t.at.toISOString(), revoked_at: null })
    .execute();
}

export async function findToken(db: Executor, id: string): Promise<StoredToken | undefined> {
  const row = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  return row && { id: row.id, user: row.user, hash: row.hash, revokedAt: row.revoked_at };
}
