import { describe, expect, it } from 'vitest';
import type { SqlScope } from '../../../../src/gateway/postgres/backend.js';
import { ANALYTICS_QUERIES, PG17_QUERIES, PSQL_DESCRIBE_QUERIES } from './analytics-queries.js';
import { READ, expectAllowed } from './helpers.js';

const READ_LISTED: SqlScope = { ...READ, role: 'read-listed', tables: ['public.orders', 'public.order_items', 'public.customers'] };

describe('a read role can do ordinary analytics', () => {
  it.each([...ANALYTICS_QUERIES, ...PG17_QUERIES])('allows %s', async (sql) => {
    await expectAllowed(sql);
  });

  it.each(ANALYTICS_QUERIES)('allows, with a table list naming the tables it reads: %s', async (sql) => {
    await expectAllowed(sql, READ_LISTED);
  });

  it('allows every catalog query psql runs for its \\d commands, even with a table list', async () => {
    expect(PSQL_DESCRIBE_QUERIES.length).toBeGreaterThan(20);
    for (const sql of PSQL_DESCRIBE_QUERIES) await expectAllowed(sql, READ_LISTED);
  });

  it('reports the command tags of every statement in a multi-statement string', async () => {
    expect(await expectAllowed('BEGIN READ ONLY; SELECT 1; SHOW search_path; COMMIT')).toEqual(['BEGIN', 'SELECT', 'SHOW', 'COMMIT']);
  });
});
