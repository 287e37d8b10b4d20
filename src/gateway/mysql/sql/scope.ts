/**
 * The scope a SQL role grants, the same shape the Postgres gateway uses
 * (DESIGN.md "Role"); structurally identical so one role config serves both.
 * Patterns are `database.table` with `*` wildcards.
 */
export type StatementClass = 'read' | 'write' | 'ddl' | 'admin';

export interface SqlScope {
  readonly resource: string;
  readonly role: string;
  readonly allow: readonly StatementClass[];
  readonly tables?: readonly string[];
  readonly denyTables?: readonly string[];
}

/** True when the role only reads: the upstream session then also runs READ ONLY, as a second line. */
export function scopeIsReadOnly(scope: SqlScope): boolean {
  return scope.allow.length > 0 && scope.allow.every((c) => c === 'read');
}
