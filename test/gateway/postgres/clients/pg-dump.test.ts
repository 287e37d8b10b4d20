import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSql } from '../../../../src/gateway/postgres/sql/check.js';
import type { CheckSql } from '../../../../src/gateway/postgres/statement-check.js';
import { run } from '../harness.js';
import { DENIED, type ScopedGateway, startScopedGateway } from './scoped-gateway.js';

/**
 * pg_dump of allowed tables through the gateway under a read role scoped to
 * `public.*` that denies `public.payment_tokens`, against the real server.
 *
 * pg_dump lifts statement_timeout and idle_in_transaction_session_timeout
 * (`SET … = 0`) on connect; the gateway answers those itself and the role's
 * limits stay (kept-limits.ts). Every statement goes to the real policy;
 * `refused` lists what it refused.
 */

const refused: string[] = [];
const policy: CheckSql = async (sql, scope, opts) => {
  const d = await checkSql(sql, scope, opts);
  if (!d.allowed) refused.push(`${d.reason} :: ${sql.slice(0, 120)}`);
  return d;
};

let g: ScopedGateway;

beforeAll(async () => {
  g = await startScopedGateway({ checkSql: policy });
});

afterAll(async () => {
  await g?.close();
});

// The upstream login here is a superuser, so pg_dump would read pg_subscription (connection strings): refused, as it should be.
const pgDump = (...args: string[]) => run('pg_dump', ['--no-subscriptions', ...args], g.libpqEnv);

describe('pg_dump under a table-scoped read role', () => {
  it('dumps an allowed table’s schema', async () => {
    refused.length = 0;
    const r = await pgDump('-t', 'orders', '--schema-only');
    expect(r.stderr).toBe('');
    expect(refused).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('CREATE TABLE public.orders (');
    expect(r.stdout).toContain('ADD CONSTRAINT orders_pkey PRIMARY KEY (id);');
    expect(r.stdout).toContain('CREATE INDEX orders_status_idx ON public.orders USING btree (status);');
    for (const s of Object.values(DENIED)) expect(r.stdout).not.toContain(s);
  });

  it('dumps allowed tables with their rows', async () => {
    refused.length = 0;
    const r = await pgDump('-t', 'orders', '-t', 'customers');
    expect(r.stderr).toBe('');
    expect(refused).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('COPY public.orders (id, customer_id, status, total) FROM stdin;\n1\t1\tpaid\t120.50\n');
    expect(r.stdout).toContain('COPY public.customers (id, name, email) FROM stdin;\n1\tAda\tada@example.com\n');
    for (const s of Object.values(DENIED)) expect(r.stdout).not.toContain(s);
  });

  it('refuses the denied table, and a whole-database dump that would include it', async () => {
    for (const args of [['-t', DENIED.table], ['-t', DENIED.table, '--schema-only'], []]) {
      const r = await pgDump(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toContain(`does not allow table public.${DENIED.table}`);
      expect(r.stdout + r.stderr).not.toContain(DENIED.value);
    }
  });
});
