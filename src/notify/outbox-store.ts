import { sql } from 'kysely';
import type { OutboxTable } from '../store/schema.js';
import type { Executor, Store } from '../store/store.js';

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

/** The first key of every sink's delivery lock (the second is the sink id's hash); "AIRN" in ASCII. */
const SINK_LEASE_CLASS = 0x4149524e;

/**
 * Runs `fn` as the only deliverer of `sink`'s rows across every node sharing
 * the store, and returns true; returns false at once, without running it,
 * when another node is delivering that sink (it will deliver what is there).
 * On PostgreSQL a session advisory lock held on one connection for the whole
 * drain, so a row is sent by one node at a time, in row order; released when
 * done, or by PostgreSQL itself when the holder's connection dies. A SQLite
 * store has one process: nothing to take.
 */
export async function withSinkLease(store: Pick<Store, 'db' | 'dialect'>, sink: string, fn: (db: Executor) => Promise<void>): Promise<boolean> {
  if (store.dialect === 'sqlite') {
    await fn(store.db);
    return true;
  }
  return store.db.connection().execute(async (conn) => {
    const key = sql`${sql.lit(SINK_LEASE_CLASS)}, hashtext(${sink})`;
    const taken = await sql<{ ok: boolean }>`select pg_try_advisory_lock(${key}) as ok`.execute(conn);
    if (!taken.rows[0]?.ok) return false;
    try {
      await fn(conn);
    } finally {
      await sql`select pg_advisory_unlock(${key})`.execute(conn);
    }
    return true;
  });
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
