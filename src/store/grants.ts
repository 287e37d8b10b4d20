import type { Grant, GrantState } from '../core/model.js';
import type { GrantsTable } from './schema.js';
import type { Executor } from './store.js';

function toGrant(row: GrantsTable): Grant {
  return {
    id: row.id,
    requestId: row.request_id,
    user: row.user,
    resource: row.resource,
    role: row.role,
    policy: row.policy,
    reason: row.reason,
    ticket: row.ticket,
    approvedBy: JSON.parse(row.approved_by) as string[],
    startsAt: new Date(row.starts_at),
    expiresAt: new Date(row.expires_at),
    state: row.state as GrantState,
    endedAt: row.ended_at === null ? null : new Date(row.ended_at),
    endedBy: row.ended_by,
    endReason: row.end_reason,
  };
}

export async function insertGrant(tx: Executor, g: Grant): Promise<void> {
  await tx
    .insertInto('grants')
    .values({
      id: g.id,
      request_id: g.requestId,
      user: g.user,
      resource: g.resource,
      role: g.role,
      policy: g.policy,
      reason: g.reason,
      ticket: g.ticket,
      approved_by: JSON.stringify(g.approvedBy),
      starts_at: g.startsAt.toISOString(),
      expires_at: g.expiresAt.toISOString(),
      state: g.state,
      ended_at: null,
      ended_by: null,
      end_reason: null,
      secret_verifier: null,
      mysql_verifiers: null,
    })
    .execute();
}

export async function findGrant(tx: Executor, id: string): Promise<Grant | undefined> {
  const row = await tx.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toGrant(row);
}

export async function listGrants(
  tx: Executor,
  filter: { user?: string; resource?: string; state?: GrantState; limit?: number } = {},
): Promise<Grant[]> {
  let q = tx.selectFrom('grants').selectAll().orderBy('starts_at', 'desc').limit(filter.limit ?? 500);
  if (filter.user) q = q.where('user', '=', filter.user);
  if (filter.resource) q = q.where('resource', '=', filter.resource);
  if (filter.state) q = q.where('state', '=', filter.state);
  return (await q.execute()).map(toGrant);
}

/** Ends an active grant; returns false when it had already ended (the first ending wins). */
export async function endGrant(
  tx: Executor,
  id: string,
  state: Exclude<GrantState, 'active'>,
  at: Date,
  by: string | null,
  reason: string | null,
): Promise<boolean> {
  const result = await tx
    .updateTable('grants')
    .set({ state, ended_at: at.toISOString(), ended_by: by, end_reason: reason, secret_verifier: null, mysql_verifiers: null })
    .where('id', '=', id)
    .where('state', '=', 'active')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function setGrantExpiry(tx: Executor, id: string, expiresAt: Date): Promise<void> {
  await tx.updateTable('grants').set({ expires_at: expiresAt.toISOString() }).where('id', '=', id).execute();
}

export async function setGrantVerifier(tx: Executor, id: string, verifier: string, mysqlVerifiers: string | null = null): Promise<void> {
  await tx.updateTable('grants').set({ secret_verifier: verifier, mysql_verifiers: mysqlVerifiers }).where('id', '=', id).execute();
}

export async function activeGrantVerifiers(
  tx: Executor,
  user: string,
  resource: string,
  now: Date,
): Promise<Array<{ grant: Grant; verifier: string; mysqlVerifiers: string | null }>> {
  const rows = await tx
    .selectFrom('grants')
    .selectAll()
    .where('user', '=', user)
    .where('resource', '=', resource)
    .where('state', '=', 'active')
    .where('expires_at', '>', now.toISOString())
    .where('secret_verifier', 'is not', null)
    .execute();
  return rows.map((row) => ({ grant: toGrant(row), verifier: row.secret_verifier!, mysqlVerifiers: row.mysql_verifiers }));
}

export async function activeOverdue(tx: Executor, now: Date): Promise<Grant[]> {
  const rows = await tx
    .selectFrom('grants')
    .selectAll()
    .where('state', '=', 'active')
    .where('expires_at', '<=', now.toISOString())
    .execute();
  return rows.map(toGrant);
}

export async function nextGrantExpiry(tx: Executor): Promise<Date | null> {
  const row = await tx
    .selectFrom('grants')
    .select((eb) => eb.fn.min('expires_at').as('at'))
    .where('state', '=', 'active')
    .executeTakeFirst();
  return row?.at ? new Date(row.at) : null;
}

/** The grants with these ids (those that exist), for a node reconciling the grants its live sessions run under. */
export async function findGrants(tx: Executor, ids: readonly string[]): Promise<Grant[]> {
  if (ids.length === 0) return [];
  return (await tx.selectFrom('grants').selectAll().where('id', 'in', ids).execute()).map(toGrant);
}
