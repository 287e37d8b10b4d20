import { createHash } from 'node:crypto';
import type { SqlScope } from './backend.js';
import { keptLimitAnswer } from './kept-limits.js';
import type { CatalogFacts } from './sql/catalog-facts.js';
import { type SqlCheckOptions, type SqlDecision, decisionBytes } from './sql/check.js';
import { Lru, stringBytes } from './sql/lru.js';

/** The classifier's signature; injected so the gateway can be tested apart from it. */
export type CheckSql = (sql: string, scope: SqlScope, opts: SqlCheckOptions) => Promise<SqlDecision>;
/** The same classifier without a promise; null when only the async path can answer (parser loading or rebuilt). */
export type CheckSqlNow = (sql: string, scope: SqlScope, opts: SqlCheckOptions) => SqlDecision | null;

/** A classifier that throws counts as a refusal (fail closed). */
const UNCHECKABLE: SqlDecision = { allowed: false, reason: 'airlock: the statement could not be checked, so it was not run' };

/** Default largest statement a session may send (UTF-8 bytes of one Query text or one Parse text). */
export const DEFAULT_MAX_STATEMENT_BYTES = 1024 * 1024;
/** SQLSTATE program_limit_exceeded: what PostgreSQL itself answers when a statement is over a limit. */
const PROGRAM_LIMIT_EXCEEDED = '54000';

const MEMO_ENTRIES = 512;
/** Default bytes one session's memo may hold: with many sessions, per-session memory must stay small. */
export const DEFAULT_MEMO_BYTES = 256 * 1024;
/** Texts longer than this are remembered by their SHA-256, so the memo never holds a large text. */
const MEMO_TEXT_KEY_LENGTH = 2048;

export interface StatementLimits {
  /**
   * Largest statement text, in UTF-8 bytes, this session may send; larger
   * ones are refused before they are parsed (default 1 MiB). The role's
   * `max_statement_bytes` belongs here.
   */
  readonly maxStatementBytes?: number;
  /** Bytes this session's decision memo may hold (default 256 KiB). */
  readonly memoBytes?: number;
}

export interface StatementCheckOptions extends StatementLimits {
  /**
   * The text with its literals masked (sql/literal-shape.ts), or null, when
   * the classifier decides equally for every text of one shape: allowed
   * decisions are then remembered per shape, so a client sending the same
   * query with other numbers (pgbench -S, most ORMs without parameters)
   * skips the classifier and its process-wide caches. Only for the real
   * classifier; an injected one is asked about every text.
   */
  readonly shapeOf?: (sql: string) => string | null;
}

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
 *
 * The memo is bounded by bytes, not only entries: one session sending
 * distinct 9 MB statements once grew the process by the size of each until
 * the heap was exhausted and every session went down.
 */
export class StatementCheck {
  private readonly decisions: Lru<string, SqlDecision>;
  /** Allowed decisions by literal shape (see `shapeOf`); a refusal is remembered by its own text only. */
  private readonly shapes: Lru<string, SqlDecision>;
  private readonly shapeOf: ((sql: string) => string | null) | undefined;
  private opts: SqlCheckOptions;
  readonly maxStatementBytes: number;

  constructor(
    private readonly checkSql: CheckSql,
    private readonly scope: SqlScope,
    upstream: SessionUpstream,
    private readonly checkSqlNow?: CheckSqlNow,
    limits: StatementCheckOptions = {},
  ) {
    // One options object until the search_path changes: the classifier keys its caches on the array's identity.
    this.opts = { searchPath: upstream.searchPath, catalog: upstream.catalog };
    this.maxStatementBytes = limits.maxStatementBytes ?? DEFAULT_MAX_STATEMENT_BYTES;
    const memoBytes = limits.memoBytes ?? DEFAULT_MEMO_BYTES;
    const sizeOf = (key: string, decision: SqlDecision) => stringBytes(key) + decisionBytes(decision);
    // Both memos together stay within the session's budget.
    this.decisions = new Lru(MEMO_ENTRIES, { maxBytes: memoBytes - Math.floor(memoBytes / 4), sizeOf });
    this.shapes = new Lru(MEMO_ENTRIES, { maxBytes: Math.floor(memoBytes / 4), sizeOf });
    this.shapeOf = limits.shapeOf;
  }

  /** A statement the gateway answers itself without forwarding it (kept-limits.ts), or undefined. */
  keptLimit(sql: string): { tag: 'SET'; setting: string } | undefined {
    // Only a SET can be one: most texts are turned away by their first letter, before the pattern runs.
    let i = 0;
    while (i < sql.length && sql.charCodeAt(i) <= 32) i++;
    const c = sql.charCodeAt(i);
    // Not past a non-ASCII character: the pattern's \s also takes Unicode spaces.
    if (c < 128 && (c | 0x20) !== 0x73 /* s */) return undefined;
    return keptLimitAnswer(sql, this.scope);
  }

