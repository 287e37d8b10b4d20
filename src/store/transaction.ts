import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './schema.js';

/**
 * One write transaction. IMMEDIATE takes the write lock up front, so two
 * connections (the server's, the audit writer thread's, `airlock tokens
 * issue`) never both read the same audit chain head.
 */
export async function immediateTransaction<T>(db: Kysely<Database>, fn: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
  return inTransaction(db, sql`begin immediate`, fn);
}

/**
 * The advisory lock every PostgreSQL store transaction takes first (an
 * arbitrary fixed key; "AIRL" in ASCII). It gives a PostgreSQL store what
 * BEGIN IMMEDIATE gives a SQLite file: one writer at a time across every
 * connection of every node, so no two read the same audit chain head (no
 * fork) and read-then-write checks in the lifecycle hold across nodes. Taken
 * before anything else, it cannot deadlock with row locks.
 */
export const STORE_WRITE_LOCK = 0x4149524c;

/** The PostgreSQL form of `immediateTransaction`: serialized by `STORE_WRITE_LOCK`, released at commit or rollback. */
export async function lockedTransaction<T>(db: Kysely<Database>, fn: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
  return inTransaction(db, sql`begin; select pg_advisory_xact_lock(${sql.lit(STORE_WRITE_LOCK)})`, fn);
}

async function inTransaction<T>(db: Kysely<Database>, begin: RawBuilder<unknown>, fn: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await begin.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      try {
        await sql`rollback`.execute(conn);
      } catch {
        // SQLite already rolled the transaction back itself (it does on a full disk): the first error says why.
      }
      throw err;
    }
  });
}
