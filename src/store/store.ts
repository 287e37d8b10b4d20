import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Kysely, Migrator, sql, type MigrationProvider } from 'kysely';
import { AirlockError } from '../core/errors.js';
import { connectStore, describeTarget, scrubPassword, storeTarget, type StoreDialect, type StoreTarget } from './connection.js';
import { migrations } from './migrations.js';
import type { Database } from './schema.js';

/** A database handle or an open transaction: every store function accepts either. */
export type Executor = Kysely<Database>;

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  /** The SQLite file path (or `:memory:`), or the PostgreSQL URL without its password. */
  readonly location: string;
  /** What another connection to this store (the audit writer thread's) opens. Holds the password: never print it. */
  readonly target: StoreTarget;
  /** This process's node name: recorded on the sessions it carries; start-up closes only its own. */
  readonly node: string;
  /** Where this node's write-ahead intents live; null for a store in memory (nothing outlives the process). */
  readonly intentDir: string | null;
  /** Runs `fn` in one write transaction; the audit chain relies on writers being serialized. */
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Node name (default: the host name). */
  readonly node?: string;
  /** For a PostgreSQL store, the local folder of this node's intents (default `<baseDir>/.airlock/intents/<node>`). */
  readonly intentsDir?: string;
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Opens the store named by a `store:` URL and brings its schema up to date.
 * `sqlite:PATH` is the embedded default (a relative PATH is taken from
 * `baseDir`, the config file's folder); `postgres://…` is shared by many nodes.
 */
export async function openStore(url: string, baseDir: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const target = storeTarget(url, baseDir);
  const node = opts.node ?? hostname();
  const { db, dialect, transaction } = connectStore(target);
  try {
    // Kysely finds its migration tables by name in any schema: name the one this URL's search_path writes to,
    // so two stores in one database (one schema each) do not see each other's.
    const migrationTableSchema = dialect === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s : undefined;
    const { error } = await new Migrator({ db, provider, migrationTableSchema }).migrateToLatest();
    if (error) throw error;
  } catch (err) {
    await db.destroy().catch(() => undefined);
    if (target.dialect === 'postgres') {
      const why = scrubPassword(err instanceof Error ? err.message : String(err), target.url);
      throw new AirlockError('store_unreachable', 'unavailable', `cannot open the store ${describeTarget(target)}: ${why}; check that PostgreSQL runs there and the URL's user may connect`);
    }
    throw err;
  }
  const intentDir =
    target.dialect === 'sqlite' ? (target.path === ':memory:' ? null : `${target.path}-intents`) : resolve(baseDir, opts.intentsDir ?? resolve(baseDir, '.airlock/intents', node));
  return {
    db,
    dialect,
    location: describeTarget(target),
    target,
    node,
    intentDir,
    transaction,
    close: () => db.destroy(),
  };
}
