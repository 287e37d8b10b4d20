import type SQLite from 'better-sqlite3';
import type pg from 'pg';
import type { NativeConnection } from '../store/connection.js';
import { STORE_WRITE_LOCK } from '../store/transaction.js';
import { HEAD_KEY } from './chain.js';
import type { BatchMarker } from './statement-batch.js';
import { chainStatementRows, countsOf, type StatementFields } from './statement-fields.js';

/**
 * The writer thread's way of writing a statement batch: what
 * `writeStatementBatch` does (one serialized write transaction; the marker
 * read first, so a batch that committed before a crash is not written again;
 * the head read inside it; the rows chained after it; the new head, the
 * sessions' counts and the marker in the same transaction), with statements
 * whose text never changes instead of a query built per batch. A query
 * builder's multi-row insert of a whole batch was a new statement every time
 * (200 rows × 10 parameters), which SQLite parsed and planned again, and its
 * build and compile cost more than the rows themselves.
 */
export interface BatchWriter {
  write(iso: string, fields: StatementFields, marker: BatchMarker): Promise<void>;
}

export function createBatchWriter(native: NativeConnection): BatchWriter {
  return native.dialect === 'sqlite' ? sqliteWriter(native.sqlite) : postgresWriter(native.pool);
}

const COLUMNS = 'seq, "at", actor, action, target, subject_user, resource, details, prev_hash, hash';
const UPSERT_META = 'insert into meta (key, value) values (?, ?) on conflict (key) do update set value = excluded.value';

function sqliteWriter(db: SQLite.Database): BatchWriter {
  // Prepared on first use, not at start: the thread may start before the store's schema is there.
  let write: ((iso: string, fields: StatementFields, marker: BatchMarker) => void) | null = null;

  function prepare(): (iso: string, fields: StatementFields, marker: BatchMarker) => void {
    const readMeta = db.prepare<[string], string>('select value from meta where key = ?').pluck();
    const insert = db.prepare(`insert into audit_events (${COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const count = db.prepare('update sessions set statements = statements + ?, refused = refused + ? where id = ?');
    const upsert = db.prepare(UPSERT_META);
    const batch = db.transaction((iso: string, fields: StatementFields, [key, no]: BatchMarker) => {
      const done = readMeta.get(key);
      if (done !== undefined && Number(done) >= no) return;
      if (fields.length > 0) {
        const { rows, head } = chainStatementRows(readMeta.get(HEAD_KEY), iso, fields);
        for (const row of rows) insert.run(row);
        upsert.run(HEAD_KEY, head);
        for (const [id, statements, refused] of countsOf(fields)) count.run(statements, refused, id);
      }
      upsert.run(key, String(no));
    });
    // BEGIN IMMEDIATE, as every other writer of the file: the write lock before the head is read.
    return (iso, fields, marker) => batch.immediate(iso, fields, marker);
  }

  return {
    async write(iso, fields, marker) {
      write ??= prepare();
      write(iso, fields, marker);
    },
  };
}

/**
 * One statement does the whole write: the rows come as one JSON array (the
 * chain's own row JSON, so nothing is encoded twice), the counts as another,
 * the head and marker as two arrays. Named, so each connection parses and
 * plans it once.
 */
const PG_WRITE = {
  name: 'airlock_statement_batch',
  text: `with audit_rows as (
  insert into audit_events (${COLUMNS})
  select (r->>0)::bigint, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, r->>8, r->>9 from jsonb_array_elements($1::jsonb) as r
), session_counts as (
  update sessions as s set statements = s.statements + (c->>1)::bigint, refused = s.refused + (c->>2)::bigint
  from jsonb_array_elements($2::jsonb) as c where s.id = c->>0
)
insert into meta (key, value) select * from unnest($3::text[], $4::text[]) on conflict (key) do update set value = excluded.value`,
};
const PG_READ_META = { name: 'airlock_statement_batch_meta', text: 'select key, value from meta where key = $1 or key = $2' };

function postgresWriter(pool: pg.Pool): BatchWriter {
  return {
    async write(iso, fields, [key, no]) {
      const client = await pool.connect();
      // A connection whose rollback failed is in an unknown state: the pool drops it instead of lending it again.
      let broken: Error | undefined;
      let began = false;
      try {
        // The store's write lock first, as every store transaction takes it (see lockedTransaction).
        await client.query(`begin; select pg_advisory_xact_lock(${STORE_WRITE_LOCK})`);
        began = true;
        const meta = await client.query<{ key: string; value: string }>({ ...PG_READ_META, values: [key, HEAD_KEY] });
        let done: string | undefined;
        let headValue: string | undefined;
        for (const r of meta.rows) {
          if (r.key === key) done = r.value;
          else headValue = r.value;
        }
        if (done === undefined || Number(done) < no) {
          const keys = [key];
          const values = [String(no)];
          let rows = '[]';
          if (fields.length > 0) {
            const chained = chainStatementRows(headValue, iso, fields, true);
            rows = chained.json;
            keys.push(HEAD_KEY);
            values.push(chained.head);
          }
          await client.query({ ...PG_WRITE, values: [rows, JSON.stringify(countsOf(fields)), keys, values] });
        }
        await client.query('commit');
      } catch (err) {
        const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));
        if (!began) broken = asError(err);
        else await client.query('rollback').catch((e: unknown) => void (broken = asError(e)));
        throw err;
      } finally {
        client.release(broken);
      }
    },
  };
}
