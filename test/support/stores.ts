import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import type { StoreDialect } from '../../src/store/connection.js';
import { openStore, type OpenStoreOptions, type Store } from '../../src/store/store.js';

/** The local PostgreSQL every store test uses (trust auth); each test file gets a database of its own on it. */
export const PG_ADMIN_URL = process.env.AIRLOCK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const STORE_DIALECTS: readonly StoreDialect[] = ['sqlite', 'postgres'];

/** A fresh, empty store location of one dialect: a temp folder (the SQLite file goes in it) or a new database. */
export interface TestStore {
  readonly dialect: StoreDialect;
  /** The `store:` URL (`sqlite:/tmp/…/airlock.db` or `postgres://…/airlock_test_…`). */
  readonly url: string;
  /** A temp folder of its own: the config folder, the SQLite file, the intents of a PostgreSQL store. */
  readonly dir: string;
  open(opts?: OpenStoreOptions): Promise<Store>;
  /** Removes the folder (the factory's `dropAll` drops the PostgreSQL database). */
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new PostgreSQL database (`airlock_test_<random>`) on the local server; its URL and how to drop it. */
export async function createPostgresDatabase(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `airlock_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined) };
}

/**
 * Fresh, empty store locations of one dialect. For PostgreSQL one database is
 * made per test file (on first use) and each `fresh()` is a schema of its own
 * in it (the URL sets search_path), which is far cheaper than a database per
 * test; `dropAll()` drops the database with everything in it.
 */
export function storeFactory(dialect: StoreDialect) {
  let database: Promise<{ url: string; drop: () => Promise<void> }> | null = null;
  const dirs: string[] = [];
  return {
    dialect,
    async fresh(): Promise<TestStore> {
      const dir = mkdtempSync(join(tmpdir(), `airlock-store-${dialect}-`));
      dirs.push(dir);
      let url = `sqlite:${join(dir, 'airlock.db')}`;
      if (dialect === 'postgres') {
        database ??= createPostgresDatabase();
        const db = await database;
        const schema = `s_${randomBytes(6).toString('hex')}`;
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        await client.query(`create schema ${schema}`).finally(() => client.end());
        const u = new URL(db.url);
        u.searchParams.set('options', `-c search_path=${schema}`);
        url = u.toString();
      }
      return {
        dialect,
        url,
        dir,
        open: (opts) => openStore(url, dir, opts),
        drop: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
    async dropAll(): Promise<void> {
      if (database) await (await database).drop();
      database = null;
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type StoreFactory = ReturnType<typeof storeFactory>;

/**
 * Runs a block of store tests once per dialect (the dialect matrix, as Kysely
 * tests itself). The block gets the dialect's factory: `fresh()` makes an
 * empty store location; everything it made is dropped after the block.
 */
export function describeEachStore(name: string, body: (stores: StoreFactory) => void): void {
  for (const dialect of STORE_DIALECTS) {
    describe(`${name} [${dialect}]`, () => {
      const stores = storeFactory(dialect);
      afterAll(() => stores.dropAll());
      body(stores);
    });
  }
}

/**
 * Another writer holding the store's write lock (a slow disk, a long
 * checkpoint, another node's long transaction): every store transaction
 * waits until `release()`.
 */
export async function holdWriteLock(store: Pick<TestStore, 'dialect' | 'url'>): Promise<{ release: () => Promise<void> }> {
  if (store.dialect === 'sqlite') {
    const { default: SQLite } = await import('better-sqlite3');
    const other = new SQLite(store.url.slice('sqlite:'.length));
    other.exec('BEGIN IMMEDIATE');
    return {
      release: async () => {
        if (other.inTransaction) other.exec('COMMIT');
        other.close();
      },
    };
  }
  const { STORE_WRITE_LOCK } = await import('../../src/store/transaction.js');
  const client = new pg.Client({ connectionString: store.url });
  await client.connect();
  await client.query(`begin; select pg_advisory_xact_lock(${STORE_WRITE_LOCK})`);
  return {
    release: async () => {
      await client.query('commit');
      await client.end();
    },
  };
}
