import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import type { SqlScope, StatementClass } from '../backend.js';
import { type CatalogFacts, catalogRaw } from './catalog-facts.js';
import { type CheckThread, checkWorkerScript, createCheckThread } from './check-thread.js';
import { Facts, type Need, SEARCH_PATH_CHANGE, type TypedOperatorUse, type ValueSources } from './facts.js';
import { comparisonRefusal } from './comparison-refusal.js';
import { classifyFunction } from './functions-allowed.js';
import { literalShape } from './literal-shape.js';
import { Lru, stringBytes } from './lru.js';
import { type AstNode, isSqlParserReady, loadSqlParser as loadParser, parseStatements } from './parse.js';
import { type CompiledTables, candidateSchemas, compileTables, displayName, hasTableRestrictions, refusedRelation } from './relations.js';
import { classifyStatement } from './statement-class.js';
import { NestingTooDeep, QueryWalker, describeTyped } from './walk.js';

export { CatalogFacts, catalogFromText } from './catalog-facts.js';

export type SqlDecision =
  | {
      readonly allowed: true;
      /** Command tags of the statements, in order (`SELECT`, `BEGIN`, …); empty for an empty query. */
      readonly tags: readonly string[];
      /** Statement classes the text used, for the audit record. */
      readonly classes?: readonly StatementClass[];
    }
  | {
      readonly allowed: false;
      readonly reason: string;
      /** SQLSTATE the client is told; insufficient_privilege (42501) when absent. */
      readonly sqlstate?: string;
    };

export interface SqlCheckOptions {
  /** The upstream's effective search_path, used to resolve unqualified names. */
  readonly searchPath: readonly string[];
  /** The upstream user name, which `$user` in the search_path stands for. */
  readonly user?: string;
  /**
   * What the upstream's catalog says about user code the text does not name
   * (catalog-facts.ts). The gateway reads it per session; `CatalogFacts.NONE`
   * is for callers without an upstream.
   */
  readonly catalog: CatalogFacts;
}

/** A role that may only read: the proxy can additionally force its transactions READ ONLY. */
export function isReadOnlyScope(scope: SqlScope): boolean {
  return scope.allow.length > 0 && scope.allow.every((c) => c === 'read');
}

const CACHE_ENTRIES = 10_000;
/** Longer texts are rare (bulk INSERTs) and would let the cache hold gigabytes. */
const CACHE_MAX_SQL_LENGTH = 16_384;
/**
 * The process-wide caches are bounded by bytes as well as entries: 10,000
 * entries of 16 KiB texts (keys hold the text) would be 320 MB, shared by
 * every session, that one session could fill with distinct texts.
 */
const CACHE_BYTES = 32 * 1024 * 1024;
const SHAPE_CACHE_BYTES = 8 * 1024 * 1024;
const entryBytes = (key: string, decision: SqlDecision) => stringBytes(key) + decisionBytes(decision);
const cache = new Lru<string, SqlDecision>(CACHE_ENTRIES, { maxBytes: CACHE_BYTES, sizeOf: entryBytes });
/** Allowed decisions by literal shape (see literal-shape.ts): pgbench-style traffic varies only in numbers. */
const shapeCache = new Lru<string, SqlDecision>(CACHE_ENTRIES, { maxBytes: SHAPE_CACHE_BYTES, sizeOf: entryBytes });

/** Estimated bytes of a decision: a refusal's reason may quote the text it refused. */
export function decisionBytes(decision: SqlDecision): number {
  if (!decision.allowed) return stringBytes(decision.reason);
  let n = 64;
  for (const tag of decision.tags) n += stringBytes(tag);
  return n + 16 * (decision.classes?.length ?? 0);
}

/** Estimated bytes the process-wide decision caches hold; for tests and metrics. */
export function sqlDecisionCacheBytes(): number {
  return cache.heldBytes + shapeCache.heldBytes;
}

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

/**
 * Texts at least this long are checked on the classifier thread
 * (check-thread.ts). Measured on this machine: parse and walk take about
 * 10 ms at 16 KiB of wide `select`, 40 ms at 64 KiB, 1 s at 1 MB.
 */
export const OFF_THREAD_MIN_LENGTH = 16 * 1024;
/**
 * Synchronous classification time one burst of statements may take before
 * the event loop lets I/O through: a pipeline of many mid-size statements
 * (each under the thread's threshold) must not add up to a stall either.
 */
const SYNC_BUDGET_MS = 10;
const THREAD = { timeoutMs: 10_000, maxHeapMb: 512 } as const;

let thread: CheckThread | null | undefined;
let threadAllowed = true;

/**
 * Turns the classifier thread off (every text checked here) or back on; for
 * tests of this thread's own parser instances, and callers that must not
 * start a thread.
 */
export function setOffThreadChecks(on: boolean): void {
  threadAllowed = on;
}

