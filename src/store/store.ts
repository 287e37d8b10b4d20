import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely';
import { AirlockError } from '../core/errors.js';
import { migrations } from './migrations.js';
import type { Database } from './schema.js';
import { immediateTransaction } from './transaction.js';

/** A database handle or an open transaction: every store function accepts either. */
export type Executor = Kysely<Database>;

export interface Store {
  readonly db: Kysely<Database>;
  readonly location: string;
  /** Runs `fn` in one write transaction; the audit chain relies on writers being serialized. */
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Opens the store named by a `store:` URL. `sqlite:PATH` is the embedded
 * default; a relative PATH is taken from `baseDir` (the config file's folder).
 */
export async function openStore(url: string, baseDir: string): Promise<Store> {
  const m = /^sqlite:(.+)$/.exec(url);
  if (!m) {
    throw new AirlockError(
      'unsupported_store',
      'invalid',
      `store "${url.replace(/:\/\/[^@]*@/, '://***@')}" is not supported yet; use sqlite:PATH (e.g. sqlite:.airlock/airlock.db)`,
    );
  }
  const path = m[1] === ':memory:' ? ':memory:' : isAbsolute(m[1]!) ? m[1]! : resolve(baseDir, m[1]!);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  // FULL: an acknowledged grant or audit event survives power loss, not just a process crash.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const { error } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw error;
  return {
    db,
    location: path,
    transaction: (fn) => immediateTransaction(db, fn),
    close: () => db.destroy(),
  };
}
