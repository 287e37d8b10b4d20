import type { SqlScope, StatementClass } from '../backend.js';
import { Facts, type Need, SEARCH_PATH_CHANGE } from './facts.js';
import { literalShape } from './literal-shape.js';
import { Lru } from './lru.js';
import { type AstNode, isSqlParserReady, loadSqlParser, parseStatements } from './parse.js';
import { compileTables, hasTableRestrictions, refusedRelation } from './relations.js';
import { classifyStatement } from './statement-class.js';
import { NestingTooDeep, QueryWalker } from './walk.js';

export { loadSqlParser } from './parse.js';

export type SqlDecision =
  | {
      readonly allowed: true;
      /** Command tags of the statements, in order (`SELECT`, `BEGIN`, …); empty for an empty query. */
      readonly tags: readonly string[];
      /** Statement classes the text used, for the audit record. */
      readonly classes?: readonly StatementClass[];
    }
  | { readonly allowed: false; readonly reason: string };

export interface SqlCheckOptions {
  /** The upstream's effective search_path, used to resolve unqualified names. */
  readonly searchPath: readonly string[];
  /** The upstream user name, which `$user` in the search_path stands for. */
  readonly user?: string;
}

/** A role that may only read: the proxy can additionally force its transactions READ ONLY. */
export function isReadOnlyScope(scope: SqlScope): boolean {
  return scope.allow.length > 0 && scope.allow.every((c) => c === 'read');
}

const CACHE_ENTRIES = 10_000;
/** Longer texts are rare (bulk INSERTs) and would let the cache hold gigabytes. */
const CACHE_MAX_SQL_LENGTH = 16_384;
const cache = new Lru<string, SqlDecision>(CACHE_ENTRIES);
/** Allowed decisions by literal shape (see literal-shape.ts): pgbench-style traffic varies only in numbers. */
const shapeCache = new Lru<string, SqlDecision>(CACHE_ENTRIES);

const scopeKeys = new WeakMap<SqlScope, string>();
const pathKeys = new WeakMap<readonly string[], string>();

/**
 * Equal scopes share cache entries even when each session builds its own
 * object. JSON escapes NUL, so the NUL-separated cache key cannot be forged
 * by a name that contains one.
 */
function scopeKey(scope: SqlScope): string {
  let key = scopeKeys.get(scope);
  if (key === undefined) {
    key = JSON.stringify([scope.resource, scope.role, scope.allow, scope.tables ?? null, scope.denyTables ?? []]);
    scopeKeys.set(scope, key);
  }
  return key;
}

/** Callers keep one search_path array until it changes, so this is a WeakMap hit per statement. */
function pathKey(searchPath: readonly string[]): string {
  let key = pathKeys.get(searchPath);
  if (key === undefined) {
    key = JSON.stringify(searchPath);
    pathKeys.set(searchPath, key);
  }
  return key;
}

/**
 * How many times `checkSql` waits for a rebuilt parser before giving up. One
 * session's statement that faults the parser must not refuse another
 * session's statement that happened to be checked while it was rebuilt.
 */
const TRANSIENT_RETRIES = 5;
/** Decisions made while no parser instance was available; never cached, and retried by `checkSql`. */
const transientDecisions = new WeakSet<SqlDecision>();

/** Decides whether `sql` (one simple-query string or one Parse message) may run under `scope`. */
export async function checkSql(sql: string, scope: SqlScope, opts: SqlCheckOptions): Promise<SqlDecision> {
  for (let attempt = 0; ; attempt++) {
    if (!isSqlParserReady()) await loadSqlParser();
    const decision = checkSqlSync(sql, scope, opts);
    if (!transientDecisions.has(decision) || attempt >= TRANSIENT_RETRIES) return decision;
  }
}

/**
 * The decision without a promise, for the hot path: null while the parser is
 * loading or being rebuilt (the caller then awaits `checkSql`, which retries).
 */