/** The classifier thread, on the main thread only and when its compiled script exists. */
function checkThread(): CheckThread | null {
  if (thread === undefined) {
    const script = isMainThread ? checkWorkerScript() : null;
    thread = script === null ? null : createCheckThread(script, THREAD);
  }
  return thread;
}

/** Loads the parser (and starts the classifier thread); call at startup so the first statement pays nothing. */
export function loadSqlParser(): Promise<void> {
  if (threadAllowed) checkThread()?.warm();
  return loadParser();
}

let syncSpentMs = 0;
let budgetResetQueued = false;

function chargeSync(ms: number): void {
  syncSpentMs += ms;
  if (budgetResetQueued) return;
  budgetResetQueued = true;
  // setImmediate runs after pending I/O callbacks: the budget renews once other sessions had their turn.
  setImmediate(() => {
    syncSpentMs = 0;
    budgetResetQueued = false;
  });
}

const offThread = (sql: string) => threadAllowed && sql.length >= OFF_THREAD_MIN_LENGTH && checkThread() !== null;

/** Decides whether `sql` (one simple-query string or one Parse message) may run under `scope`. */
export async function checkSql(sql: string, scope: SqlScope, opts: SqlCheckOptions): Promise<SqlDecision> {
  if (offThread(sql)) {
    const catalog = opts.catalog;
    return (await checkThread()!.check(sql, scope, opts.searchPath, opts.user, catalog.fingerprint, () => catalogRaw(catalog))) as SqlDecision;
  }
  if (syncSpentMs >= SYNC_BUDGET_MS) await new Promise<void>((resolve) => setImmediate(resolve));
  for (let attempt = 0; ; attempt++) {
    if (!isSqlParserReady()) await loadParser();
    const started = performance.now();
    const decision = checkSqlSync(sql, scope, opts);
    chargeSync(performance.now() - started);
    if (!transientDecisions.has(decision) || attempt >= TRANSIENT_RETRIES) return decision;
  }
}

/**
 * The decision without a promise, for the hot path: null while the parser is
 * loading or being rebuilt, for a text long enough to go to the classifier
 * thread, and once this burst has used its synchronous budget (the caller
 * then awaits `checkSql`).
 */
export function checkSqlNow(sql: string, scope: SqlScope, opts: SqlCheckOptions): SqlDecision | null {
  if (!isSqlParserReady() || syncSpentMs >= SYNC_BUDGET_MS || offThread(sql)) return null;
  const started = performance.now();
  const decision = checkSqlSync(sql, scope, opts);
  chargeSync(performance.now() - started);
  return transientDecisions.has(decision) ? null : decision;
}

