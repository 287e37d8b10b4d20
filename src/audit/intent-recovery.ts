import { unlinkSync } from 'node:fs';
import type { Store } from '../store/store.js';
import { appendAudit, type AuditEntry } from './chain.js';
import { readSegment, segmentFiles, type IntentLine } from './intent-log.js';

/** The reason written for a statement whose intent outlived its process. */
export const MAY_HAVE_RUN = 'the gateway stopped before the upstream answered: it may or may not have run';

/**
 * Where this node keeps its intent segments (beside a SQLite file; a local
 * folder of the node's own for a PostgreSQL store, so recovery only ever
 * closes this node's intents); null for a store in memory.
 */
export function intentDirFor(store: Pick<Store, 'intentDir'>): string | null {
  return store.intentDir;
}

/**
 * Start-up, before any gateway runs: every intent left by a process that died
 * and whose outcome never reached the chain is recorded in its session as a
 * statement that may or may not have run (with the text the intent kept).
 * Intents whose outcome is in the chain are left alone, so nothing is recorded
 * twice. The segments are removed once the closures are committed.
 */
export async function recoverIntents(store: Store, dir: string, at: Date): Promise<{ closed: number; segments: number }> {
  const files = segmentFiles(dir);
  if (files.length === 0) return { closed: 0, segments: 0 };
  const pending = new Map<string, IntentLine>();
  let earliest: string | null = null;
  for (const file of files) {
    const { header, intents } = readSegment(file);
    if (header && (earliest === null || header.started < earliest)) earliest = header.started;
    for (const intent of intents) pending.set(intent.id, intent);
  }
  if (pending.size > 0) await dropRecorded(store, pending, searchFrom(store, earliest));
  if (pending.size > 0) await closeIntents(store, [...pending.values()], at);
  for (const file of files) unlinkSync(file);
  return { closed: pending.size, segments: files.length };
}

/**
 * Where to start looking for this node's outcomes. On a shared store other
 * nodes' rows are interleaved, stamped by their own clocks: a minute of slack
 * keeps a little clock skew from hiding an outcome (which would then be
 * recorded a second time, as "may have run").
 */
function searchFrom(store: Pick<Store, 'dialect'>, earliest: string | null): string {
  if (earliest === null) return new Date(0).toISOString();
  return store.dialect === 'postgres' ? new Date(Date.parse(earliest) - 60_000).toISOString() : earliest;
}

/** Removes from `pending` every intent whose outcome is already in the chain (written at or after `since`). */
async function dropRecorded(store: Store, pending: Map<string, IntentLine>, since: string): Promise<void> {
  const from = await firstSeqAtOrAfter(store, since);
  const pageSize = 2000;
  for (let seq = from; ; ) {
    const page = await store.db
      .selectFrom('audit_events')
      .select(['seq', 'details'])
      .where('seq', '>=', seq)
      .where('action', 'in', ['statement', 'statement.refused'])
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    for (const row of page) {
      const intent = intentOf(row.details);
      if (intent) pending.delete(intent);
    }
    if (page.length < pageSize || pending.size === 0) return;
    seq = page[page.length - 1]!.seq + 1;
  }
}

function intentOf(details: string): string | undefined {
  // Cheap test first: most statement rows of a long run carry other runs' intents or none.
  if (!details.includes('"intent"')) return undefined;
  try {
    const value = (JSON.parse(details) as { intent?: unknown }).intent;
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Binary search over seq (events are appended in time order): the first event at or after `at`. */
async function firstSeqAtOrAfter(store: Store, at: string): Promise<number> {
  const head = await store.db.selectFrom('audit_events').select((eb) => eb.fn.max('seq').as('max')).executeTakeFirst();
  let lo = 1;
  let hi = Number(head?.max ?? 0) + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const row = await store.db.selectFrom('audit_events').select('at').where('seq', '=', mid).executeTakeFirst();
    if (!row || row.at >= at) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

async function closeIntents(store: Store, intents: readonly IntentLine[], at: Date): Promise<void> {
  const sessionIds = [...new Set(intents.map((i) => i.session))];
  const sessions = new Map<string, { user: string; resource: string; grant_id: string }>();
  for (let i = 0; i < sessionIds.length; i += 500) {
    const rows = await store.db.selectFrom('sessions').select(['id', 'user', 'resource', 'grant_id']).where('id', 'in', sessionIds.slice(i, i + 500)).execute();
    for (const r of rows) sessions.set(r.id, r);
  }
  const entries: AuditEntry[] = intents.map((intent) => {
    const s = sessions.get(intent.session);
    return {
      actor: s?.user ?? 'airlock',
      action: 'statement',
      target: intent.session,
      subjectUser: s?.user ?? null,
      resource: s?.resource ?? null,
      details: { forwarded_at: new Date(intent.at).toISOString(), grant: s?.grant_id, intent: intent.id, outcome: 'unknown', reason: MAY_HAVE_RUN, text: intent.text ?? undefined },
    };
  });
  for (let i = 0; i < entries.length; i += 1000) {
    const slice = entries.slice(i, i + 1000);
    await store.transaction(async (tx) => {
      await appendAudit(tx, at, slice);
      for (const [id, n] of countBySession(intents.slice(i, i + 1000))) {
        await tx.updateTable('sessions').set((eb) => ({ statements: eb('statements', '+', n) })).where('id', '=', id).execute();
      }
    });
  }
}

function countBySession(intents: readonly IntentLine[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const i of intents) counts.set(i.session, (counts.get(i.session) ?? 0) + 1);
  return counts;
}
