import type { Executor } from './store.js';
import type { ApiTokensTable } from './schema.js';

export type TokenScope = 'read' | 'request' | 'admin';

export interface StoredToken {
  readonly id: string;
  readonly user: string;
  /** SHA-256 of the secret, hex. Never leaves the store layer in an answer. */
  readonly hash: string;
  readonly name: string;
  readonly scope: TokenScope;
  readonly createdAt: Date;
  readonly createdBy: string | null;
  readonly expiresAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
}

export interface NewToken {
  readonly id: string;
  readonly user: string;
  readonly hash: string;
  readonly name: string;
  readonly scope: TokenScope;
  readonly at: Date;
  readonly expiresAt: Date;
  readonly createdBy: string;
}

const date = (text: string | null) => (text ? new Date(text) : null);

function fromRow(row: ApiTokensTable): StoredToken {
  return {
    id: row.id,
    user: row.user,
    hash: row.hash,
    name: row.name,
    scope: row.scope as TokenScope,
    createdAt: new Date(row.created_at),
    createdBy: row.created_by,
    expiresAt: new Date(row.expires_at),
    lastUsedAt: date(row.last_used_at),
    revokedAt: date(row.revoked_at),
    revokedBy: row.revoked_by,
  };
}

export async function insertToken(tx: Executor, t: NewToken): Promise<void> {
  await tx
    .insertInto('api_tokens')
    .values({
      id: t.id,
      user: t.user,
      hash: t.hash,
      created_at: t.at.toISOString(),
      revoked_at: null,
      name: t.name,
      scope: t.scope,
      expires_at: t.expiresAt.toISOString(),
      last_used_at: null,
      revoked_by: null,
      created_by: t.createdBy,
    })
    .execute();
}

export async function findToken(db: Executor, id: string): Promise<StoredToken | undefined> {
  const row = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  return row && fromRow(row);
}

export async function listTokens(db: Executor, q: { user?: string; includeEnded?: boolean; now: Date }): Promise<StoredToken[]> {
  let query = db.selectFrom('api_tokens').selectAll();
  if (q.user) query = query.where('user', '=', q.user);
  if (!q.includeEnded) query = query.where('revoked_at', 'is', null).where('expires_at', '>', q.now.toISOString());
  const rows = await query.orderBy('created_at', 'desc').orderBy('id').execute();
  return rows.map(fromRow);
}

/** Marks a token revoked; false when it already was. */
export async function revokeToken(tx: Executor, id: string, by: string, at: Date): Promise<boolean> {
  const r = await tx
    .updateTable('api_tokens')
    .set({ revoked_at: at.toISOString(), revoked_by: by })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Records a use, at most once per `everyMs` per token: the condition sits in
 * the UPDATE, so a burst of calls writes one row and most calls write none.
 */
export async function touchToken(db: Executor, id: string, at: Date, everyMs: number): Promise<void> {
  const staleBefore = new Date(at.getTime() - everyMs).toISOString();
  await db
    .updateTable('api_tokens')
    .set({ last_used_at: at.toISOString() })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', staleBefore)]))
    .execute();
}
