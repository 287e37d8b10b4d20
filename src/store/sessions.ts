import type { SessionSummary } from '../core/events.js';
import type { SessionsTable } from './schema.js';
import type { Executor } from './store.js';

export interface SessionRecord extends SessionSummary {
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** The node that carries (or carried) it; null on a single node's SQLite store and for sessions from before nodes. */
  readonly node?: string | null;
}

function toSession(row: SessionsTable): SessionRecord {
  return {
    id: row.id,
    grantId: row.grant_id,
    user: row.user,
    resource: row.resource,
    role: row.role,
    clientAddress: row.client_address,
    applicationName: row.application_name,
    startedAt: new Date(row.started_at),
    endedAt: row.ended_at === null ? null : new Date(row.ended_at),
    endReason: row.end_reason,
    statements: row.statements,
    refused: row.refused,
    bytesIn: row.bytes_in,
    bytesOut: row.bytes_out,
    node: row.node ?? null,
  };
}

/** Records a new session, carried by `node` (see Store.node). */
export async function insertSession(tx: Executor, s: SessionRecord, node: string | null = null): Promise<void> {
  await tx
    .insertInto('sessions')
    .values({
      id: s.id,
      grant_id: s.grantId,
      user: s.user,
      resource: s.resource,
      role: s.role,
      client_address: s.clientAddress,
      application_name: s.applicationName,
      started_at: s.startedAt.toISOString(),
      ended_at: null,
      end_reason: null,
      statements: 0,
      refused: 0,
      bytes_in: 0,
      bytes_out: 0,
      node,
    })
    .execute();
}

export async function addSessionCounts(tx: Executor, id: string, statements: number, refused: number): Promise<void> {
  await tx
    .updateTable('sessions')
    .set((eb) => ({ statements: eb('statements', '+', statements), refused: eb('refused', '+', refused) }))
    .where('id', '=', id)
    .execute();
}

export async function finishSession(
  tx: Executor,
  id: string,
  end: { at: Date; reason: string; statements: number; refused: number; bytesIn: number; bytesOut: number },
): Promise<void> {
  await tx
    .updateTable('sessions')
    .set({
      ended_at: end.at.toISOString(),
      end_reason: end.reason,
      statements: end.statements,
      refused: end.refused,
      bytes_in: end.bytesIn,
      bytes_out: end.bytesOut,
    })
    .where('id', '=', id)
    .execute();
}

export async function findSession(db: Executor, id: string): Promise<SessionRecord | undefined> {
  const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toSession(row);
}

export async function listSessions(
  db: Executor,
  filter: { live?: boolean; user?: string; grantIds?: readonly string[]; limit?: number } = {},
): Promise<SessionRecord[]> {
  let q = db.selectFrom('sessions').selectAll().orderBy('started_at', 'desc').limit(filter.limit ?? 200);
  if (filter.live) q = q.where('ended_at', 'is', null);
  if (filter.user) q = q.where('user', '=', filter.user);
  if (filter.grantIds) {
    if (filter.grantIds.length === 0) return [];
    q = q.where('grant_id', 'in', filter.grantIds);
  }
  return (await q.execute()).map(toSession);
}

/**
 * Sessions left open by a process that died: they cannot still be live after
 * a restart. `all` for a store one process owns (SQLite); on a shared store,
 * only those of this node (and those from before sessions had a node): the
 * other nodes' sessions are alive.
 */
export async function closeOrphanedSessions(tx: Executor, at: Date, scope: 'all' | { readonly node: string } = 'all'): Promise<string[]> {
  let open = tx.selectFrom('sessions').select('id').where('ended_at', 'is', null);
  if (scope !== 'all') open = open.where((eb) => eb.or([eb('node', '=', scope.node), eb('node', 'is', null)]));
  const ids = (await open.execute()).map((r) => r.id);
  for (let i = 0; i < ids.length; i += 500) {
    await tx
      .updateTable('sessions')
      .set({ ended_at: at.toISOString(), end_reason: 'shutdown' })
      .where('id', 'in', ids.slice(i, i + 500))
      .where('ended_at', 'is', null)
      .execute();
  }
  return ids;
}
