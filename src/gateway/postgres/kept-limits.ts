import type { SqlScope } from './backend.js';

/**
 * `SET statement_timeout = 0` and `SET idle_in_transaction_session_timeout
 * = 0`, which pg_dump (and pg_restore, and some migration tools) send on
 * connect to lift the server's limits. A role without `admin` may not lift
 * the limits its resource pins, and refusing the statement stops the tool
 * before it starts; so the gateway answers `SET` itself and forwards nothing:
 * the limit stays in force (`SHOW` still reports it), the audit records the
 * statement as answered by the gateway. Only the whole text of one such
 * statement qualifies (no comments, no second statement); anything else goes
 * to the SQL policy as before.
 */
const LIFT_LIMIT = /^\s*set\s+(?:session\s+)?(statement_timeout|idle_in_transaction_session_timeout)\s*(?:=|to)\s*(?:0|'0')\s*;?\s*$/i;

/** The command tag to answer with when `text` is such a statement and the role may not lift limits; else undefined. */
export function keptLimitAnswer(text: string, scope: Pick<SqlScope, 'allow'>): { tag: 'SET'; setting: string } | undefined {
  if (scope.allow.includes('admin') || text.length > 100) return undefined;
  const m = LIFT_LIMIT.exec(text);
  return m ? { tag: 'SET', setting: m[1]!.toLowerCase() } : undefined;
}
