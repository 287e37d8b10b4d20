import type { SqlLimits, StatementClass } from '../../core/model.js';
import type { GrantAccess } from '../kernel/port.js';

/**
 * What the Postgres adapter makes of a grant's role: where to log in
 * upstream, and the SQL scope every statement is checked against.
 */

export type { StatementClass };

/** The scope a SQL role grants (DESIGN.md "Role"). Patterns are `schema.table` with `*` wildcards. */
export interface SqlScope {
  readonly resource: string;
  readonly role: string;
  readonly allow: readonly StatementClass[];
  readonly tables?: readonly string[];
  readonly denyTables?: readonly string[];
}

export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Never logged, never echoed in an error, never put in an audit record. */
  readonly password?: string;
  readonly tls?: false | { readonly rejectUnauthorized: boolean; readonly ca?: string };
}

/**
 * A read role that names no limits still may not hold production: a
 * forgotten `BEGIN` would otherwise block DDL and VACUUM FULL for the grant's
 * whole life. Roles that can write choose their own.
 */
export const READ_ROLE_LIMITS: SqlLimits = { statementTimeoutSeconds: 300, idleInTransactionTimeoutSeconds: 60 };

export function postgresTarget(access: GrantAccess): { target: UpstreamTarget; scope: SqlScope; limits: SqlLimits } {
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
