import type { SqlLimits } from '../../core/model.js';
import type { GrantAccess } from '../kernel/port.js';
import { READ_ROLE_LIMITS } from '../postgres/backend.js';
import type { SqlScope } from './sql/scope.js';
import type { MysqlUpstreamTarget } from './upstream-login.js';

/** The sql_mode the gateway's lexer and parser assume: backslash escapes, `"` for strings, `||` as OR, no IGNORE_SPACE. */
export const PINNED_SQL_MODE = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

/** The upstream login, the scope of a grant's role and its limits (a read role gets the Postgres gateway's defaults). */
export function mysqlTarget(access: GrantAccess): { target: MysqlUpstreamTarget; scope: SqlScope; limits: SqlLimits } {
  const { resource, role } = access;
  const readOnly = role.allow.every((c) => c === 'read');
  return {
    limits: { ...(readOnly ? READ_ROLE_LIMITS : {}), ...role.limits },
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
 * the client's character set, for read roles a read-only session as a
 * second line behind the policy, and the role's limits. MariaDB has
 * `max_statement_time` (seconds, every statement) and, since 10.3,
 * `idle_transaction_timeout` (it closes the connection of a transaction left
 * idle); MySQL has `max_execution_time` (ms, SELECT only) and no idle
 * transaction timeout. The session may not lift them: SET of these
 * variables is admin-only.
 */
export function sessionPinning(charset: string, readOnly: boolean, limits: SqlLimits = {}, serverVersion = ''): string[] {
  const statements = [`SET SESSION sql_mode = '${PINNED_SQL_MODE}'`, `SET NAMES ${charset}`];
  if (readOnly) statements.push('SET SESSION TRANSACTION READ ONLY');
  const mariadb = /mariadb/i.test(serverVersion);
  const seconds = (n: number) => String(Number(n.toFixed(6)));
  if (limits.statementTimeoutSeconds) {
    statements.push(mariadb ? `SET SESSION max_statement_time = ${seconds(limits.statementTimeoutSeconds)}` : `SET SESSION max_execution_time = ${Math.ceil(limits.statementTimeoutSeconds * 1000)}`);
  }
  if (limits.idleInTransactionTimeoutSeconds && mariadb) statements.push(`SET SESSION idle_transaction_timeout = ${Math.ceil(limits.idleInTransactionTimeoutSeconds)}`);
  return statements;
}