  /** Estimated bytes the memo holds; for tests and metrics. */
  get memoBytes(): number {
    return this.decisions.heldBytes + this.shapes.heldBytes;
  }

  setSearchPath(searchPath: readonly string[]): void {
    if (searchPath.join('\0') === this.opts.searchPath.join('\0')) return;
    this.opts = { searchPath, catalog: this.opts.catalog };
    this.decisions.clear();
    this.shapes.clear();
  }

  /**
   * The decision without a promise when it can be had at once (this
   * session's memo, the size limit, or the classifier's synchronous path),
   * else null. Most statements take this path: no promise, and the client
   * socket is not paused and resumed around each one.
   */
  now(sql: string): SqlDecision | null {
    const tooLarge = this.overLimit(sql);
    if (tooLarge) return tooLarge;
    // The shape first: a text with one is most often new (other numbers), and a lookup of it by its own text would miss.
    const shape = this.shapeKey(sql);
    if (shape !== null) {
      const byShape = this.shapes.get(shape);
      if (byShape) return byShape;
    }
    const key = memoKey(sql);
    const memo = this.decisions.get(key);
    if (memo) return memo;
    if (!this.checkSqlNow) return null;
    let decision: SqlDecision | null;
    try {
      decision = this.checkSqlNow(sql, this.scope, this.opts);
    } catch {
      return UNCHECKABLE;
    }
    if (decision) this.remember(key, shape, decision);
    return decision;
  }

  /** Classifies; a classifier that throws counts as a refusal (fail closed). */
  async decide(sql: string): Promise<SqlDecision> {
    const tooLarge = this.overLimit(sql);
    if (tooLarge) return tooLarge;
    const shape = this.shapeKey(sql);
    if (shape !== null) {
      const byShape = this.shapes.get(shape);
      if (byShape) return byShape;
    }
    const key = memoKey(sql);
    const cached = this.decisions.get(key);
    if (cached) return cached;
    const opts = this.opts;
    let decision: SqlDecision;
    try {
      decision = await this.checkSql(sql, this.scope, opts);
    } catch {
      return UNCHECKABLE;
    }
    if (opts === this.opts) this.remember(key, shape, decision);
    return decision;
  }

  /** Long texts have no shape here: the memo never holds a large text. */
  private shapeKey(sql: string): string | null {
    return this.shapeOf && sql.length <= MEMO_TEXT_KEY_LENGTH ? this.shapeOf(sql) : null;
  }

  /** An allowed text with a shape is remembered by its shape only: every text of that shape then hits without another entry. */
  private remember(key: string, shape: string | null, decision: SqlDecision): void {
    if (shape !== null && decision.allowed) this.shapes.set(shape, decision);
    else this.decisions.set(key, decision);
  }

  /** A refusal when the text is over the session's size limit; counts UTF-8 bytes only when its length cannot tell it is under. */
  private overLimit(sql: string): SqlDecision | null {
    const max = this.maxStatementBytes;
    // UTF-8 takes 1–3 bytes per UTF-16 unit (a surrogate pair is 4 bytes for 2 units).
    if (sql.length * 3 <= max) return null;
    const bytes = Buffer.byteLength(sql, 'utf8');
    if (bytes <= max) return null;
    return statementTooLarge(`the statement is ${bytes} bytes`, max);
  }
}

/**
 * The refusal of a statement over the role's size (`size` says how big it
 * is): PostgreSQL's own code for a statement over a limit, the limit, and the
 * role setting under which it could run.
 */
export function statementTooLarge(size: string, max: number): Extract<SqlDecision, { allowed: false }> {
  return {
    allowed: false,
    sqlstate: PROGRAM_LIMIT_EXCEEDED,
    reason: `airlock: ${size}, larger than the ${max} bytes this role allows; it was not run (a role whose limits.max_statement is larger can run it)`,
  };
}

function memoKey(sql: string): string {
  // A hashed key starts with NUL, which no short key does: no text can pose as another's hash.
  if (sql.length <= MEMO_TEXT_KEY_LENGTH && sql.charCodeAt(0) !== 0) return sql;
  return `\u0000sha256:${createHash('sha256').update(sql).digest('base64')}`;
}

/** True when the role only reads: the upstream session then also runs read-only, as a second line. */
export function scopeIsReadOnly(scope: SqlScope): boolean {
  return scope.allow.length > 0 && scope.allow.every((c) => c === 'read');
}
