import type pg from 'pg';
import { expect } from 'vitest';
import { catalogFromParts } from '../../../../src/gateway/postgres/sql/catalog-facts.js';
import { CATALOG_SELECTS, CATALOG_SETTINGS } from '../../../../src/gateway/postgres/sql/catalog-query.js';
import type { SqlScope } from '../../../../src/gateway/postgres/backend.js';
import { CatalogFacts, type SqlCheckOptions, type SqlDecision, checkSql } from '../../../../src/gateway/postgres/sql/check.js';

export const READ: SqlScope = { resource: 'orders-db', role: 'read', allow: ['read'] };
export const WRITE: SqlScope = { resource: 'orders-db', role: 'write', allow: ['read', 'write'] };
export const DDL: SqlScope = { resource: 'orders-db', role: 'migrate', allow: ['read', 'write', 'ddl'] };
export const ADMIN: SqlScope = { resource: 'orders-db', role: 'dba', allow: ['read', 'write', 'ddl', 'admin'] };

const short = (sql: string): string => (sql.length > 200 ? `${sql.slice(0, 200)}… (${sql.length} chars)` : sql);

/** Options as the tests write them: without catalog facts unless a test is about them. */
export type CheckOptions = Omit<SqlCheckOptions, 'catalog'> & { readonly catalog?: CatalogFacts };

export const PUBLIC_PATH: SqlCheckOptions = { searchPath: ['public'], catalog: CatalogFacts.NONE };

export function check(sql: string, scope: SqlScope = READ, opts: CheckOptions = PUBLIC_PATH): Promise<SqlDecision> {
  return checkSql(sql, scope, { ...opts, catalog: opts.catalog ?? CatalogFacts.NONE });
}

export async function expectAllowed(sql: string, scope: SqlScope = READ, opts: CheckOptions = PUBLIC_PATH): Promise<readonly string[]> {
  const d = await check(sql, scope, opts);
  if (!d.allowed) expect.fail(`expected allowed, got refused: ${d.reason}\n  sql: ${short(sql)}`);
  return d.tags;
}

export async function expectRefused(
  sql: string,
  scope: SqlScope = READ,
  opts: CheckOptions = PUBLIC_PATH,
): Promise<string> {
  const d = await check(sql, scope, opts);
  if (d.allowed) expect.fail(`expected refused, got allowed (${d.tags.join(', ')})\n  sql: ${short(sql)}`);
  return d.reason;
}

/** `airlock: role "read" on orders-db does not allow <what>` */
export function notAllowed(what: string, scope: SqlScope = READ): string {
  return `airlock: role "${scope.role}" on ${scope.resource} does not allow ${what}`;
}

/** Reads a database's catalog facts over `client` the way the gateway does (same query, same search_path). */
export async function loadCatalog(client: pg.Client): Promise<CatalogFacts> {
  await client.query('BEGIN READ ONLY');
  try {
    await client.query(CATALOG_SETTINGS);
    const parts: string[] = [];
    for (const text of CATALOG_SELECTS) parts.push((await client.query<[string]>({ text, rowMode: 'array' })).rows[0]![0]);
    return catalogFromParts(parts);
  } finally {
    await client.query('COMMIT');
  }
}
