import type { SqlScope } from '../../../src/gateway/postgres/backend.js';
import type { SqlDecision } from '../../../src/gateway/postgres/sql/check.js';

/**
 * A deliberately tiny stand-in for the SQL classifier, injected so these
 * tests exercise the protocol, not classification: read roles may not run
 * statements that start with a write/DDL keyword; anything containing the
 * word `forbidden` is refused for everyone.
 */
const WRITE = /^\s*(insert|update|delete|merge|create|drop|alter|truncate|grant|copy\s+\S+\s+from)\b/i;

export async function toyCheck(sql: string, scope: SqlScope): Promise<SqlDecision> {
  if (/forbidden/i.test(sql)) return { allowed: false, reason: `airlock: role "${scope.role}" may not run this statement (forbidden)` };
  if (!scope.allow.includes('write') && WRITE.test(sql)) {
    return { allowed: false, reason: `airlock: role "${scope.role}" on ${scope.resource} only reads; this statement writes` };
  }
  return { allowed: true, tags: [] };
}
