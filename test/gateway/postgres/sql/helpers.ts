import { expect } from 'vitest';
import type { SqlScope } from '../../../../src/gateway/postgres/backend.js';
import { type SqlCheckOptions, type SqlDecision, checkSql } from '../../../../src/gateway/postgres/sql/check.js';

export const READ: SqlScope = { resource: 'orders-db', role: 'read', allow: ['read'] };
export const WRITE: SqlScope = { resource: 'orders-db', role: 'write', allow: ['read', 'write'] };
export const DDL: SqlScope = { resource: 'orders-db', role: 'migrate', allow: ['read', 'write', 'ddl'] };
export const ADMIN: SqlScope = { resource: 'orders-db', role: 'dba', allow: ['read', 'write', 'ddl', 'admin'] };

const short = (sql: string): string => (sql.length > 200 ? `${sql.slice(0, 200)}… (${sql.length} chars)` : sql);

export const PUBLIC_PATH: SqlCheckOptions = { searchPath: ['public'] };

export function check(sql: string, scope: SqlScope = READ, opts: SqlCheckOptions = PUBLIC_PATH): Promise<SqlDecision> {
  return checkSql(sql, scope, opts);
}

export async function expectAllowed(sql: string, scope: SqlScope = READ, opts: SqlCheckOptions = PUBLIC_PATH): Promise<readonly string[]> {
  const d = await check(sql, scope, opts);
  if (!d.allowed) expect.fail(`expected allowed, got refused: ${d.reason}\n  sql: ${short(sql)}`);
  return d.tags;
}

export async function expectRefused(
  sql: string,
  scope: SqlScope = READ,
  opts: SqlCheckOptions = PUBLIC_PATH,
): Promise<string> {
  const d = await check(sql, scope, opts);
  if (d.allowed) expect.fail(`expected refused, got allowed (${d.tags.join(', ')})\n  sql: ${short(sql)}`);
  return d.reason;
}

/** `airlock: role "read" on orders-db does not allow <what>` */
export function notAllowed(what: string, scope: SqlScope = READ): string {
  return `airlock: role "${scope.role}" on ${scope.resource} does not allow ${what}`;
}
