import type { Facts } from './facts.js';
import { type AstNode, constTruthy, isAstNode, listField, stringField, unwrap } from './parse.js';

/**
 * Session and transaction statements. They need no statement class of their
 * own (a write-only role still has to BEGIN and COMMIT) unless they widen
 * what later statements may do: leaving read-only mode, changing role or
 * search_path, or resetting settings the gateway may rely on.
 */

/**
 * Settings that only change how values are presented to this client. Drivers
 * set several on connect (JDBC: extra_float_digits, application_name).
 * Not here on purpose: client_encoding and standard_conforming_strings (they
 * change how the gateway and the server split and read the same bytes),
 * timeouts and memory (a read user must not lift the operator's limits),
 * role, session_authorization, default_transaction_read_only,
 * transaction_read_only, session_replication_role, row_security.
 */
const PRESENTATION_SETTINGS: ReadonlySet<string> = new Set([
  'application_name', 'bytea_output', 'client_min_messages', 'datestyle', 'extra_float_digits',
  'intervalstyle', 'lc_monetary', 'lc_numeric', 'lc_time', 'timezone', 'xmlbinary', 'xmloption',
]);

/**
 * Settings pg_dump and other tools set on connect that change only how this
 * session itself runs, never what it may read or how long it may hold the
 * server (statement_timeout and idle_in_transaction_session_timeout stay
 * refused: they are the operator's limits):
 * - synchronize_seqscans: whether this session's sequential scans start
 *   where a concurrent scan is, which only changes its row order;
 * - lock_timeout: how long this session waits for a lock before giving up;
 *   the wait is still bounded by the role's statement_timeout;
 * - row_security: off makes a query that row-security policies would filter
 *   fail instead, on is the default; neither shows a row the policies hide.
 */
const SESSION_BEHAVIOUR_SETTINGS: ReadonlySet<string> = new Set(['synchronize_seqscans', 'lock_timeout', 'row_security']);

/**
 * restrict_nonsystem_relation_kind forbids this session to expand user views
 * or read foreign tables; pg_dump sets it to 'view, foreign-table'. Only a
 * value that forbids something is allowed: an empty value or a RESET could
 * lift a restriction the operator set for the upstream login.
 */
function onlyRestricts(body: AstNode): boolean {
  if (stringField(body, 'kind') !== 'VAR_SET_VALUE') return false;
  const kinds: string[] = [];
  for (const arg of listField(body, 'args')) {
    const c = unwrap(arg);
    const sval = c !== undefined && c[0] === 'A_Const' && isAstNode(c[1]['sval']) ? c[1]['sval']['sval'] : undefined;
    if (typeof sval !== 'string') return false;
    kinds.push(...sval.split(',').map((k) => k.trim().toLowerCase()));
  }
  return kinds.length > 0 && kinds.every((k) => k === 'view' || k === 'foreign-table');
}

const TRANSACTION_TAGS: Readonly<Record<string, string>> = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'START TRANSACTION',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT',
  TRANS_STMT_RELEASE: 'RELEASE',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK',
};

/** Two-phase commit leaves a prepared transaction holding locks on the server after the session ends. */
const TWO_PHASE_TAGS: Readonly<Record<string, string>> = {
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
};

/** True when a transaction-mode list says READ WRITE. */
function asksReadWrite(options: readonly unknown[]): boolean {
  for (const opt of options) {
    const u = unwrap(opt);
    if (u === undefined || u[0] !== 'DefElem') return true; // unreadable: assume the worst
    if (stringField(u[1], 'defname') === 'transaction_read_only' && constTruthy(u[1]['arg']) !== true) return true;
  }
  return false;
}

export function transactionStatement(body: AstNode, facts: Facts): string {
  const kind = stringField(body, 'kind') ?? '';
  const twoPhase = TWO_PHASE_TAGS[kind];
  if (twoPhase !== undefined) {
    facts.need('admin', twoPhase);
    return twoPhase;
  }
  const tag = TRANSACTION_TAGS[kind];
  if (tag === undefined) {
    facts.need('admin', 'this transaction statement');
    return 'TRANSACTION';
  }
  if ((tag === 'BEGIN' || tag === 'START TRANSACTION') && asksReadWrite(listField(body, 'options'))) {
    facts.need('write', `${tag} READ WRITE`);
  }
  return tag;
}

export function setStatement(body: AstNode, facts: Facts): string {
  const kind = stringField(body, 'kind') ?? '';
  const name = stringField(body, 'name') ?? '';
  const tag = kind === 'VAR_RESET' || kind === 'VAR_RESET_ALL' ? 'RESET' : 'SET';
  if (name === 'search_path' && (kind === 'VAR_RESET' || kind === 'VAR_SET_DEFAULT')) {
    // Back to the path the session started with, the one the gateway read first (pg_dump sends it
    // between its set_config calls). The SET/RESET tag makes the gateway read the path again;
    // a statement checked before it does is checked under the path the gateway knows (set-config.ts).
    return tag;
  }
  if (name === 'search_path') {
    // Unqualified names are resolved against the search_path the gateway was given.
    facts.opaqueNeed('admin', 'search_path', 'search_path');
    return tag;
  }
  if (kind === 'VAR_RESET_ALL') {
    facts.need('admin', 'RESET ALL');
    return tag;
  }
  if (kind === 'VAR_SET_MULTI') {
    if (name === 'TRANSACTION') {
      if (asksReadWrite(listField(body, 'args'))) facts.need('write', 'SET TRANSACTION READ WRITE');
      return tag;
    }
    if (name === 'TRANSACTION SNAPSHOT') return tag;
    facts.need('admin', `SET ${name}`);
    return tag;
  }
  const setting = name.toLowerCase();
  if (setting === 'restrict_nonsystem_relation_kind' && onlyRestricts(body)) return tag;
  if (!PRESENTATION_SETTINGS.has(setting) && !SESSION_BEHAVIOUR_SETTINGS.has(setting)) facts.need('admin', `${tag} ${name}`);
  return tag;
}

export function discardStatement(body: AstNode, facts: Facts): string {
  // DISCARD ALL includes RESET ALL and SET SESSION AUTHORIZATION DEFAULT; PLANS/SEQUENCES/TEMP only drop caches and own temp objects.
  if (stringField(body, 'target') === 'DISCARD_ALL') facts.need('admin', 'DISCARD ALL');
  return 'DISCARD';
}
