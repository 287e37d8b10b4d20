import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { UpstreamTarget } from '../../../src/gateway/postgres/backend.js';

/** The machine's real PostgreSQL, reached as superuser over trust auth. */
export const ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;

export const uniqueName = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

export async function admin<T>(fn: (c: pg.Client) => Promise<T>, database: string = ADMIN.database): Promise<T> {
  const client = new pg.Client({ ...ADMIN, database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A login role and a schema it owns with one small table, all uniquely named; `drop()` removes them. */
export async function scratch(): Promise<{ role: string; schema: string; password: string; target: UpstreamTarget; drop(): Promise<void> }> {
  const role = uniqueName('airlock_svc');
  const schema = uniqueName('airlock_t');
  const password = randomBytes(12).toString('hex');
  await admin(async (c) => {
    await c.query(`create role ${role} login password '${password}'`);
    await c.query(`create schema ${schema} authorization ${role}`);
    await c.query(`alter role ${role} set search_path = ${schema}, public`);
    await c.query(`create table ${schema}.orders (id int primary key, item text)`);
    await c.query(`insert into ${schema}.orders select g, 'item ' || g from generate_series(1, 100) g`);
    await c.query(`alter table ${schema}.orders owner to ${role}`);
  });
  return {
    role,
    schema,
    password,
    target: { host: ADMIN.host, port: ADMIN.port, database: ADMIN.database, user: role, password },
    async drop() {
      await admin(async (c) => {
        await c.query(`select pg_terminate_backend(pid) from pg_stat_activity where usename = $1`, [role]);
        await c.query(`drop schema ${schema} cascade`);
        await c.query(`drop role ${role}`);
      });
    },
  };
}

export async function backendAlive(pid: number): Promise<boolean> {
  return admin(async (c) => (await c.query('select 1 from pg_stat_activity where pid = $1', [pid])).rowCount === 1);
}
