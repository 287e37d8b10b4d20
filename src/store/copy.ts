import { sql, type Kysely } from 'kysely';
import { verifyAudit, HEAD_KEY } from '../audit/chain.js';
import { AirlockError } from '../core/errors.js';
import type { Database } from './schema.js';
import type { Executor, Store } from './store.js';

type AnyTables = Record<string, Record<string, unknown>>;

/**
 * Every table of the control plane, in the order they are copied, with the
 * column(s) that order them. Not copied: Kysely's migration tables (the
 * target has its own, at the same version) and `nodes` (the heartbeats of the
 * nodes running on the source, which are stopped).
 */
const TABLES = [
  { name: 'meta', key: ['key'] },
  { name: 'requests', key: ['id'] },
  { name: 'reviews', key: ['request_id', 'reviewer'] },
  { name: 'grants', key: ['id'] },
  { name: 'sessions', key: ['id'] },
  { name: 'api_tokens', key: ['id'] },
  { name: 'identity_users', key: ['name'] },
  { name: 'sign_in_sessions', key: ['id'] },
  { name: 'audit_events', key: ['seq'] },
  { name: 'outbox', key: ['id'] },
] as const satisfies ReadonlyArray<{ readonly name: keyof Database; readonly key: readonly string[] }>;

type Table = (typeof TABLES)[number]['name'];

/** Rows per insert: well under both engines' bound-parameter limits with the widest table (sessions, 15 columns). */
const ROWS_PER_INSERT = 500;
/** An audit page is cut when its statement texts pass this many characters, so a store of huge texts copies in bounded memory. */
const AUDIT_PAGE_CHARS = 16 * 1024 * 1024;

export type StoreCounts = Record<Table, number>;

async function countRows(db: Executor): Promise<StoreCounts> {
  const counts = {} as StoreCounts;
  for (const t of TABLES) {
    const row = await db.selectFrom(t.name).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    counts[t.name] = Number(row.n);
  }
  return counts;
}

/**
 * Copies a whole store into an empty one (`airlock store migrate`): every
 * table, the audit chain row for row (so its hashes and head are the same),
 * and `meta` (the grant salt key, so issued secrets keep working). The copy
 * is one transaction on the target: it lands whole or not at all. The target
 * must be empty; the chain is verified on it at the end.
 */
export async function copyStore(from: Store, to: Store, log: (line: string) => void = () => {}): Promise<StoreCounts> {
  const existing = await countRows(to.db);
  const occupied = TABLES.filter((t) => existing[t.name] > 0).map((t) => `${t.name} (${existing[t.name]})`);
  if (occupied.length > 0) {
    throw new AirlockError('store_not_empty', 'conflict', `the target store ${to.location} is not empty: ${occupied.join(', ')}; migrate into a new, empty database`);
  }
  const source = await verifyAudit(from.db);
  if (!source.ok) {
    throw new AirlockError('audit_broken', 'conflict', `the source store's audit chain does not verify (seq ${source.firstBadSeq}: ${source.problem}); nothing was copied`);
  }
  const counts = await countRows(from.db);
  await to.transaction(async (tx) => {
    for (const t of TABLES) {
      if (t.name === 'audit_events') await copyAudit(from.db, tx);
      else await copyTable(from.db, tx, t.name, t.key);
    }
    if (to.dialect === 'postgres') {
      // Ids were copied as they were: the identity continues after the largest.
      await sql`select setval(pg_get_serial_sequence('outbox', 'id'), coalesce((select max(id) from outbox), 0) + 1, false)`.execute(tx);
    }
  });
  const copied = await countRows(to.db);
  const differ = TABLES.filter((t) => copied[t.name] !== counts[t.name]);
  if (differ.length > 0) {
    throw new AirlockError('copy_incomplete', 'conflict', `the copy differs from the source in ${differ.map((t) => `${t.name} (${copied[t.name]} of ${counts[t.name]})`).join(', ')}`);
  }
  const target = await verifyAudit(to.db);
  if (!target.ok || target.head !== source.head || target.events !== source.events) {
    throw new AirlockError('copy_chain_broken', 'conflict', `the audit chain on the target does not match the source's (${target.ok ? `head ${target.head}` : target.problem})`);
  }
  const head = await to.db.selectFrom('meta').select('value').where('key', '=', HEAD_KEY).executeTakeFirst();
  log(`audit chain verified on the target: ${target.events} event(s), head ${head?.value ?? 'none'}`);
  return counts;
}

/** Copies a table in key order, a page at a time (keyset paging on one key column; offset for the composite key). */
async function copyTable(from: Executor, to: Executor, table: Table, key: readonly string[]): Promise<void> {
  // Tables and columns come from the fixed list above, not from input: a loosely typed view of both stores is enough.
  const src = from as unknown as Kysely<AnyTables>;
  const dst = to as unknown as Kysely<AnyTables>;
  let last: unknown = undefined;
  for (let offset = 0; ; offset += ROWS_PER_INSERT) {
    let q = src.selectFrom(table).selectAll();
    for (const k of key) q = q.orderBy(k);
    if (key.length === 1) {
      if (last !== undefined) q = q.where(key[0]!, '>', last);
    } else {
      q = q.offset(offset);
    }
    const rows = await q.limit(ROWS_PER_INSERT).execute();
    if (rows.length === 0) return;
    await dst.insertInto(table).values(rows).execute();
    if (rows.length < ROWS_PER_INSERT) return;
    last = rows[rows.length - 1]![key[0]!];
  }
}

/** The chain, in seq order, in pages cut by row count and by the size of their details. */
async function copyAudit(from: Executor, to: Executor): Promise<void> {
  let after = 0;
  for (;;) {
    const sizes = await from
      .selectFrom('audit_events')
      .select(['seq', sql<number>`length(details)`.as('chars')])
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(ROWS_PER_INSERT)
      .execute();
    if (sizes.length === 0) return;
    let end = sizes[0]!.seq;
    let chars = 0;
    for (const s of sizes) {
      if (chars > 0 && chars + Number(s.chars) > AUDIT_PAGE_CHARS) break;
      chars += Number(s.chars);
      end = s.seq;
    }
    const rows = await from.selectFrom('audit_events').selectAll().where('seq', '>', after).where('seq', '<=', end).orderBy('seq').execute();
    await to.insertInto('audit_events').values(rows).execute();
    after = end;
  }
}
