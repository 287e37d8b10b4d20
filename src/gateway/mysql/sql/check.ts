import { forParser, unreadForm } from './compat.js';
import { functionClass } from './functions.js';
import { lexMysql } from './lexer.js';
import { Needs } from './needs.js';
import { isMysqlParserReady, loadMysqlParser, parseMysql } from './parse.js';
import { compileTables, displayName, hasTableRestrictions, isTableAllowed } from './relations.js';
import type { SqlScope, StatementClass } from './scope.js';
import { judgeStatement } from './statement-class.js';
import { statementShape } from './shape.js';
import { NO_VIEWS, type ViewCatalog } from './views.js';
import type { RelationRef } from './walk.js';

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
  /** What the upstream's views read (views.ts); none when absent. */
  readonly views?: ViewCatalog;
  /** false: judge the text alone, never by its shape (tests compare the two). */
  readonly byShape?: boolean;
}

const CACHE_ENTRIES = 10_000;
const CACHE_MAX_SQL_LENGTH = 16_384;
const cache = new Map<string, MysqlDecision>();
/** Kept apart from the texts' cache: ten thousand texts of one shape must not push the shape out. */
const shapes = new Map<string, MysqlDecision>();
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
  const prefix = `${scopeKey(scope)}\u0000${JSON.stringify(opts.database)}\u0000${(opts.views ?? NO_VIEWS).fingerprint}\u0000`;
  if (opts.byShape === false) return cached(`${prefix}\u0002${sql}`, () => decide(sql, scope, opts));
  return cached(`${prefix}\u0000${sql}`, () => decide(sql, scope, opts, prefix));
}

function cached(key: string, make: () => MysqlDecision, into = cache): MysqlDecision {
  const hit = into.get(key);
  if (hit !== undefined) return hit;
  const decision = make();
  if (into.size >= CACHE_ENTRIES) into.clear();
  into.set(key, decision);
  return decision;
}

/** `shapePrefix`: the cache key of this scope, when the statement's shape (shape.ts) may stand for it. */
function decide(sql: string, scope: SqlScope, opts: MysqlCheckOptions, shapePrefix?: string): MysqlDecision {
  const lexed = lexMysql(sql);
  if (!lexed.ok) return refusal(scope, lexed.reason);
  if (lexed.statements === 0) return { allowed: true, tag: 'EMPTY', classes: [] };
  if (lexed.statements > 1) return refusal(scope, 'more than one statement in one query');
  const shape = shapePrefix === undefined ? null : statementShape(lexed.normalized);
  if (shape !== null) {
    // Only an allowing shape stands for the text (see shape.ts); otherwise the text is judged itself.
    const byShape = cached(`${shapePrefix}${shape}`, () => decide(shape, scope, opts), shapes);
    if (byShape.allowed) return byShape;
  }
  const parserText = forParser(lexed.normalized);
  if ('maintenance' in parserText) {
    // Locks, rebuilds or rewrites tables: admin, and never with table restrictions (its tables are not read).
    const needs = new Needs(parserText.maintenance);
    needs.needOpaque(parserText.maintenance);
    return judge(needs, scope, opts);
  }
  let statements: unknown[];
  try {
    statements = parseMysql(parserText.text);
  } catch (err) {
    const unread = unreadForm(lexed.normalized);
    if (unread !== undefined) return { allowed: false, reason: `airlock: ${unread}, so the statement was not run`, denied: 'command' };
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
  const reached = throughViews(facts.relations, opts);
  for (const name of facts.functions) judgeFunction(needs, name, '');
  for (const [name, via] of reached.functions) judgeFunction(needs, name, ` (run by view ${via})`);
  for (const [cls, what] of needs.classes) {
    if (!scope.allow.includes(cls)) return refusal(scope, what);
  }
  if (needs.opaque !== undefined && hasTableRestrictions(scope)) return refusal(scope, `${needs.opaque} with table restrictions`);
  if (reached.unreadable !== undefined && hasTableRestrictions(scope)) {
    return refusal(scope, `view ${reached.unreadable}, whose definition airlock cannot read, with table restrictions`);
  }
  const tables = compileTables(scope);
  for (const ref of facts.relations) {
    const database = ref.database ?? opts.database;
    if (!isTableAllowed(tables, database, ref.name)) return refusal(scope, `table ${displayName(database, ref.name)}`);
  }
  for (const { ref, via } of reached.relations) {
    if (!isTableAllowed(tables, ref.database!, ref.name)) return refusal(scope, `table ${displayName(ref.database!, ref.name)} (read by view ${via})`);
  }
  return { allowed: true, tag: needs.tag, classes: [...needs.classes.keys()], charset: needs.charset };
}

function judgeFunction(needs: Needs, name: string, suffix: string): void {
  const cls = name.includes('.') ? undefined : functionClass(name);
  if (cls === undefined) needs.needOpaque(`function ${name}()${suffix} (stored or unknown functions run code airlock cannot see)`);
  else if (cls !== 'read') needs.need(cls, `function ${name.toUpperCase()}()${suffix}`);
}

interface Reached {
  readonly relations: { readonly ref: RelationRef; readonly via: string }[];
  readonly functions: [string, string][];
  unreadable: string | undefined;
}

/** Everything the views among `relations` read and call, transitively (each view once). */
function throughViews(relations: readonly RelationRef[], opts: MysqlCheckOptions): Reached {
  const views = opts.views ?? NO_VIEWS;
  const reached: Reached = { relations: [], functions: [], unreadable: undefined };
  if (views === NO_VIEWS) return reached;
  const seen = new Set<string>();
  const visit = (ref: RelationRef, via: string | undefined) => {
    const database = ref.database ?? opts.database;
    const facts = views.get(database, ref.name);
    const name = displayName(database, ref.name);
    if (facts === undefined || seen.has(name)) return;
    seen.add(name);
    if (!facts.readable) {
      reached.unreadable ??= name;
      return;
    }
    const by = via ?? name;
    for (const f of facts.functions) reached.functions.push([f, by]);
    for (const r of facts.relations) {
      reached.relations.push({ ref: r, via: by });
      visit(r, by);
    }
  };
  for (const ref of relations) visit(ref, undefined);
  return reached;
}

/** For tests and configuration reloads. */
export function clearMysqlDecisionCache(): void {
  cache.clear();
  shapes.clear();
}
