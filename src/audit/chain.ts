import { createHash, hash as digest } from 'node:crypto';
import { PostgresAdapter, sql } from 'kysely';
import type { Executor } from '../store/store.js';
import type { AuditEventsTable } from '../store/schema.js';
import { canonicalJson } from './canonical.js';

export const GENESIS_HASH = '0'.repeat(64);
/** The `meta` key under which the chain head (`seq:hash`) is kept. */
export const HEAD_KEY = 'audit_head';

export interface AuditEntry {
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  /** The user whose access this is about (the requester or grantee), for filtering. */
  readonly subjectUser?: string | null;
  readonly resource?: string | null;
  readonly details?: Record<string, unknown>;
}

export interface AuditEvent {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly subject_user: string | null;
  readonly resource: string | null;
  readonly details: Record<string, unknown>;
  readonly prev_hash: string;
  readonly hash: string;
}

/** The hash of one row: everything but the hash itself, canonically encoded, chained to the row before. */
export function hashRow(row: Omit<AuditEventsTable, 'hash'>): string {
  // An array of strings, numbers and nulls: JSON.stringify writes exactly its canonical form (see canonical.ts), natively.
  const body = JSON.stringify([row.seq, row.at, row.actor, row.action, row.target, row.subject_user, row.resource, row.details, row.prev_hash]);
  return digest('sha256', body, 'hex');
}

/**
 * Appends entries to the chain inside the caller's transaction, so an event is
 * written exactly when the change it records is. The chain head is also kept
 * in `meta`, so truncating the newest rows is detected too.
 */
export async function appendAudit(tx: Executor, at: Date, entries: readonly AuditEntry[]): Promise<AuditEvent[]> {
  return (await writeEntries(tx, at, entries)).map(toAuditEvent);
}

/**
 * The same append, for writers that do not need the events back (the
 * per-statement recorder): decoding every row's details again is most of
 * what a large batch would otherwise spend after the insert.
 */
export async function appendAuditBatch(tx: Executor, at: Date, entries: readonly AuditEntry[]): Promise<void> {
  await writeEntries(tx, at, entries);
}

/** SQLite caps bound parameters per statement (32,766 in the bundled build); 200 rows × 10 columns stays well under it. */
const ROWS_PER_INSERT = 200;

