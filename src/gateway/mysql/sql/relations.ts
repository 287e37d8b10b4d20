import type { SqlScope } from './scope.js';

/**
 * Table patterns for MySQL: `database.table` with `*` wildcards, split at
 * the first dot; a pattern without a dot names a table in any database. An
 * unqualified name is the session's database, which the gateway pins (USE
 * and COM_INIT_DB to another database are refused).
 *
 * Deny patterns match case-insensitively, allow patterns case-sensitively:
 * whether `ORDERS` and `orders` are one table depends on the server's
 * lower_case_table_names, so the gateway reads each name the stricter way.
 */

interface CompiledPattern {
  readonly database: RegExp;
  readonly table: RegExp;
}

export interface CompiledTables {
  readonly allow: readonly CompiledPattern[] | undefined;
  readonly deny: readonly CompiledPattern[];
  /** An admin role may read the server's own schemas (mysql, performance_schema, sys). */
  readonly systemSchemas: boolean;
}

/** Schemas holding account hashes, other sessions' statements and server state. */
export const SYSTEM_SCHEMAS: ReadonlySet<string> = new Set(['mysql', 'performance_schema', 'sys']);
export const INFORMATION_SCHEMA = 'information_schema';

const escapeRe = (s: string): string => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
const globToRegExp = (glob: string, flags: string): RegExp => new RegExp(`^${glob.split('*').map(escapeRe).join('.*')}$`, flags);

function compilePattern(pattern: string, flags: string): CompiledPattern {
  const dot = pattern.indexOf('.');
  if (dot < 0) return { database: /^/, table: globToRegExp(pattern, flags) };
  return { database: globToRegExp(pattern.slice(0, dot), flags), table: globToRegExp(pattern.slice(dot + 1), flags) };
}

const compiledCache = new WeakMap<SqlScope, CompiledTables>();

export function compileTables(scope: SqlScope): CompiledTables {
  let c = compiledCache.get(scope);
  if (c === undefined) {
    c = {
      allow: scope.tables?.map((p) => compilePattern(p, 's')),
      deny: (scope.denyTables ?? []).map((p) => compilePattern(p, 'is')),
      systemSchemas: scope.allow.includes('admin'),
    };
    compiledCache.set(scope, c);
  }
  return c;
}

export function hasTableRestrictions(scope: SqlScope): boolean {
  return scope.tables !== undefined || (scope.denyTables !== undefined && scope.denyTables.length > 0);
}

const matches = (patterns: readonly CompiledPattern[], database: string, table: string): boolean =>
  patterns.some((p) => p.database.test(database) && p.table.test(table));

/** Is `database.table` within the scope? */
export function isTableAllowed(tables: CompiledTables, database: string, table: string): boolean {
  if (matches(tables.deny, database, table)) return false;
  if (tables.allow !== undefined && matches(tables.allow, database, table)) return true;
  const db = database.toLowerCase();
  if (SYSTEM_SCHEMAS.has(db)) return tables.systemSchemas;
  // Metadata drivers need (JDBC DatabaseMetaData); the server shows only what the login may see. PROCESSLIST holds other sessions' statements.
  if (db === INFORMATION_SCHEMA) return table.toLowerCase() !== 'processlist' || tables.systemSchemas;
  return tables.allow === undefined;
}

const PLAIN_IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/;

export function quoteIdent(s: string): string {
  return PLAIN_IDENT.test(s) ? s : `\`${s.replace(/`/g, '``')}\``;
}

export function displayName(database: string, table: string): string {
  return `${quoteIdent(database)}.${quoteIdent(table)}`;
}
