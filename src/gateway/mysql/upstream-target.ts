import type { GrantAccess } from '../kernel/port.js';
import type { SqlScope } from './sql/scope.js';
import type { MysqlUpstreamTarget } from './upstream-login.js';

/** The sql_mode the gateway's lexer and parser assume: backslash escapes, `"` for strings, `||` as OR, no IGNORE_SPACE. */
export const PINNED_SQL_MODE = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

/** The upstream login and the scope of a grant's role. */
export function mysqlTarget(access: GrantAccess): { target: MysqlUpstreamTarget; scope: SqlScope } {
  const { resource, role } = access;
  return {
    target: {
      host: resource.upstream.host,
      port: resource.upstream.port,
      database: resource.upstream.database ?? resource.name,
      user: access.login,
      password: access.password,
      tls: resource.upstream.tls ? { rejectUnauthorized: resource.upstream.tlsVerify !== false, ca: resource.upstream.tlsCa } : false,
    },
    scope: { resource: resource.name, role: role.name, allow: role.allow, tables: role.tables, denyTables: role.denyTables },
  };
}

/**
 * What the gateway runs on the upstream before the client's first statement
 * (and again after COM_RESET_CONNECTION): the sql_mode its parser assumes,
 * the client's character set, and for read roles a read-only session as a
 * second line behind the policy.
 */
export function sessionPinning(charset: string, readOnly: boolean): string[] {
  const statements = [`SET SESSION sql_mode = '${PINNED_SQL_MODE}'`, `SET NAMES ${charset}`];
  if (readOnly) statements.push('SET SESSION TRANSACTION READ ONLY');
  return statements;
}
