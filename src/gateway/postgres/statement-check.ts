import type { SqlScope } from './backend.js';
import type { CatalogFacts } from './sql/catalog-facts.js';
import type { SqlCheckOptions, SqlDecision } from './sql/check.js';

/** The classifier's signature; injected so the gateway can be tested apart from it. */
export type CheckSql = (sql: string, scope: SqlScope, opts: SqlCheckOptions) => Promise<SqlDecision>;
/** The same classifier without a promise; null when only the async path can answer (parser loading or rebuilt). */
export type CheckSqlNow = (sql: string, scope: SqlScope, opts: SqlCheckOptions) => SqlDecision | null;

const CACHE_LIMIT = 512;
/** A classifier that throws counts as a refusal (fail closed). */
const UNCHECKABLE: SqlDecision = { allowed: false, reason: 'airlock: the statement could not be checked, so it was not run' };

/** What the session learned from its upstream at startup (upstream.ts). */
export interface SessionUpstream {
  readonly searchPath: readonly string[];
  /** The database's user-code facts, read once per session; fixed for its lifetime. */
  readonly catalog: CatalogFacts;
}

/**
 * Per-session memo of classifier decisions. A decision depends only on the
 * text, the scope and the catalog facts (both fixed for a session) and the
 * search path, so drivers that re-Parse the same text on every call
 * (pgbench -M extended, most ORMs) pay for classification once.
 */
export class StatementCheck {
  private readonly decisions = new Map<string, SqlDecision>();
  private opts: SqlCheckOptions;

  constructor(
    private readonly checkSql: CheckSql,
    private readonly scope: SqlScope,
    upstream: SessionUpstream,
    private readonly checkSqlNow?: CheckSqlNow,
  ) {
    // One options object until the search_path changes: the classifier keys its caches on the array's identity.
    this.opts = { searchPath: upstream.searchPath, catalog: upstream.catalog };
  }

  setSearchPath(searchPath: readonly string[]): void {
    if (searchPath.join('\0') === this.opts.searchPath.join('\0')) return;
    this.opts = { searchPath, catalog: this.opts.catalog };
    this.decisions.clear();
  }

  /**
   * The decision without a promise when it can be had at once (this
   * session's memo, or the classifier's synchronous path), else null. Most
   * statements take this path: no promise, and the client socket is not
   * paused and resumed around each one.
   */
  now(sql: string): SqlDecision | null {
    const memo = this.decisions.get(sql);
    if (memo) return memo;
    if (!this.checkSqlNow) return null;
    let decision: SqlDecision | null;
    try {
      decision = this.checkSqlNow(sql, this.scope, this.opts);
    } catch {
      return UNCHECKABLE;
    }
    if (decision) this.remember(sql, decision);
    return decision;
  }

  private remember(sql: string, decision: SqlDecision): void {
    if (this.decisions.size >= CACHE_LIMIT) this.decisions.clear();
    this.decisions.set(sql, decision);
  }

  /** Classifies; a classifier that throws counts as a refusal (fail closed). */
  async decide(sql: string): Promise<SqlDecision> {
    const cached = this.decisions.get(sql);
    if (cached) return cached;
    const opts = this.opts;
    let decision: SqlDecision;
    try {
      decision = await this.checkSql(sql, this.scope, opts);
    } catch {
      return UNCHECKABLE;
    }
    if (opts === this.opts) this.remember(sql, decision);
    return decision;
  }
}

/** True when the role only reads: the upstream session then also runs read-only, as a second line. */
export function scopeIsReadOnly(scope: SqlScope): boolean {
  return scope.allow.length > 0 && scope.allow.every((c) => c === 'read');
}
