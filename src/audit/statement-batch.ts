import { addSessionCounts } from '../store/sessions.js';
import type { Executor } from '../store/store.js';
import { appendAuditBatch, type AuditEntry } from './chain.js';

/** Session id, statements, refused: added to the session's counts in the batch's transaction. */
export type SessionCounts = readonly [string, number, number];

/** `[meta key, batch number]`: the last batch of one recorder that committed. */
export type BatchMarker = readonly [key: string, batch: number];

export interface StatementBatch {
  readonly at: Date;
  readonly entries: readonly AuditEntry[];
  readonly counts: readonly SessionCounts[];
  /** `meta` row written in the batch's transaction, so a retry can tell whether it committed. */
  readonly marker: BatchMarker;
}

/**
 * Writes one batch of statement records inside the caller's write
 * transaction: the audit rows through the chain's one append path, the
 * sessions' counts, and the batch's marker. The recorder's fallback on the
 * main thread calls it; the writer thread does the same with statements
 * prepared once (batch-writer.ts). Either way a batch is written at most once:
 * a batch whose marker is already there is skipped.
 */
export async function writeStatementBatch(tx: Executor, batch: StatementBatch): Promise<void> {
  const [key, no] = batch.marker;
  const done = await tx.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
  if (done && Number(done.value) >= no) return;
  await appendAuditBatch(tx, batch.at, batch.entries);
  for (const [id, statements, refused] of batch.counts) await addSessionCounts(tx, id, statements, refused);
  const value = String(no);
  await tx.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
}