/** As `checkSql`, for the hot path once `loadSqlParser()` has resolved. */
export function checkSqlSync(sql: string, scope: SqlScope, opts: SqlCheckOptions): SqlDecision {
  if (sql.length > CACHE_MAX_SQL_LENGTH) return decide(sql, scope, opts).decision;
  // The fingerprint is base64url, so it cannot contain the separator either.
  const key = `${scopeKey(scope)}\u0000${pathKey(opts.searchPath)}\u0000${JSON.stringify(opts.user ?? null)}\u0000${opts.catalog.fingerprint}\u0000${sql}`;
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

/** A relation reached through a view, with the view that reads it, for the message. */
interface IndirectRead {
  readonly schema: string;
  readonly name: string;
  readonly via: string;
}

/**
 * What the views (and tables with row-security policies) a statement
 * queries run and read, transitively: their functions, operators and types
 * become needs as if written out, and what they read is returned, to be
 * held to the role's tables like a relation named in the text.
 */
function throughCode(facts: Facts, opts: SqlCheckOptions): IndirectRead[] {
  const { catalog } = opts;
  const reads: IndirectRead[] = [];
  const seen = new Set<string>();
  const visit = (schema: string, name: string): void => {
    const code = catalog.relationCode(schema, name);
    const key = `${schema}\u0000${name}`;
    if (code === undefined || seen.has(key)) return;
    seen.add(key);
    const by = `${code.kind} ${code.display}`;
    for (const [s, n, user] of code.calls) {
      if (user) {
        facts.opaqueNeed('admin', `function ${displayName(s, n)}() (run by ${by})`);
        continue;
      }
      const verdict = classifyFunction([n]);
      if (!verdict.known) facts.opaqueNeed(verdict.cls, `function ${verdict.display}() (run by ${by})`);
      else if (verdict.cls !== 'read') facts.need(verdict.cls, `function ${verdict.display}() (run by ${by})`);
    }
    for (const op of code.operators) facts.opaqueNeed('admin', `operator ${op} (run by ${by})`);
    for (const t of code.types) facts.opaqueNeed('admin', `type ${t.display} (${t.why}; used by ${by})`);
    for (const [s, n] of code.reads) {
      reads.push({ schema: s, name: n, via: by });
      visit(s, n);
    }
  };
  for (const ref of facts.queried) {
    const schemas = ref.schema !== undefined ? [ref.schema] : candidateSchemas(ref.name, opts.searchPath, opts.user);
    for (const schema of schemas) visit(schema, ref.name);
  }
  return reads;
}

/** The first value in `v` that may be of a user-defined type, as described in the message. */
function sourceIn(v: ValueSources, facts: Facts): string | undefined {
  if (v.typed !== undefined) return v.typed;
  const wholeRow = v.bare.find((n) => facts.rangeNames.has(n));
  if (wholeRow !== undefined) return `the whole-row value ${wholeRow}`;
  if (facts.typedRelation !== undefined && facts.columnAliases) {
    return `columns renamed by an alias list (${facts.typedRelation} has a column of such a type)`;
  }
  return undefined;
}

/**
 * What at one side of a written-out operator lets `use` be chosen: '' when
 * that side needs nothing, undefined when nothing there can. An untyped
 * literal takes the type of the other side when that side may be of the
 * user type (PostgreSQL's exact-match rule), or whenever `unknownReaches`.
 */
function sideReaches(side: TypedOperatorUse['left'], own: string | undefined, v: ValueSources, other: string | undefined, use: TypedOperatorUse): string | undefined {
  if (side !== 'user') return '';
  if (own !== undefined) return own;
  if (v.untyped && (use.unknownReaches || other !== undefined)) return 'an untyped literal';
  return undefined;
}

/**
 * A user operator or cast that only runs on a user-defined type, with a
 * value that may be one where it would be applied: for a written-out
 * operator, in the operand at each user-typed side; for implicit uses and
 * casts, anywhere in the statement.
 */
function typedUseRefusal(facts: Facts, catalog: CatalogFacts): string | undefined {
  for (const t of facts.typedOperands) {
    const reaching: TypedOperatorUse[] = [];
    let source = '';
    const leftSource = sourceIn(t.left, facts);
    const rightSource = sourceIn(t.right, facts);
    for (const use of t.uses) {
      const l = sideReaches(use.left, leftSource, t.left, rightSource, use);
      const r = sideReaches(use.right, rightSource, t.right, leftSource, use);
      if (l === undefined || r === undefined) continue;
      reaching.push(use);
      // Name the value that carries the type rather than the literal that follows it.
      source ||= l === 'an untyped literal' ? r || l : l || r;
    }
    if (reaching.length > 0) return `operator ${t.op} here: ${describeTyped(reaching)}, and its operand has ${source}, which may be of that type`;
  }
  if (catalog.implicitCast !== undefined) {
    const source = sourceIn(facts.values, facts);
    if (source !== undefined) return `${catalog.implicitCast} here: PostgreSQL applies it without being asked, and this statement has ${source}, which may be of that type`;
  }
  const use = facts.typedUses[0];
  if (use === undefined) return undefined;
  let source = sourceIn(facts.values, facts);
  if (source === undefined && facts.untypedReaches && facts.values.untyped) source = 'an untyped literal';
  if (source === undefined) return undefined;
  return `${use}, and this statement has ${source}, which may be of that type`;
}

function refusedIndirect(tables: CompiledTables, reads: readonly IndirectRead[]): string | undefined {
  for (const r of reads) {
    const refused = refusedRelation(tables, { schema: r.schema, name: r.name }, [], undefined);
    if (refused !== undefined) return `table ${refused} (read by ${r.via})`;
  }
  return undefined;
}

function judge(statements: readonly AstNode[], scope: SqlScope, opts: SqlCheckOptions): SqlDecision {
  const facts = new Facts();
  const walker = new QueryWalker(facts, { catalog: opts.catalog, searchPath: opts.searchPath, user: opts.user });
  try {
    for (const stmt of statements) facts.tags.push(classifyStatement(stmt, facts, walker));
  } catch (err) {
    if (err instanceof NestingTooDeep) return { allowed: false, reason: `airlock: ${err.message}` };
    // The JavaScript stack ran out first (it is shared with the caller): still a refusal, never a crash.
    if (err instanceof RangeError) return { allowed: false, reason: 'airlock: the statement is nested too deeply to check' };
    throw err;
  }
  const indirect = throughCode(facts, opts);
  const typed = typedUseRefusal(facts, opts.catalog);
  if (typed !== undefined) facts.opaqueNeed('admin', typed);
  const compared = comparisonRefusal(facts, opts.catalog);
  if (compared !== undefined) facts.opaqueNeed('admin', compared);
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
  const refusedThrough = refusedIndirect(tables, indirect);
  if (refusedThrough !== undefined) return refuse(scope, refusedThrough);
  const classes = [...new Set(facts.needs.map((n) => n.cls))];
  return { allowed: true, tags: facts.tags, classes };
}
