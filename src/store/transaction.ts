import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * One write transaction. IMMEDIATE takes the write lock up front, so two
 * connections (the server's, the audit writer thread's, `airlock tokens
 * issue`) never both read the same audit chain head.
 */
export async function immediateTransaction<T>(db: Kysely<Database>, fn: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
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
