import { randomBytes } from 'node:crypto';
import { createPostgresGateway, type PostgresGateway } from '../../../../src/gateway/postgres/index.js';
import type { CheckSql } from '../../../../src/gateway/postgres/statement-check.js';
import { FakeBackend } from '../fake-backend.js';
import { ADMIN, admin, uniqueName } from '../pg-fixture.js';

/**
 * A gateway with the real SQL policy in front of a fresh database, and one
 * table-scoped read grant on it, for tests that drive the clients people use
 * (psql, pg_dump, JDBC, SQLAlchemy, Django). The denied table carries names
 * and a value found nowhere else, so any output can be searched for them.
 */

/** Strings of the denied table that must appear in no client's output. */
export const DENIED = {
  table: 'payment_tokens',
  column: 'card_secret_pan',
  value: 'tok_LEAKED_4242',
  index: 'payment_tokens_pan_idx',
  constraint: 'payment_tokens_order_fk',
} as const;

const SCHEMA = `
create table customers (id int primary key, name text not null, email text unique);
create table orders (id serial primary key, customer_id int not null references customers (id), status text default 'open', total numeric(10, 2));
create index orders_status_idx on orders (status);
create table order_items (order_id int references orders (id), sku text, qty int, primary key (order_id, sku));
create view paid_orders as select id, customer_id, total from orders where status = 'paid';
create function order_total(o int) returns numeric language sql stable as 'select total from orders where id = o';
create table ${DENIED.table} (id int primary key, order_id int constraint ${DENIED.constraint} references orders (id), ${DENIED.column} text);
create index ${DENIED.index} on ${DENIED.table} (${DENIED.column});
comment on table ${DENIED.table} is 'holds card numbers';
-- A type whose comparisons run user code (its default btree class), in a column named like many catalog columns:
-- the clients' catalog queries sort and compare columns called name, and must not be refused for it.
create type public.label as (t text);
create function public.label_cmp(a public.label, b public.label) returns int language plpgsql immutable as $$
  begin perform pg_catalog.set_config('application_name', 'pwned-by-sort', false); return pg_catalog.bttextcmp((a).t, (b).t); end $$;
create function public.label_lt(a public.label, b public.label) returns boolean language sql immutable as 'select public.label_cmp(a, b) < 0';
create function public.label_eq(a public.label, b public.label) returns boolean language sql immutable as 'select public.label_cmp(a, b) = 0';
create operator public.@< (leftarg = public.label, rightarg = public.label, function = public.label_lt);
create operator public.@= (leftarg = public.label, rightarg = public.label, function = public.label_eq);
create operator class public.label_ops default for type public.label using btree as
  operator 1 public.@<, operator 3 public.@=, function 1 public.label_cmp(public.label, public.label);
create table labels (id int primary key, name public.label);
insert into customers values (1, 'Ada', 'ada@example.com'), (2, 'Bob', 'bob@example.org');
insert into orders (customer_id, status, total) values (1, 'paid', 120.50), (2, 'open', 10);
insert into order_items values (1, 'sku-1', 2), (2, 'sku-2', 1);
insert into ${DENIED.table} values (1, 1, '${DENIED.value}');
`;

export interface ScopedGateway {
  readonly port: number;
  readonly resource: string;
  readonly database: string;
  readonly backend: FakeBackend;
  /** A user name and secret for a read grant on `public.*` that denies `public.payment_tokens`. */
  readonly reader: { readonly user: string; readonly secret: string };
  /** Environment for libpq clients (psql, pg_dump) signing in as the reader. */
  readonly libpqEnv: Record<string, string>;
  close(): Promise<void>;
}

export async function startScopedGateway(opts: { checkSql?: CheckSql; extraSql?: (database: string) => string } = {}): Promise<ScopedGateway> {
  const database = uniqueName('airlock_clients');
  await admin((c) => c.query(`create database ${database}`));
  await admin((c) => c.query(SCHEMA + (opts.extraSql?.(database) ?? '')), database);
  const backend = new FakeBackend();
  const resource = `orders-db-${randomBytes(4).toString('hex')}`;
  const gateway: PostgresGateway = await createPostgresGateway({ backend, listen: { host: '127.0.0.1', port: 0 }, checkSql: opts.checkSql });
  const user = uniqueName('alice');
  // The upstream credential is the superuser on purpose: the read role must hold even then.
  const target = { host: ADMIN.host, port: ADMIN.port, database, user: ADMIN.user };
  const { secret } = backend.issue({ user, resource, role: 'read', allow: ['read'], target, tables: ['public.*'], denyTables: [`public.${DENIED.table}`] });
  const port = gateway.address().port;
  return {
    port,
    resource,
    database,
    backend,
    reader: { user, secret },
    libpqEnv: { PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: user, PGPASSWORD: secret, PGDATABASE: resource, PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '10' },
    async close() {
      await gateway.close();
      await admin(async (c) => {
        await c.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [database]);
        await c.query(`drop database if exists ${database}`);
      });
    },
  };
}

/** The first string of the denied table found in `text`, or undefined. */
export function deniedIn(text: string): string | undefined {
  return Object.values(DENIED).find((s) => text.includes(s));
}