export function checkSqlNow(sql: string, scope: SqlScope, opts: SqlCheckOptions): SqlDecision | null {
  if (!isSqlParserReady()) return null;
  const decision = checkSqlSync(sql, scope, opts);
  return transientDecisions.has(decision) ? null : decision;
}

/** As `checkSql`, for the hot path once `loadSqlParser()` has resolved. */
export function checkSqlSync(sql: string, scope: SqlScope, opts: SqlCheckOptions): SqlDecision {
  if (sql.length > CACHE_MAX_SQL_LENGTH) return decide(sql, scope, opts).decision;
  const key = `${scopeKey(scope)}\u0000${pathKey(opts.searchPath)}\u0000${JSON.stringify(opts.user ?? null)}\u0000${sql}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const shape = literalShape(sql);
  const shapeKey = shape === null ? null : `${key.slice(0, key.length - sql.length)}${shape}`;
  const shapeHit = shapeKey === null ? undefined : shapeCache.get(shapeKey);
  if (shapeHit !== undefined) return shapeHit;
  const { decision, cacheable } = decide(sql, scope, opts);
  if (cacheable) {
    cache.set(key, decision);
    // Only allowed decisions: a refusal's message may quote the text it refused.
    if (shapeKey !== null && decision.allowed) shapeCache.set(shapeKey, decision);
  }
  return decision;
}

/** For tests and configuration reloads. */
export function clearSqlDecisionCache(): void {
  cache.clear();
  shapeCache.clear();
}

function refuse(scope: SqlScope, what: string): SqlDecision {
  return { allowed: false, reason: `airlock: role "${scope.role}" on ${scope.resource} does not allow ${what}` };
}

function describeNeed(need: Need): string {
  switch (need.kind) {
    case 'function':
      return `function ${need.what}()`;
    case 'search_path':
      return SEARCH_PATH_CHANGE;
    case 'statement':
      return need.what;
  }
}

function decide(sql: string, scope: SqlScope, opts: SqlCheckOptions): { decision: SqlDecision; cacheable: boolean } {
  const parsed = parseStatements(sql);
  if (!parsed.ok) {
    const decision: SqlDecision = { allowed: false, reason: `airlock: could not parse the statement: ${parsed.message}` };
    if (parsed.transient === true) transientDecisions.add(decision);
    return { decision, cacheable: parsed.transient !== true };
  }
  return { decision: judge(parsed.statements, scope, opts), cacheable: true };
}

function judge(statements: readonly AstNode[], scope: SqlScope, opts: SqlCheckOptions): SqlDecision {
  const facts = new Facts();
  const walker = new QueryWalker(facts);
  try {
    for (const stmt of statements) facts.tags.push(classifyStatement(stmt, facts, walker));
  } catch (err) {
    if (err instanceof NestingTooDeep) return { allowed: false, reason: `airlock: ${err.message}` };
    // The JavaScript stack ran out first (it is shared with the caller): still a refusal, never a crash.
    if (err instanceof RangeError) return { allowed: false, reason: 'airlock: the statement is nested too deeply to check' };
    throw err;
  }
  const allowed = new Set(scope.allow);
  for (const need of facts.needs) {
    if (!allowed.has(need.cls)) return refuse(scope, describeNeed(need));
  }
  const opaque = facts.opaque[0];
  if (opaque !== undefined && hasTableRestrictions(scope)) {
    if (opaque === SEARCH_PATH_CHANGE) return refuse(scope, opaque);
    return refuse(scope, `${opaque} here: the tables it reaches cannot be checked against the role's table list`);
  }
  // Checked even without patterns: the credential-holding catalogs are refused to every non-admin role.
  const tables = compileTables(scope);
  for (const ref of facts.relations) {
    const refused = refusedRelation(tables, ref, opts.searchPath, opts.user);
    if (refused !== undefined) return refuse(scope, `table ${refused}`);
  }
  const classes = [...new Set(facts.needs.map((n) => n.cls))];
  return { allowed: true, tags: facts.tags, classes };
}
