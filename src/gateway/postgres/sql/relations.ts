import type { SqlScope } from '../backend.js';
import { CATALOG_SCHEMAS, KNOWN_CATALOG_RELATIONS, isSensitiveCatalog } from './catalogs.js';
import type { RelationRef } from './facts.js';

/**
 * Table patterns and name resolution.
 *
 * Patterns are `schema.table` with `*` matching any run of characters, split
 * at the first dot; a pattern without a dot names a table in any schema.
 * Matching is case-sensitive on the names PostgreSQL itself uses (unquoted
 * identifiers are already lowercased by the parser).
 *
 * An unqualified name is checked under every schema it could resolve to,
 * because which one holds it is only known to the server: a role allowed
 * `public.*` but not `secret.*` must not read `orders` when `secret` comes
 * first in the search_path and happens to hold an `orders`.
 */

interface CompiledPattern {
  readonly schema: RegExp;
  readonly table: RegExp;
}

export interface CompiledTables {
  readonly allow: readonly CompiledPattern[] | undefined;
  readonly deny: readonly CompiledPattern[];
  /** An admin role can read any catalog through a DO block anyway; refusing the direct query only gets in the way. */
  readonly sensitiveCatalogs: boolean;
}

const escapeRe = (s: string): string => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map(escapeRe).join('.*')}$`, 's');
}

function compilePattern(pattern: string): CompiledPattern {
  const dot = pattern.indexOf('.');
  if (dot < 0) return { schema: /^/, table: globToRegExp(pattern) };
  return { schema: globToRegExp(pattern.slice(0, dot)), table: globToRegExp(pattern.slice(dot + 1)) };
}

const compiledCache = new WeakMap<SqlScope, CompiledTables>();

export function compileTables(scope: SqlScope): CompiledTables {
  let c = compiledCache.get(scope);
  if (c === undefined) {
    c = {
      allow: scope.tables?.map(compilePattern),
      deny: (scope.denyTables ?? []).map(compilePattern),
      sensitiveCatalogs: scope.allow.includes('admin'),
    };
    compiledCache.set(scope, c);
  }
  return c;
}

export function hasTableRestrictions(scope: SqlScope): boolean {
  return scope.tables !== undefined || (scope.denyTables !== undefined && scope.denyTables.length > 0);
}

const matches = (patterns: readonly CompiledPattern[], schema: string, name: string): boolean =>
  patterns.some((p) => p.schema.test(schema) && p.table.test(name));

/** Is `schema.name` within the scope? */
export function isQualifiedAllowed(tables: CompiledTables, schema: string, name: string): boolean {
  if (matches(tables.deny, schema, name)) return false;
  const listed = tables.allow === undefined ? undefined : matches(tables.allow, schema, name);
  if (listed === true) return true;
  if (!tables.sensitiveCatalogs && isSensitiveCatalog(schema, name)) return false;
  if (CATALOG_SCHEMAS.has(schema)) return true;
  return listed ?? true;
}

/**
 * The schemas an unqualified name could resolve to, in search order. Best fed
 * from `current_schemas(true)`, which lists only schemas that exist, with
 * `$user` resolved and the implicit pg_catalog in its real place; from a raw
 * `search_path`, `$user` is replaced by `user` when given and otherwise only
 * matches a `*` schema pattern.
 *
 * pg_catalog comes first unless the path places it; every catalog relation is
 * named pg_*, and a name known to be a catalog stops the search there.
 * Temporary schemas are skipped: they hold only this session's own temporary
 * tables, created through the gateway by a role allowed to create them.
 */
export function candidateSchemas(name: string, searchPath: readonly string[], user: string | undefined): string[] {
  const order = searchPath.includes('pg_catalog') ? searchPath : ['pg_catalog', ...searchPath];
  const out: string[] = [];
  for (const entry of order) {
    // `SHOW search_path` spells it `"$user"`.
    const schema = entry === '$user' || entry === '"$user"' ? (user ?? '$user') : entry;
    if (schema === 'pg_temp' || schema.startsWith('pg_temp_')) continue;
    if (schema === 'pg_catalog') {
      if (!name.startsWith('pg_')) continue;
      out.push(schema);
      if (KNOWN_CATALOG_RELATIONS.has(name)) break;
      continue;
    }
    if (!out.includes(schema)) out.push(schema);
  }
  return out;
}

/**
 * A search_path that names no schema but pg_catalog and temporary ones, as
 * read after `set_config('search_path', '', …)`. The session may return to
 * the path it had before without the gateway seeing it (a ROLLBACK undoes
 * the call), so such a path stands for "any schema": unqualified relations
 * other than catalogs are refused to non-admin roles, and user code anywhere
 * counts as reachable (catalog-facts.ts `onPath`). Tools that clear the path
 * qualify every name.
 */
export function isCatalogOnlyPath(searchPath: readonly string[]): boolean {
  return searchPath.every((s) => s === 'pg_catalog' || isTempSchema(s));
}

/** pg_catalog is searched before every other schema (temporary ones aside): listed first, or not listed. */
export function catalogSearchedFirst(searchPath: readonly string[]): boolean {
  const first = searchPath.find((s) => !isTempSchema(s));
  return first === undefined || first === 'pg_catalog' || !searchPath.includes('pg_catalog');
}

const isTempSchema = (s: string): boolean => s === 'pg_temp' || s.startsWith('pg_temp_');

/** The first way `ref` escapes the scope, as `schema.table` for the message, or undefined if it does not. */
export function refusedRelation(
  tables: CompiledTables,
  ref: RelationRef,
  searchPath: readonly string[],
  user: string | undefined,
): string | undefined {
  if (ref.schema !== undefined) {
    return isQualifiedAllowed(tables, ref.schema, ref.name) ? undefined : displayName(ref.schema, ref.name);
  }
  // The path may be one a ROLLBACK brought back and the gateway has not read (set-config.ts); pg_catalog is first in it.
  if (isCatalogOnlyPath(searchPath) && !tables.sensitiveCatalogs && !KNOWN_CATALOG_RELATIONS.has(ref.name)) return displayName(undefined, ref.name);
  const schemas = candidateSchemas(ref.name, searchPath, user);
  // With nothing to search PostgreSQL finds no table; with patterns to honour, refusing is the only answer we can justify.
  if (schemas.length === 0) return tables.allow === undefined && tables.deny.length === 0 ? undefined : displayName(undefined, ref.name);
  for (const schema of schemas) {
    if (!isQualifiedAllowed(tables, schema, ref.name)) return displayName(schema, ref.name);
  }
  return undefined;
}

const PLAIN_IDENT = /^[a-z_][a-z0-9_$]*$/;

export function quoteIdent(s: string): string {
  return PLAIN_IDENT.test(s) ? s : `"${s.replace(/"/g, '""')}"`;
}

export function displayName(schema: string | undefined, name: string): string {
  return schema === undefined ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}
