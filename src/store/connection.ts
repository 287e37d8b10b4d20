import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { AirlockError } from '../core/errors.js';
import type { Database } from './schema.js';
import { immediateTransaction, lockedTransaction } from './transaction.js';

/**
 * Where a store lives: a SQLite file (the embedded default) or a PostgreSQL
 * database (many nodes). The PostgreSQL URL carries its password: it is
 * handed to connections only, never printed (see `redactStoreUrl`).
 */
export type StoreTarget = { readonly dialect: 'sqlite'; readonly path: string } | { readonly dialect: 'postgres'; readonly url: string };

export type StoreDialect = StoreTarget['dialect'];

/** A store URL with its password (if any) replaced by `***`, for messages and logs. */
export function redactStoreUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

/** Parses a `store:` value: `sqlite:PATH` (relative to `baseDir`) or `postgres://…` / `postgresql://…`. */
export function storeTarget(url: string, baseDir: string): StoreTarget {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', url };
  const m = /^sqlite:(.+)$/.exec(url);
  if (!m) {
    throw new AirlockError(
      'unsupported_store',
      'invalid',
      `store "${redactStoreUrl(url)}" is not supported; use sqlite:PATH (e.g. sqlite:.airlock/airlock.db) or postgres://USER:PASSWORD@HOST:PORT/DATABASE`,
    );
  }
  const path = m[1] === ':memory:' ? ':memory:' : isAbsolute(m[1]!) ? m[1]! : resolve(baseDir, m[1]!);
  return { dialect: 'sqlite', path };
}

/** Where the store is, as it may be shown: the file path, or the URL without its password. */
export function describeTarget(target: StoreTarget): string {
  return target.dialect === 'sqlite' ? target.path : redactStoreUrl(target.url);
}

/**
 * PostgreSQL's bigint (counts, audit seqs, outbox ids) comes back from `pg`
 * as a string; the store code compares and adds them as numbers. Every value
 * the store keeps stays far below 2^53, where a JS number is still exact.
 */
const INT8_OID = 20;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/** The driver handle under `db`, for a hot path that runs fixed statements of its own (the audit writer thread). */
export type NativeConnection = { readonly dialect: 'sqlite'; readonly sqlite: SQLite.Database } | { readonly dialect: 'postgres'; readonly pool: pg.Pool };

export interface StoreConnection {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  readonly native: NativeConnection;
  /** One write transaction, serialized with every other writer of the store (all connections, all processes). */
  transaction<T>(fn: (tx: Kysely<Database>) => Promise<T>): Promise<T>;
  /** Closes the connection, also when only `native` was used (Kysely closes only a driver it has started). */
  close(): Promise<void>;
}

export interface ConnectOptions {
  readonly busyTimeoutMs?: number;
  /** PostgreSQL connections this handle may hold at once. */
  readonly poolSize?: number;
}

/**
 * Opens a connection to the store (no migrations). The server's store and the
 * audit writer thread both come through here, so they open the same way.
 */
export function connectStore(target: StoreTarget, opts: ConnectOptions = {}): StoreConnection {
  if (target.dialect === 'sqlite') {
    if (target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true });
    const sqlite = new SQLite(target.path);
    sqlite.pragma('journal_mode = WAL');
    // FULL: an acknowledged grant or audit event survives power loss, not just a process crash.
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    const close = async () => {
      await db.destroy();
      if (sqlite.open) sqlite.close();
    };
    return { db, dialect: 'sqlite', native: { dialect: 'sqlite', sqlite }, transaction: (fn) => immediateTransaction(db, fn), close };
  }
  const pool = new pg.Pool({ connectionString: target.url, max: opts.poolSize ?? 10, types: pgTypes, application_name: 'airlock' });
  // An idle connection the server dropped must not take the process down; the next query opens a new one.
  pool.on('error', (err) => console.error(`airlock: store connection lost (${scrubPassword(err.message, target.url)}); reconnecting on next use`));
  // The pool hears only idle connections: one checked out (between a transaction's queries) when the store goes away would throw from its error event and end the process. Its query rejects instead.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const close = async () => {
    await db.destroy();
    // An idle connection left in the pool would keep its thread alive until the pool's idle timeout (10 s).
    if (!pool.ending) await pool.end();
  };
  return { db, dialect: 'postgres', native: { dialect: 'postgres', pool }, transaction: (fn) => lockedTransaction(db, fn), close };
}

/** `text` with the URL's password (should a driver ever quote it) replaced by `***`. */
export function scrubPassword(text: string, url: string): string {
  let password: string;
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return text;
  }
  return password ? text.split(password).join('***') : text;
}