async function writeEntries(tx: Executor, at: Date, entries: readonly AuditEntry[]): Promise<AuditEventsTable[]> {
  if (entries.length === 0) return [];
  const head = await tx.selectFrom('meta').select('value').where('key', '=', HEAD_KEY).executeTakeFirst();
  const { rows, head: value } = chainRows(head?.value, at, entries);
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    await tx.insertInto('audit_events').values(rows.length <= ROWS_PER_INSERT ? rows : rows.slice(i, i + ROWS_PER_INSERT)).execute();
  }
  await tx
    .insertInto('meta')
    .values({ key: HEAD_KEY, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
  return rows;
}

/**
 * The rows that append `entries` after the chain head stored in `meta`
 * (`headValue`, undefined for an empty chain), and the new head value to store.
 * Pure: every writer chains through it (the statement writer thread through
 * `chainStatementRows`, held to the same bytes by its tests), inside a write
 * transaction that read `headValue`.
 */
export function chainRows(headValue: string | undefined, at: Date, entries: readonly AuditEntry[]): { rows: AuditEventsTable[]; head: string } {
  let [seq, prev] = headValue !== undefined ? parseHead(headValue) : [0, GENESIS_HASH];
  const rows: AuditEventsTable[] = [];
  const iso = at.toISOString();
  for (const e of entries) {
    seq += 1;
    const row: AuditEventsTable = {
      seq,
      at: iso,
      actor: e.actor,
      action: e.action,
      target: e.target,
      subject_user: e.subjectUser ?? null,
      resource: e.resource ?? null,
      details: canonicalJson(e.details ?? {}),
      prev_hash: prev,
      hash: '',
    };
    row.hash = hashRow(row);
    rows.push(row);
    prev = row.hash;
  }
  return { rows, head: `${seq}:${prev}` };
}

function parseHead(value: string): [number, string] {
  const [seq, hash] = value.split(':');
  return [Number(seq), hash ?? GENESIS_HASH];
}

export function toAuditEvent(row: AuditEventsTable): AuditEvent {
  let details: Record<string, unknown>;
  try {
    details = JSON.parse(row.details) as Record<string, unknown>;
  } catch {
    details = { unparseable: row.details };
  }
  return { ...row, details };
}

export type VerifyResult =
  | { readonly ok: true; readonly events: number; readonly head: string }
  | { readonly ok: false; readonly events: number; readonly firstBadSeq: number; readonly problem: string };

/** Rows per page when verifying, and details longer than this (in characters) are read in slices. */
const VERIFY_PAGE_ROWS = 1000;
const INLINE_DETAILS_CHARS = 16 * 1024;
const DETAILS_SLICE_CHARS = 1024 * 1024;

/**
 * Walks the whole chain and names the first row that does not hold. Memory
 * stays bounded whatever the store holds: rows are read a page at a time
 * (by seq), and a large `details` is hashed in slices rather than loaded
 * whole (a store of 9 MB statement texts made the old verify run out of
 * memory, and the server with it).
 */
export async function verifyAudit(db: Executor): Promise<VerifyResult> {
  // On a shared PostgreSQL store other nodes append while the walk runs: it reads one snapshot, so the head it
  // checks the rows against is the head those rows lead to (without it, a live fleet looked "removed or added").
  if (db.getExecutor().adapter instanceof PostgresAdapter && !db.isTransaction) {
    return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute((trx) => walkChain(trx));
  }
  return walkChain(db);
}

async function walkChain(db: Executor): Promise<VerifyResult> {
  let expectedSeq = 1;
  let prev = GENESIS_HASH;
  let count = 0;
  for (;;) {
    const page = await db
      .selectFrom('audit_events')
      .select(['seq', 'at', 'actor', 'action', 'target', 'subject_user', 'resource', 'prev_hash', 'hash'])
      .select(sql<number>`length(details)`.as('details_length'))
      .select(sql<string | null>`case when length(details) <= ${INLINE_DETAILS_CHARS} then details end`.as('details_inline'))
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(VERIFY_PAGE_ROWS)
      .execute();
    for (const row of page) {
      if (row.seq !== expectedSeq) {
        return bad(count, expectedSeq, `event ${expectedSeq} is missing (the next stored event is ${row.seq})`);
      }
      if (row.prev_hash !== prev) {
        return bad(count, row.seq, `event ${row.seq} does not follow event ${row.seq - 1} (its prev_hash differs)`);
      }
      const { hash, details_inline: details, details_length: detailsLength, ...rest } = row;
      const computed = details !== null ? hashRow({ ...rest, details }) : await hashRowInSlices(db, rest, Number(detailsLength));
      if (computed !== hash) return bad(count, row.seq, `event ${row.seq} was changed after it was written`);
      prev = hash;
      expectedSeq += 1;
      count += 1;
    }
    if (page.length < VERIFY_PAGE_ROWS) break;
  }
  const head = await db.selectFrom('meta').select('value').where('key', '=', HEAD_KEY).executeTakeFirst();
  const [headSeq, headHash] = head ? parseHead(head.value) : [0, GENESIS_HASH];
  if (headSeq !== count || headHash !== prev) {
    const firstBad = Math.min(headSeq, count) + 1;
    return bad(count, firstBad, `the chain ends at event ${count} but its recorded head is event ${headSeq}: events were removed or added`);
  }
  return { ok: true, events: count, head: prev };
}

/**
 * `hashRow` for a row whose details are too large to load at once: the same
 * bytes (`JSON.stringify` of the row's array), with the details string
 * escaped and hashed slice by slice. Slices are whole characters (the
 * database cuts by character), so escaping each equals escaping the whole.
 */
async function hashRowInSlices(db: Executor, row: Omit<AuditEventsTable, 'hash' | 'details'>, detailsLength: number): Promise<string> {
  const head = JSON.stringify([row.seq, row.at, row.actor, row.action, row.target, row.subject_user, row.resource]);
  const h = createHash('sha256');
  h.update(`${head.slice(0, -1)},"`);
  for (let from = 1; from <= detailsLength; from += DETAILS_SLICE_CHARS) {
    const part = await db
      .selectFrom('audit_events')
      .select(sql<string>`substr(details, ${from}, ${DETAILS_SLICE_CHARS})`.as('part'))
      .where('seq', '=', row.seq)
      .executeTakeFirstOrThrow();
    h.update(JSON.stringify(part.part).slice(1, -1));
  }
  h.update(`",${JSON.stringify(row.prev_hash)}]`);
  return h.digest('hex');
}

function bad(events: number, firstBadSeq: number, problem: string): VerifyResult {
  return { ok: false, events, firstBadSeq, problem };
}
