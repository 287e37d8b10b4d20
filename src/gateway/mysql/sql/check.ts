import { functionClass } from './functions.js';
import { lexMysql } from './lexer.js';
import type { Needs } from './needs.js';
import { isMysqlParserReady, loadMysqlParser, parseMysql } from './parse.js';
import { compileTables, displayName, hasTableRestrictions, isTableAllowed } from './relations.js';
import type { SqlScope, StatementClass } from './scope.js';
import { judgeStatement } from './statement-class.js';

export { loadMysqlParser } from './parse.js';

/**
 * The MySQL policy: one statement's text in, allowed or refused out. Reads
 * the text as the server does (lexer.ts), parses it with sqlparser-rs's
 * MySQL dialect, and holds every relation, function and statement kind to
 * the role. Whatever cannot be parsed or placed is refused (fail closed).
 */

export type MysqlDecision =
  | {
      readonly allowed: true;
      readonly tag: string;
      readonly classes: readonly StatementClass[];
      /** A `SET NAMES` the session follows once the upstream accepts it. */
      readonly charset?: string;
    }
  | {
      readonly allowed: false;
      readonly reason: string;
      /** Which MySQL error the client gets: a denied command (1142) or a denied database (1044). */
      readonly denied: 'command' | 'database';
    };

export interface MysqlCheckOptions {
  /** The database the session is pinned to (the resource's upstream database). */
  readonly database: string;
}

const CACHE_ENTRIES = 10_000;
const CACHE_MAX_SQL_LENGTH = 16_384;
const cache = new Map<string, MysqlDecision>();
const scopeKeys = new WeakMap<SqlScope, string>();

function scopeKey(scope: SqlScope): string {
  let key = scopeKeys.get(scope);
  if (key === undefined) {
    key = JSON.stringify([scope.resource, scope.role, scope.allow, scope.tables ?? null, scope.denyTables ?? []]);
    scopeKeys.set(scope, key);
  }
  return key;
}

export function refusal(scope: SqlScope, what: string, denied: 'command' | 'database' = 'command'): MysqlDecision {
  return { allowed: false, reason: `airlock: role "${scope.role}" on ${scope.resource} does not allow ${what}`, denied };
}

/** Decides whether `sql` (one COM_QUERY or COM_STMT_PREPARE text) may run under `scope`. */
export async function checkMysql(sql: string, scope: SqlScope, opts: MysqlCheckOptions): Promise<MysqlDecision> {
  if (!isMysqlParserReady()) await loadMysqlParser();
  return checkMysqlNow(sql, scope, opts);
}

/** As `checkMysql`, once `loadMysqlParser()` has resolved. */
export function checkMysqlNow(sql: string, scope: SqlScope, opts: MysqlCheckOptions): MysqlDecision {
  if (sql.length > CACHE_MAX_SQL_LENGTH) return decide(sql, scope, opts);
  const key = `${scopeKey(scope)}\u0000${JSON.stringify(opts.database)}\u0000${sql}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const decision = decide(sql, scope, opts);
  if (cache.size >= CACHE_ENTRIES) cache.clear();
  cache.set(key, decision);
  return decision;
}

function decide(sql: string, scope: SqlScope, opts: MysqlCheckOptions): MysqlDecision {
  const lexed = lexMysql(sql);
  if (!lexed.ok) return refusal(scope, lexed.reason);
  if (lexed.statements === 0) return { allowed: true, tag: 'EMPTY', classes: [] };
  if (lexed.statements > 1) return refusal(scope, 'more than one statement in one query');
  let statements: unknown[];
  try {
    statements = parseMysql(lexed.normalized);
  } catch (err) {
    const message = err instanceof Error ? err.message.replace(/^sql parser error: /, '') : 'unknown error';
    return { allowed: false, reason: `airlock: could not parse the statement (${message}), so it was not run`, denied: 'command' };
  }
  if (statements.length !== 1) return refusal(scope, 'more than one statement in one query');
  return judge(judgeStatement(statements[0]), scope, opts);
}

function judge(needs: Needs, scope: SqlScope, opts: MysqlCheckOptions): MysqlDecision {
  if (needs.refused !== undefined) return refusal(scope, needs.refused);
  if (needs.usesDatabase !== undefined && needs.usesDatabase !== opts.database) {
    return refusal(scope, `USE of database ${displayName(needs.usesDatabase, '').slice(0, -1)} (this session is pinned to ${opts.database})`, 'database');
  }
  const facts = needs.walker.facts;
  for (const name of facts.functions) {
    const cls = name.includes('.') ? undefined : functionClass(name);
    if (cls === undefined) needs.needOpaque(`function ${name}() (stored or unknown functions run code airlock cannot see)`);
    else if (cls !== 'read') needs.need(cls, `function ${name.toUpperCase()}()`);
  }
  for (const [cls, what] of needs.classes) {
    if (!scope.allow.includes(cls)) return refusal(scope, what);
  }
  if (needs.opaque !== undefined && hasTableRestrictions(scope)) return refusal(scope, `${needs.opaque} with table restrictions`);
  const tables = compileTables(scope);
  for (const ref of facts.relations) {
    const database = ref.database ?? opts.database;
    if (!isTableAllowed(tables, database, ref.name)) return refusal(scope, `table ${displayName(database, ref.name)}`);
  }
  return { allowed: true, tag: needs.tag, classes: [...needs.classes.keys()], charset: needs.charset };
}

/** For tests and configuration reloads. */
export function clearMysqlDecisionCache(): void {
  cache.clear();
}
