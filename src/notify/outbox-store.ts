import type { OutboxTable } from '../store/schema.js';
import type { Executor } from '../store/store.js';

/**
 * Outbox rows, one per (event, sink). A row is pending while `delivered_at`
 * is null. A row the worker gave up on is closed with `delivered_at` set and
 * `last_error` kept ("dead"); a delivered row has `last_error` cleared. The
 * shipped schema has no state column, and this pair says it exactly.
 */
export type OutboxRow = Omit<OutboxTable, 'id'> & { readonly id: number };

export interface NewOutboxRow {
  readonly auditSeq: number;
  readonly sink: string;
  readonly eventType: string;
  readonly payload: string;
  readonly at: Date;
}

export async function insertOutboxRows(tx: Executor, rows: readonly NewOutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx
    .insertInto('outbox')
    .values(
      rows.map((r) => ({
        audit_seq: r.auditSeq,
        sink: r.sink,
        event_type: r.eventType,
        payload: r.payload,
        attempts: 0,
        next_attempt_at: r.at.toISOString(),
        delivered_at: null,
        last_error: null,
      })),
    )
    .execute();
}

/** The oldest pending row of a sink: delivery is strictly in order per sink, hence per grant. */
export async function headOf(db: Executor, sink: string): Promise<OutboxRow | undefined> {
  return db.selectFrom('outbox').selectAll().where('sink', '=', sink).where('delivered_at', 'is', null).orderBy('id').limit(1).executeTakeFirst();
}

export async function markDelivered(db: Executor, id: number, at: Date, attempts: number): Promise<void> {
  await db.updateTable('outbox').set({ delivered_at: at.toISOString(), attempts, last_error: null }).where('id', '=', id).execute();
}

export async function markRetry(db: Executor, id: number, attempts: number, nextAt: Date, error: string): Promise<void> {
  await db.updateTable('outbox').set({ attempts, next_attempt_at: nextAt.toISOString(), last_error: error }).where('id', '=', id).execute();
}

export async function markDead(db: Executor, id: number, at: Date, attempts: number, error: string): Promise<void> {
  await db.updateTable('outbox').set({ attempts, delivered_at: at.toISOString(), last_error: `gave up: ${error}` }).where('id', '=', id).execute();
}

export interface OutboxCounts {
  readonly sink: string;
  readonly pending: number;
  readonly dead: number;
  readonly oldestPendingAt: string | null;
}

/** Backlog and dead letters per sink, for /metrics. */
export async function outboxCounts(db: Executor): Promise<OutboxCounts[]> {
  const pending = await db
    .selectFrom('outbox')
    .select((eb) => ['sink', eb.fn.countAll<number>().as('n'), eb.fn.min('next_attempt_at').as('oldest')])
    .where('delivered_at', 'is', null)
    .groupBy('sink')
    .execute();
  const dead = await db
    .selectFrom('outbox')
    .select((eb) => ['sink', eb.fn.countAll<number>().as('n')])
    .where('delivered_at', 'is not', null)
    .where('last_error', 'is not', null)
    .groupBy('sink')
    .execute();
  const sinks = new Set([...pending.map((p) => p.sink), ...dead.map((d) => d.sink)]);
  return [...sinks].sort().map((sink) => {
    const p = pending.find((r) => r.sink === sink);
    return { sink, pending: Number(p?.n ?? 0), dead: Number(dead.find((r) => r.sink === sink)?.n ?? 0), oldestPendingAt: p?.oldest ?? null };
  });
}
