import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The machine's PostgreSQL, as superuser over trust auth (the same one the tests use). */
export const POSTGRES = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;

export interface BenchDatabase {
  readonly name: string;
  /** Login roles the gateway's read and write roles sign in as; direct, PgBouncer and relay runs use them too, so every path runs as the same PostgreSQL user. */
  readonly readUser: string;
  readonly writeUser: string;
  readonly password: string;
  drop(): Promise<void>;
}

async function admin(sql: string, database: string = POSTGRES.database): Promise<void> {
  const c = new pg.Client({ ...POSTGRES, database });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A uniquely named database initialised by `pgbench -i`, with a read-only and a read-write login role; `drop()` removes all three. */
export async function createBenchDatabase(scale: number): Promise<BenchDatabase> {
  const suffix = randomBytes(4).toString('hex');
  const name = `airlock_bench_${suffix}`;
  const readUser = `airlock_bench_ro_${suffix}`;
  const writeUser = `airlock_bench_rw_${suffix}`;
  const password = randomBytes(12).toString('hex');
  await admin(`create role ${readUser} login password '${password}'`);
  await admin(`create role ${writeUser} login password '${password}'`);
  await admin(`create database ${name}`);
  const drop = async () => {
    await admin(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and pid <> pg_backend_pid()`);
    await admin(`drop database if exists ${name}`);
    await admin(`drop role if exists ${readUser}`);
    await admin(`drop role if exists ${writeUser}`);
  };
  try {
    await run('pgbench', ['-i', '-q', '-s', String(scale), '-h', POSTGRES.host, '-p', String(POSTGRES.port), '-U', POSTGRES.user, name]);
    await admin(
      `grant select on all tables in schema public to ${readUser};
       grant select, insert, update, delete on all tables in schema public to ${writeUser};`,
      name,
    );
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
  return { name, readUser, writeUser, password, drop };
}
