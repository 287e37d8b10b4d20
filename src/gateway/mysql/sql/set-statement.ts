import type { Needs } from './needs.js';
import { sqlModeRefusal } from './sql-mode.js';
import { identValue, objectNameParts } from './walk.js';

/**
 * `SET` in all its forms. User variables (`@x`) are the session's own and
 * only their value expression is judged. Session variables are an
 * allow-list; among the rest, those that change how the server reads the
 * next statement's text (sql_mode, the client character set) are refused to
 * every role, since the gateway pins them so its parser reads what the
 * server reads. `SET GLOBAL` / `PERSIST` reach other sessions: admin only.
 * Turning the transaction read-write needs the write class (read roles run
 * upstream with `SET SESSION TRANSACTION READ ONLY` as a second line). The
 * role's limits (max_statement_time, max_execution_time,
 * idle_transaction_timeout) are off the allow-list: only an admin lifts them.
 */

/** Character sets in which a quote or backslash byte is never part of a multi-byte character. */
export const SAFE_CHARSETS: ReadonlySet<string> = new Set(['utf8mb4', 'utf8mb3', 'utf8', 'latin1', 'ascii', 'binary']);

const PINNED: ReadonlySet<string> = new Set([
  'sql_mode',
  'character_set_client',
  'character_set_connection',
  'collation_connection',
  'character_set_database',
  'names',
  'old_mode',
]);

const READ_ONLY_SWITCHES: ReadonlySet<string> = new Set(['transaction_read_only', 'tx_read_only']);

const SAFE_SESSION: ReadonlySet<string> = new Set([
  'autocommit',
  'time_zone',
  'transaction_isolation',
  'tx_isolation',
  'sql_select_limit',
  'group_concat_max_len',
  'net_read_timeout',
  'net_write_timeout',
  'wait_timeout',
  'interactive_timeout',
  'character_set_results',
  'lc_time_names',
  'div_precision_increment',
  'sql_notes',
  'sql_warnings',
  'sql_safe_updates',
  'sql_big_selects',
  'max_join_size',
  'big_tables',
  'session_track_schema',
  'session_track_state_change',
  'session_track_transaction_info',
  'profiling',
  'profiling_history_size',
]);

type AstObject = Record<string, unknown>;
const isObject = (v: unknown): v is AstObject => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Assignment {
  readonly parts: readonly string[];
  readonly scope: unknown;
  readonly values: unknown;
}

export function judgeSet(body: unknown, needs: Needs): void {
  if (!isObject(body)) return needs.needOpaque('SET');
  const [variant, value] = Object.entries(body)[0] ?? [];
  if (!isObject(value)) return needs.needOpaque('SET');
  switch (variant) {
    case 'SingleAssignment': {
      const parts = objectNameParts(value['variable']);
      if (!parts) return needs.needOpaque('SET');
      return judgeAssignment({ parts, scope: value['scope'], values: value['values'] }, needs);
    }
    case 'MultipleAssignments': {
      const list = value['assignments'];
      if (!Array.isArray(list)) return needs.needOpaque('SET');
      for (const a of list) {
        const parts = isObject(a) ? objectNameParts(a['name']) : undefined;
        if (!parts || !isObject(a)) return needs.needOpaque('SET');
        judgeAssignment({ parts, scope: a['scope'] ?? value['scope'], values: a['value'] }, needs);
      }
      return;
    }
    case 'SetNames': {
      const charset = identValue(value['charset_name'])?.toLowerCase();
      if (charset === undefined || !SAFE_CHARSETS.has(charset)) {
        return needs.refuse(`SET NAMES ${charset ?? ''}: airlock pins a character set in which it reads statements as the server does (one of ${[...SAFE_CHARSETS].join(', ')})`);
      }
      needs.charset = charset;
      return;
    }
    case 'SetTransaction': {
      const modes = JSON.stringify(value['modes'] ?? []);
      if (modes.includes('ReadWrite')) needs.need('write', 'SET TRANSACTION READ WRITE');
      return;
    }
    case 'SetTimeZone':
      needs.walker.walk(value['value']);
      return;
    default:
      return needs.needOpaque(`SET (${variant ?? 'unknown form'})`);
  }
}

function judgeAssignment(a: Assignment, needs: Needs): void {
  let parts = [...a.parts];
  let global = a.scope === 'Global' || a.scope === 'Persist' || a.scope === 'PersistOnly';
  const first = parts[0]!.toLowerCase();
  if (first === '@@global' || first === '@@persist' || first === '@@persist_only') {
    global = true;
    parts = parts.slice(1);
  } else if (first === '@@session' || first === '@@local') {
    parts = parts.slice(1);
  }
  if (parts.length !== 1) return needs.needOpaque(`SET ${a.parts.join('.')}`);
  let name = parts[0]!;
  if (name.startsWith('@@')) name = name.slice(2);
  else if (name.startsWith('@')) {
    // A user variable: the session's own; only what the value reads is judged.
    walkValues(a.values, needs);
    return;
  }
  const variable = name.toLowerCase();
  walkValues(a.values, needs);
  if (variable === 'sql_mode' && !global) {
    // Strictness and date modes only (sql-mode.ts): drivers set them at connect.
    const why = sqlModeRefusal(a.values);
    if (why !== undefined) needs.refuse(why);
    return;
  }
  if (PINNED.has(variable)) {
    return needs.refuse(`SET ${variable}: airlock pins it so that it reads each statement as the server does`);
  }
  if (global) return needs.needOpaque(`SET GLOBAL ${variable}`);
  if (READ_ONLY_SWITCHES.has(variable)) return needs.need('write', `SET ${variable}`);
  if (!SAFE_SESSION.has(variable)) needs.needOpaque(`SET ${variable}`);
}

/** Each value on its own: a list of bare words (`ON`) must not read as a qualified table name. */
function walkValues(values: unknown, needs: Needs): void {
  for (const v of Array.isArray(values) ? values : [values]) needs.walker.walk(v);
}
